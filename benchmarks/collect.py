"""Publish finished training runs into the package and regenerate every table made from them.

    python benchmarks/collect.py runs/NAME [runs/NAME ...]   # publish runs, then the tables
    python benchmarks/collect.py --table                      # the tables only (make results)

A run's result is written once, to ``iic_tutorial/pretrained/runs/NAME.json``: package
data, which ``iic_tutorial.pretrained.experiment_results()`` reads (in Colab too); its
curve is drawn to ``results/curves/NAME.png`` for browsing. Every generated block is
then rewritten from the package's results, through ``runs.replace_between_markers``:
the bottom line (``iic_tutorial.runs.bottom_line``) between the ``bottom-line``
markers of the README and of the book's introduction, the README's ``where-it-runs``
table, and the book's Results appendix (``book/results.md``, written whole). Nothing
else writes them, so running it twice changes nothing the second time.

Each run folder comes from ``python -m iic_tutorial train --out runs/NAME`` (or
benchmarks/run.py); its ``result.json`` holds the command, revision, hardware, settings,
wall time and per-evaluation curve. Numbers in the README come only from these files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from iic_tutorial import _import_tensorflow_quietly
from iic_tutorial.runs import (THRESHOLDS, atomic_write_text, bottom_line, finished_result, mean_std,
                               replace_between_markers, run_cores, run_machine, run_processor, scoreboard,
                               time_to_accuracy, uncommitted, where_it_runs)

_import_tensorflow_quietly()  # TrainConfig.describe imports it: without its start-up notices
ROOT = Path(__file__).resolve().parent.parent
#: The one copy of every collected run (package data; iic_tutorial.pretrained.runs_folder()).
RUNS = ROOT / "iic_tutorial" / "pretrained" / "runs"
#: Each run's curve, drawn from its result: a picture to browse, not a result (not in the package).
CURVES = ROOT / "results" / "curves"
BOTTOM_LINE, WHERE_IT_RUNS = "bottom-line", "where-it-runs"  # the README's marker blocks
RESULTS_PAGE = ROOT / "book" / "results.md"


def collect(run: Path) -> Path:
    """Publish a finished run: its result.json (+ time-to-accuracy, P at each evaluation, the
    last one's confusion matrices on the test images and on the dev split) to ``RUNS/NAME.json``,
    its curve to ``CURVES/NAME.png``; returns the result's path.
    SystemExit for a run trained at a checkout with uncommitted changes (a "-dirty" revision)."""
    result = finished_result(run)
    untraceable = uncommitted(result["revision"])
    if untraceable:  # a result is published only from code a commit holds
        raise SystemExit(f"{run.name} trained at {', '.join(untraceable)}, a checkout with uncommitted "
                         "changes: its result could not be traced to a commit. Commit the changes, "
                         "then train it again from the clean checkout")
    result["name"] = run.name
    result["time_to_accuracy_s"] = {f"{t:g}": time_to_accuracy(result["curve"], t) for t in THRESHOLDS}
    result["best_test_accuracy"] = max(p["acc"] for p in result["curve"])
    from iic_tutorial.training.restarts import trained_folder

    # a run with restarts: its chosen candidate's folder holds the history
    state = json.loads((trained_folder(run) / "state.json").read_text())
    evals = {r["step"]: r for r in state["history"]["evals"]}
    for point in result["curve"]:  # the joint P of the k head at every evaluation
        point["P"] = evals[point["step"]]["P"]
    last = state["history"]["evals"][-1]
    result["final_confusion"] = last.get("confusion")
    # a run made before evaluations recorded it: what benchmarks/dev_accuracy.py scored from its
    # weights, else None
    result["final_dev_confusion"] = last.get("dev_confusion") or result.get("final_dev_confusion")
    RUNS.mkdir(parents=True, exist_ok=True)
    out = RUNS / f"{run.name}.json"
    atomic_write_text(out, json.dumps(result, indent=1))
    CURVES.mkdir(parents=True, exist_ok=True)
    _plot(result, CURVES / f"{run.name}.png")
    return out


def _plot(result: dict, path: Path) -> None:
    """Both heads' test accuracy against training time (plots.plot_runs), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from iic_tutorial.plots import plot_runs

    fig = plot_runs([result], y=("acc", "acc_over"), title=result["name"])
    fig.savefig(path, dpi=100)
    plt.close(fig)


def load_all() -> list[dict]:
    """Every collected run, by name (what ``experiment_results()`` returns, read from ``RUNS``)."""
    return [json.loads(p.read_text()) for p in sorted(RUNS.glob("*.json"))]


def _fmt_time(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f} min"


def _describe(c: dict) -> str:
    """Recipe and the settings that differ from it, in words (``TrainConfig.describe``)."""
    from iic_tutorial.training import TrainConfig

    return TrainConfig.from_dict(c["config"] if "config" in c else c).describe()


def _alpha(c: dict) -> str:
    over = c.get("alpha_over")
    return f"{c['alpha']:g} / {c['alpha'] if over is None else over:g}"


def groups() -> dict[str, list[dict]]:
    """Collected runs grouped by experiment (same settings, different seeds)."""
    from iic_tutorial.pretrained import experiment_groups

    return experiment_groups(load_all())


def _time_to_all(runs: list[dict], level: float) -> str:
    times = [time_to_accuracy(r["curve"], level) for r in runs]  # from the curve: any level
    reached = [t for t in times if t is not None]
    if not reached:
        return "—"
    text = f"{np.mean(reached) / 60:.1f} min"
    return text if len(reached) == len(times) else f"{text} ({len(reached)} of {len(times)})"


def summary_table() -> str:
    """Markdown table: one row per experiment, mean ± std over its seeds."""
    rows = ["| experiment | settings | alpha (10-head / 50-head) | seeds | steps | train time "
            "| test acc. | all 70k | time to 90 % | 95 % | 97.5 % | 98.5 % | 99 % |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, runs in groups().items():
        c = runs[0]["config"]
        seeds = ", ".join(str(r["config"]["seed"]) for r in runs)
        steps = sorted({r["steps"] for r in runs})
        rows.append(
            f"| {name} | {_describe(c)} | {_alpha(c)} | {seeds} | {'/'.join(map(str, steps))} "
            f"| {np.mean([r['wall_time_s'] for r in runs]) / 60:.1f} min "
            f"| {mean_std([r['test_accuracy'] for r in runs])} "
            f"| {mean_std([r['all70k_accuracy'] for r in runs])} | "
            + " | ".join(_time_to_all(runs, t) for t in THRESHOLDS) + " |")
    return "\n".join(rows)


def headline_table() -> str:
    """The scoreboard (``iic_tutorial.runs.scoreboard``) of the collected runs and the shipped model."""
    from iic_tutorial.pretrained import PRETRAINED, pretrained_info

    shipped = {}
    for name in PRETRAINED:
        try:
            shipped[name] = pretrained_info(name)
        except FileNotFoundError:  # not shipped (yet): no row
            pass
    return scoreboard(load_all(), shipped)


def _cores(r: dict) -> str:
    """'2 cores', '1 of 2 cores' or 'GPU', with the processor's short name where the run
    recorded one: '2 cores, AMD EPYC' (runs.run_cores, runs.run_processor)."""
    cores, processor = run_cores(r), run_processor(r)
    if cores == "GPU":  # as the hardware sentence begins: '1 GPU(s): <name>'
        gpus = run_machine(r)["gpus"]
        return f"{len(gpus)} GPU(s): {', '.join(gpus)}"
    return cores if processor == "an unnamed CPU" else f"{cores}, {processor.split(' (family')[0]}"


def table() -> str:
    """Markdown table of every collected run."""
    rows = ["| run | recipe | alpha (10-head / 50-head) | seed | steps | cores | train time "
            "| test acc. | best | all 70k | time to 90 % | 95 % | 97.5 % | 98.5 % |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in load_all():
        c = r["config"]
        t = [time_to_accuracy(r["curve"], level) for level in THRESHOLDS[:-1]]  # all but 99 %
        rows.append(
            f"| {r['name']} | {_describe(c)} | {_alpha(c)} | {c['seed']} | {r['steps']} | {_cores(r)} "
            f"| {_fmt_time(r['wall_time_s'])} | {100 * r['test_accuracy']:.2f} % "
            f"| {100 * r['best_test_accuracy']:.2f} % | {100 * r['all70k_accuracy']:.2f} % "
            "| " + " | ".join(_fmt_time(time) for time in t) + " |")
    return "\n".join(rows)


def bottom_line_box() -> str:
    """The bottom line of the collected runs and the default shipped model."""
    from iic_tutorial.pretrained import pretrained_info

    return bottom_line(load_all(), pretrained_info())


#: The pages holding generated blocks, relative to the repository: marker name -> pages.
BLOCKS = {BOTTOM_LINE: ("README.md", "book/intro.md"), WHERE_IT_RUNS: ("README.md",)}


def blocks() -> dict[str, str]:
    """The text of every generated block, by marker name (:data:`BLOCKS`)."""
    return {BOTTOM_LINE: bottom_line_box(), WHERE_IT_RUNS: where_it_runs(load_all())}


def results_page() -> str:
    """The book's Results appendix: the bottom line, then every table of the runs."""
    return "\n".join([
        "<!-- Generated by benchmarks/collect.py from iic_tutorial/pretrained/runs/: edit that script, "
        "not this page. -->",
        "# Results", "",
        "Every number on this page is read from the result file a real training run wrote "
        "(`iic_tutorial/pretrained/runs/NAME.json`: its command, code revision, hardware, settings, wall time "
        "and an evaluation curve) by `python benchmarks/collect.py`, which rewrites the page "
        "whenever results are added. Test accuracy is on the 10k MNIST test images after "
        "matching clusters to digits (chapter {doc}`08_evaluation`), with the model in "
        "inference mode after recalibrating BatchNorm on unlabelled training images; "
        "\"all 70k\" scores the same model on every MNIST image. Wall times compare only "
        "between runs made the same way on the same processor (the cores column; see "
        "{doc}`engineering_notes`). The recipes are named in the {doc}`glossary`.", "",
        "## The bottom line", "", bottom_line_box(), "",
        "## The scoreboard", "",
        "The article's and the paper's figures beside each experiment of this book (mean ± "
        "std over its seeds; minutes are the runs' mean training time):", "",
        headline_table(), "",
        "## Each experiment", "",
        "Mean ± std over the seeds of each experiment (same settings, different seeds); "
        "\"time to\" is the mean training time until the test accuracy first reached "
        "that level, over the seeds that reached it:", "",
        summary_table(), "",
        "## Every run", "", table(), ""])


def regenerate(root: Path = ROOT) -> list[Path]:
    """Rewrite every generated block (:data:`BLOCKS`) and the Results appendix of the pages under
    ``root`` from the collected runs; returns the files that changed (none when they were current).

    ``make results`` runs this; it is the only writer of those blocks and that page.
    """
    changed = []
    for name, text in blocks().items():
        changed += [root / page for page in BLOCKS[name] if replace_between_markers(root / page, name, text)]
    page, path = results_page(), root / RESULTS_PAGE.relative_to(ROOT)
    if not path.is_file() or path.read_text() != page:
        atomic_write_text(path, page)
        changed.append(path)
    return sorted(set(changed))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", type=Path, help="run folders holding result.json")
    parser.add_argument("--table", action="store_true", help="only regenerate the tables")
    args = parser.parse_args(argv)
    for run in args.runs:
        print(f"collected {collect(run).relative_to(ROOT)}")
    for path in regenerate():
        print(f"regenerated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
