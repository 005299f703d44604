"""Markdown tables of results (the README, the book's chapters and its Results appendix):
speed, time to an accuracy, several devices, where it runs; and mean ± std of
accuracies.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..metrics import GROUPS, group_label
from .curves import median_time_to_accuracy, time_to_accuracy

__all__ = [
    "time_table", "run_machine", "MACHINE_FIELDS", "run_processor", "run_cores", "where_it_runs", "distributed_table",
    "speed_table", "levers_table", "gradients_table", "uniform_pull_table", "mean_std"
]


def speed_table(result: dict) -> str:
    """The Markdown table of a ``benchmarks/step_speed.py`` result (README and chapter 7 show it).

    One row per timed train step: seconds per step of 1000 pairs (median of the
    interleaved rounds), images through the network per second, achieved
    GFLOP/s and the speed-up over the article's published code in the same run.
    """
    lines = ["| train step, 1000 pairs | s/step | images/s | GFLOP/s | vs the article's code |",
             "|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['step']} | {r['s_per_step']:.3f} | {r['images_per_s']:.0f} "
                     f"| {r['gflop_per_s']:.0f} | {r['speedup_vs_article_code']:.2f}x |")
    return "\n".join(lines)


def levers_table(results: list[dict]) -> str:
    """The Markdown table of ``benchmarks/fp32_levers.py`` results (the engineering notes show it).

    One row per timed fp32 step and result (each result is one oneDNN ISA cap, in
    interleaved rounds): seconds per step (median of the rounds), the speed-up
    over the baseline of its run (oneDNN on, the first thread count) and over the
    article's code in the same settings (medians of per-round ratios), and for the
    ``long_band`` rows one evaluation in seconds and its share of a run that
    evaluates every 100 or 500 steps.
    """
    lines = ["| oneDNN capped at | train step (fp32) | s/step | vs oneDNN, fewest threads "
             "| vs the article's code | one evaluation | its share at every 100 / 500 steps |",
             "|---|---|---|---|---|---|---|"]
    for result in results:
        cap = result.get("isa_cap") or "no cap"
        for r in result["rows"]:
            ev = ("—", "—")
            if "evaluation_s" in r:
                share = r["evaluation_share_at_eval_every"]
                ev = (f"{r['evaluation_s']:.1f} s",
                      f"{100 * share['100']:.1f} % / {100 * share['500']:.1f} %")
            lines.append(f"| {cap} | {r['step']} | {r['s_per_step']:.2f} | {r['speedup_vs_baseline']:.2f}x "
                         f"| {r['speedup_vs_article_code_same_settings']:.2f}x | {ev[0]} | {ev[1]} |")
    return "\n".join(lines)


def uniform_pull_table(result: dict) -> str:
    """The Markdown table of a ``benchmarks/uniform_pull.py`` result (chapter 11 shows it).

    One row per finished run as it ended (its recipe's alpha / alpha_over), then one
    per scoring of each arm (alpha / alpha_over, steps trained on): accuracy on all
    70k images and on the dev split in %, the errors on all 70k, the nines in the
    eights' cluster, the ones in the twos', the sevens in other clusters, and the
    size of the ones' cluster beside the number of ones (``digit_counts[1]``).
    """
    ones = result["digit_counts"][1]
    groups = " | ".join(group_label(g) for g in GROUPS)
    lines = [f"| run | alpha | steps on | all 70k | dev | errors | {groups} "
             f"| 7s elsewhere | ones' cluster ({ones} ones) |",
             "|---" * (8 + len(GROUPS)) + "|"]

    def row(name: str, alpha: str, steps: str, r: dict) -> str:
        counts = " | ".join(str(r[g]) for g in GROUPS)
        return (f"| {name} | {alpha} | {steps} | {100 * r['all70k_accuracy']:.2f} | "
                f"{100 * r['dev_accuracy']:.2f} | {r['errors']} | {counts} | "
                f"{r['sevens_elsewhere']} | {r['cluster_sizes'][1]} |")

    for name, run in result["runs"].items():
        start = run["start"]
        lines.append(row(name, "/".join(f"{a:g}" for a in run["recipe_alpha"]), "as it ended", start))
        for arm in run["arms"]:
            for r in arm["scores"]:
                lines.append(row("", f"{arm['alpha']:g}/{arm['alpha_over']:g}",
                                 f"+{r['step'] - start['step']}", r))
    return "\n".join(lines)


def crossed_sevens_table(result: dict, steps: tuple[int, ...] = (1000, 2000)) -> str:
    """The Markdown table of a ``benchmarks/crossed_sevens.py`` result (chapter 11 shows it).

    One row per arm (the band's probability, with the rows its centre is drawn from where
    they are not the default's and "no erasing" for views without random erasing, the
    images trained on, the precision): at
    each of ``steps`` and at their last evaluation, how many of its runs that got that far
    had lost their crossed sevens (more than ``result["group"]`` test sevens in one other
    digit's cluster, and no other digit's mistake that large), and, in brackets, how many
    had mixed other digits (another digit's mistake above that: early in training, or a
    trunk that went wrong); then their mean ± std test accuracy at the last of ``steps``
    and the runs by name.
    """
    from iic_tutorial.augment import AugmentConfig

    default_rows = AugmentConfig().band_rows
    arms: dict[tuple, list[dict]] = {}
    for name, run in result["runs"].items():
        images = run["trained_on"].split(" (")[0]  # "all" or "train" (--train-on)
        rows = tuple(run.get("band_rows", default_rows))  # read before the knob: the default
        band = f"{run['band']:g}" + ("" if rows == default_rows else
                                      f", rows {rows[0]:g}-{rows[1]:g}")
        band += ", no erasing" if run.get("erase") == 0 else ""  # an entry without it: as read
        arms.setdefault((band, images, run["precision"]), []).append({**run, "name": name})
    last = steps[-1]
    lines = ["| band | trained on | precision | " + " | ".join(f"lost at step {s}" for s in steps)
             + f" | lost at the end | test at step {last} | runs |",
             "|---|---|---|" + "---|" * (len(steps) + 3)]

    def at(run: dict, step: int) -> dict | None:
        return next((e for e in run["evals"] if e["step"] == step), None)

    def lost(runs: list[dict], pick) -> str:
        evals = [e for e in map(pick, runs) if e is not None]
        mixed = sum(e["other"] > result["group"] for e in evals)
        sevens = sum(e["sevens"] > result["group"] >= e["other"] for e in evals)
        return f"{sevens} of {len(evals)}" + (f" ({mixed} mixed)" if mixed else "")

    for (band, images, precision), runs in sorted(arms.items(), key=lambda a: (a[0][1] != "all", *a[0])):
        cells = [lost(runs, lambda r, s=s: at(r, s)) for s in steps]
        cells.append(lost(runs, lambda r: r["evals"][-1]))
        accuracy = [at(r, last)["test_accuracy"] for r in runs if at(r, last) is not None]
        cells.append(mean_std(accuracy) if accuracy else "—")
        names = ", ".join(r["name"] for r in runs)
        lines.append(f"| {band} | {images} | {precision} | " + " | ".join(cells) + f" | {names} |")
    return "\n".join(lines)


def gradients_table(result: dict) -> str:
    """The Markdown table of a ``benchmarks/precision_gradients.py`` result.

    One row per network: the size of the reference gradient (fp32 network, P in
    float64) and, for each other way of computing the step, its mean relative
    distance to the reference over the batches, ||g - g_ref|| / ||g_ref||, in %.
    """
    ways = [k for k, v in result["rows"][0].items() if isinstance(v, dict)]
    lines = ["| network | batches | " + " | ".join(ways) + " |", "|---|---|" + "---|" * len(ways)]
    networks: dict[str, list[dict]] = {}
    for row in result["rows"]:
        networks.setdefault(row["network"], []).append(row)
    for name, rows in networks.items():
        cells = []
        for way in ways:
            d = sum(r[way]["relative_distance"] for r in rows) / len(rows)
            cells.append(f"{100 * d:.4f} %" if d < 1e-3 else f"{100 * d:.1f} %")
        lines.append(f"| {name} | {len(rows)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def time_table(runs: list[dict], levels: tuple[float, ...] = (0.975, 0.985, 0.99)) -> str:
    """A plain-text table of each run's time to every accuracy level, and their median.

    One row per run (its name, final test accuracy, training minutes, then the
    minutes of training until it first reached each level, "never" if it did
    not), and a last row of :func:`median_time_to_accuracy` per level ("—"
    where fewer than half the runs got there). Chapter 11 prints it.
    """
    head = f"{'run':<22}{'end':>7}{'train':>9}" + "".join(f"{f'{100 * t:g} %':>10}" for t in levels)
    rows = [head]

    def minutes(seconds, missing):
        return f"{missing if seconds is None else f'{seconds / 60:.1f} min':>10}"

    for r in runs:
        rows.append(f"{r['name']:<22}{100 * r['test_accuracy']:>7.2f}{r['wall_time_s'] / 60:>5.0f} min"
                    + "".join(minutes(time_to_accuracy(r["curve"], t), "never") for t in levels))
    rows.append(f"{'median':<38}" + "".join(minutes(median_time_to_accuracy(runs, t), "—")
                                            for t in levels))
    return "\n".join(rows)


def distributed_table(result: dict) -> str:
    """The Markdown table of ``benchmarks/distributed.py``'s result (README and chapter 7).

    Per replica count: how far one step under MirroredStrategy is from the
    same step on one device -- loss difference (nats) and largest relative
    gradient difference -- with synchronized BatchNorm (float64: the method
    alone; float32) and with BatchNorm on each replica's share; and how far
    the naive mean of per-replica IIC losses is from the global-batch loss.
    """
    rows = ["| replicas | global P, sync. BN, float64 | the same, float32 | global P, BN per "
            "replica, float32 | naive mean of replica losses − global loss |",
            "|---|---|---|---|---|"]
    naive = next((r["naive_minus_global"] for r in result["replicas"].values()
                  if "naive_minus_global" in r), {})
    for n, r in sorted(result["replicas"].items(), key=lambda item: int(item[0])):
        cells = [f"loss {d['loss_diff']:.1e}, gradients {d['gradient_rel_diff']:.1e}"
                 for d in (r["step"]["float64"], r["step"]["float32"], r["per_replica_batchnorm"])]
        gap = f"{naive[n]:+.4f} nats" if n in naive else "—"
        rows.append(f"| {n} | " + " | ".join(cells) + f" | {gap} |")
    return "\n".join(rows)


#: The fields of :func:`iic_tutorial.runs.machine`, the form every new result records.
MACHINE_FIELDS = ("cpu", "cores", "usable_cores", "tf_threads", "onednn_max_cpu_isa", "gpus")


def run_machine(result: dict) -> dict:
    """What ran a result, as the fields of :func:`iic_tutorial.runs.machine` (:data:`MACHINE_FIELDS`).

    A result records them in ``machine``. Results made before that hold only the
    ``hardware`` sentence of :func:`iic_tutorial.runs.hardware` ("CPU only, 1 of 2
    cores, 1 TensorFlow thread(s), x86_64, AMD EPYC (family 26, ...)" or "1 GPU(s):
    Tesla T4"); this is the one place that reads the sentence back. What it does
    not say is None: the oldest name no processor (``cpu``), none names
    ``onednn_max_cpu_isa``.
    """
    if result.get("machine"):
        return result["machine"]
    fields: dict = dict.fromkeys(MACHINE_FIELDS)
    fields["gpus"] = []
    text = result.get("hardware", "").split(" [", 1)[0]  # some carry a note added by hand
    if not text.startswith("CPU only"):  # "N GPU(s): name, name"
        names = text.split(": ", 1)[1] if ": " in text else ""
        fields["gpus"] = names.split(", ") if names else []
        return fields
    parts = text.split(", ")
    numbers = [int(word) for word in parts[1].split() if word.isdigit()]  # "2 cores", "1 of 2 cores"
    fields["usable_cores"], fields["cores"] = numbers[0], numbers[-1]
    threads = [part.split()[0] for part in parts if part.endswith("TensorFlow thread(s)")]
    fields["tf_threads"] = threads[0] if threads else None
    named = [part for part in parts[2:] if "(family" in part or part.startswith(("Intel", "AMD"))]
    fields["cpu"] = text[text.index(named[0]):] if named else None
    return fields


def run_processor(result: dict) -> str:
    """The processor a result ran on (:func:`run_machine`): its CPU, "an unnamed CPU", or its GPUs."""
    machine = run_machine(result)
    if machine["gpus"]:
        return ", ".join(machine["gpus"])
    return machine["cpu"] or "an unnamed CPU"


def run_cores(result: dict) -> str:
    """The cores a result trained on (:func:`run_machine`): "2 cores" or "1 of 2 cores" (GPUs: "GPU")."""
    machine = run_machine(result)
    if machine["gpus"]:
        return "GPU"
    usable, total = machine["usable_cores"], machine["cores"]
    return f"{total} cores" if usable == total else f"{usable} of {total} cores"


def where_it_runs(runs: list[dict], recipes: Sequence[str] = ("long_band", "long_band_sub5"),
                  steps: int = 4000) -> str:
    """The Markdown table of how fast each of ``recipes`` trains on each machine its runs had.

    ``runs``: collected results. A run counts for a recipe when its settings are
    the recipe's (any seed and precision; the name it was started under aside, so
    ``--recipe long_band --subheads 5`` counts as ``long_band_sub5``) and it trained
    ``steps`` steps on all 70k images. One row per recipe, processor, cores and
    precision: seeds, seconds per training step (median), and the median time
    over seeds to 97.5 % and to 99 % test accuracy (:func:`median_time_to_accuracy`;
    "—" where fewer than half got there). Wall times count training only.
    """
    import statistics

    from ..training.config import TrainConfig

    targets = [TrainConfig.named(name) for name in recipes]
    rows: dict[tuple, list[dict]] = {}
    for r in runs:
        try:
            config = TrainConfig.from_dict(r["config"])
        except (KeyError, TypeError, ValueError):
            continue
        name = next((n for n, t in zip(recipes, targets)
                     if t.same_settings(config, ignore=("seed", "precision"))), None)
        if (name is None or r.get("steps") != steps
                or not str(r.get("trained_on", "all")).startswith("all")):
            continue
        key = (recipes.index(name), run_processor(r), run_cores(r), r.get("precision", "fp32"))
        rows.setdefault(key, []).append(r)
    lines = ["| recipe | processor | cores | precision | seeds | s / step | to 97.5 % | to 99 % |",
             "|---|---|---|---|---|---|---|---|"]

    def minutes(seconds):
        return "—" if seconds is None else f"{seconds / 60:.1f} min"

    for (i, cpu, cores, precision), group in sorted(rows.items()):
        per_step = statistics.median(r["wall_time_s"] / r["steps"] for r in group)
        lines.append(f"| `{recipes[i]}` | {cpu} | {cores} | {precision} | {len(group)} "
                     f"| {per_step:.2f} | {minutes(median_time_to_accuracy(group, 0.975))} "
                     f"| {minutes(median_time_to_accuracy(group, 0.99))} |")
    return "\n".join(lines)


def mean_std(values, digits: int | None = None) -> str:
    """'mean ± std' in percent (sample std, n - 1), or the single value when n = 1.

    values: fractions (0.97 -> "97.00 %"); ``digits`` after the point (default:
    2 for a mean over seeds, 1 for a single value).
    """
    import numpy as np

    v = 100 * np.asarray(values, dtype=float)
    if len(v) == 1:
        return f"{v[0]:.{1 if digits is None else digits}f} %"
    d = 2 if digits is None else digits
    return f"{v.mean():.{d}f} ± {v.std(ddof=1):.{d}f} %"
