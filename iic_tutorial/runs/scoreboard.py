"""The scoreboard and the bottom line: the experiments they show with their descriptions,
the figures the article and the paper report, and the two Markdown tables that set
this project's runs beside them.
"""

from __future__ import annotations

from .. import experiments
from .tables import mean_std

__all__ = [
    "scoreboard", "HEADLINE", "IDEAS", "REPORTED", "bottom_line", "BOTTOM_LINE_RECIPES",
    "BOTTOM_LINE_ROWS", "PROTOCOLS"
]


#: The experiments of the scoreboard, in its order, with their description: the entries of
#: ``iic_tutorial.experiments.EXPERIMENTS`` marked ``headline`` (as they were at import).
HEADLINE = experiments.headline()


#: The ideas past the plateau, each alone against the fast model's recipe in the same
#: numerics, 3 seeds each: (experiment name, label), the entries of
#: ``iic_tutorial.experiments.EXPERIMENTS`` with an ``idea``. Chapter 11.
IDEAS = experiments.ideas()


#: Figures quoted from the article and the paper (not measured here).
REPORTED = (
    ("article (reported)", "plain IIC, alpha = 1, article recipe, ~100 epochs", "≈ 85 %"),
    ("article (reported)", "alpha = 10, article recipe, ~100 epochs, its best evaluation "
     "during training", "97.5 %"),
    ("paper (reported)", "official code, 5 sub-heads, lowest loss, trained and scored on all "
     "70k images", "99.2 %"),
)


def scoreboard(runs: list[dict], shipped: dict[str, dict] | None = None) -> str:
    """The Markdown scoreboard: the article's and the paper's figures beside this project's runs.

    ``runs``: collected results (``iic_tutorial.pretrained.experiment_results()``);
    one row per experiment of the scoreboard (:data:`HEADLINE`) that has runs -- mean ± std of the
    final test and all-70k accuracy over its seeds, its steps and mean wall time --
    then the shipped models (``shipped``: name -> ``pretrained_info(name)``, one row
    each) and the best run.
    The README (``benchmarks/collect.py``) and chapter 9 print it.
    """
    import numpy as np

    from ..pretrained import DEFAULT, experiment_groups

    rows = ["| source | setting | accuracy |", "|---|---|---|"]
    rows += [f"| {who} | {what} | {acc} |" for who, what, acc in REPORTED]
    found = experiment_groups(runs)
    for name, label in experiments.headline():
        group = found.get(name)
        if not group:
            continue
        steps = "/".join(str(s) for s in sorted({r["steps"] for r in group}))
        minutes = np.mean([r["wall_time_s"] for r in group]) / 60
        rows.append(f"| ours | {label}, {steps} steps ({minutes:.0f} min), {len(group)} seed(s) "
                    f"| {mean_std([r['test_accuracy'] for r in group])} test, "
                    f"{mean_std([r['all70k_accuracy'] for r in group])} all 70k |")
    for name, info in (shipped or {}).items():
        call = "load_pretrained()" if name == DEFAULT else f'load_pretrained("{name}")'
        rows.append(f"| ours | shipped model (`{call}`, run {info['run']}, chosen "
                    f"without labels), inference mode | {100 * info['test_accuracy']:.2f} % "
                    f"test, {100 * info['all70k_accuracy']:.2f} % all 70k |")
    if runs:
        best = max(runs, key=lambda r: r["test_accuracy"])
        rows.append(f"| ours | highest final test accuracy of any run ({best['name']}) "
                    f"| {100 * best['test_accuracy']:.2f} % |")
    return "\n".join(rows)


#: The recipes of the bottom line: (key, its name in the box, the experiments whose runs
#: are its seeds). Repeats of the same networks (``long_band2c_epyc``) are not seeds.
#: A new recipe that beats the best over its seeds on the dev split takes the "best" entry:
#: ``long_band_late`` took it from ``long_band`` (whose runs predate the dev split) by
#: beating ``long_band_sub5`` there, seed for seed (chapter 11 prints both);
#: ``long_band_sub5_late`` trained its settings before the recipe had its name.
BOTTOM_LINE_RECIPES = (
    ("article", "our reading of the article's recipe",
     ("article100_a1", "article100_a10", "article20_a1", "article20_a10")),
    ("fast", "the fast recipe (`fast`)", ("final",)),
    ("best", "the best recipe (`long_band_late`), over its seeds",
     ("long_band_sub5_late", "long_band_late", "long_band_late_fp32")),
)


#: Its held-out runs (trained on the 60k training images only).
BOTTOM_LINE_HELDOUT = ("heldout_long_band_late",)


#: How the first cell of each of the box's rows begins, in order (the browser test looks for them).
BOTTOM_LINE_ROWS = ("the article (as reported)", "our reading of the article's recipe",
                    "the fast recipe", "the best recipe", "the shipped model",
                    "the paper (as reported")


#: What the words of the protocol column mean.
PROTOCOLS = {
    "all-70k": "trained on all 70k MNIST images without labels, scored on the 10k test "
               "images and on all 70k (the paper's protocol)",
    "held-out": "trained on the 60k training images only, scored on the 10k test images",
    "dev split": "`iic_tutorial.data.dev_indices()`: the training images (0, 1), (24, 25), ..., "
                 "5000 from both of MNIST's writer groups, whose labels choices may read",
}


def _runs_of(groups: dict, names) -> list[dict]:
    return [r for name in names for r in groups.get(name, [])]


def _span(values) -> str:
    import numpy as np

    v = 100 * np.asarray(values, dtype=float)
    return f"{v.min():.2f} %" if len(v) == 1 else f"{v.min():.2f} to {v.max():.2f} %"


def _over_seeds(runs: list[dict], key: str) -> str:
    """'mean ± std (n seeds, lowest to highest)', split by precision where runs differ in it."""
    by: dict[str, list[dict]] = {}
    for r in runs:
        by.setdefault(r.get("precision") or r["config"].get("precision") or "fp32", []).append(r)  # what ran
    parts = []
    for precision, rs in by.items():
        v = [r[key] for r in rs]
        text = f"{mean_std(v)} ({len(v)} seeds, {_span(v)})" if len(v) > 1 else f"{mean_std(v, 2)} (1 seed)"
        parts.append(f"{precision}: {text}" if len(by) > 1 else text)
    return "; ".join(parts)


def bottom_line(runs: list[dict], shipped: dict | None = None) -> str:
    """The book's bottom line: at most six rows, the article and the paper beside this project.

    ``runs``: collected results (``iic_tutorial.pretrained.experiment_results()``);
    ``shipped``: ``pretrained_info()`` of the default shipped model. Rows: the article
    (as reported), our reading of its recipe, the fast recipe, the best recipe over
    its seeds (:data:`BOTTOM_LINE_RECIPES`), the shipped model, the paper; the
    protocol column uses the words of :data:`PROTOCOLS`. Then how the recipes were
    chosen and the highest accuracy of any run on each protocol. The README, the
    book's introduction and chapter 11 show exactly this text.
    """
    from ..pretrained import experiment_groups

    groups = experiment_groups(runs)
    rows = ["| | protocol | 10k test images | all 70k images |", "|---|---|---|---|",
            "| the article (as reported) | not stated; about 100 epochs | "
            "≈ 85 % (alpha = 1); 97.5 % (alpha = 10, its best evaluation during "
            "training, not the final one) | — |"]
    recipes = {key: (label, _runs_of(groups, names)) for key, label, names in BOTTOM_LINE_RECIPES}
    label, article = recipes["article"]
    if article:
        cells = []
        for alpha in (1, 10):
            rs = [r for r in article if r["config"]["alpha"] == alpha]
            if rs:
                epochs = "/".join(f"{e:.0f}" for e in sorted({round(r["epochs"]) for r in rs}))
                cells.append(f"alpha = {alpha}: {_span([r['test_accuracy'] for r in rs])} "
                             f"({len(rs)} seeds, {epochs} epochs)")
        rows.append(f"| {label} | held-out | {'; '.join(cells)} | — |")
    for key in ("fast", "best"):
        label, rs = recipes[key]
        if not rs:
            continue
        test = _over_seeds(rs, "test_accuracy")
        protocol = "all-70k"
        held = _runs_of(groups, BOTTOM_LINE_HELDOUT) if key == "best" else []
        if held:
            test += f"; held-out: {_over_seeds(held, 'test_accuracy')}"
            protocol = "all-70k; held-out where said"
        rows.append(f"| {label} | {protocol} | {test} | {_over_seeds(rs, 'all70k_accuracy')} |")
    if shipped:
        rows.append(f"| the shipped model (`load_pretrained()`, run {shipped['run']}, chosen "
                    f"without labels) | all-70k | {100 * shipped['test_accuracy']:.2f} % "
                    f"| {100 * shipped['all70k_accuracy']:.2f} % |")
    rows.append("| the paper (as reported; official code, 5 sub-heads) | all-70k | — | "
                "99.2 % (the lowest-loss sub-head); 98.4 ± 0.65 % (mean over sub-heads) |")
    on_all = [r for r in runs if str(r.get("trained_on", "all")).startswith("all")]
    notes = ["Protocols: " + "; ".join(f"**{k}** = {v}" for k, v in PROTOCOLS.items()) + "."]
    if on_all:
        top_all = max(on_all, key=lambda r: r["all70k_accuracy"])
        top_test = max(runs, key=lambda r: r["test_accuracy"])
        notes.append(f"The highest final accuracy of any of the {len(runs)} runs: "
                     f"{100 * top_all['all70k_accuracy']:.2f} % on all 70k ({top_all['name']}), "
                     f"{100 * top_test['test_accuracy']:.2f} % on the 10k test images "
                     f"({top_test['name']}).")
        if max(top_all["all70k_accuracy"], top_test["test_accuracy"]) < 0.992:
            notes[-1] += " No run reaches the paper's 99.2 % on either protocol."
    notes.append("How the recipes were chosen: every choice behind them (alpha = 2, the view, "
                 "the band, the length) was made by reading accuracy on the test labels, and "
                 "the band was designed from the test sevens the fast model got wrong, so "
                 "their test figures are optimistic; new choices read only the dev split's "
                 "labels, and the test labels only score.")
    return "\n".join(rows) + "\n\n" + "\n\n".join(notes)
