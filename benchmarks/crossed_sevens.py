"""When a run loses its crossed sevens: the test sevens in another digit's cluster, step by step.

    python benchmarks/crossed_sevens.py runs/NAME [runs/NAME ...] [--out FILE]

Some sevens are written with a bar across the middle (about 130 of the 1028 test sevens).
A network can put them, as one group, in the cluster of another digit, 2 or 9: the run
*loses its crossed sevens* and ends near 97.8 % instead of 99.2 %. For each finished run
folder this reads the evaluations of its history (``state.json``; no network is loaded:
the 10-cluster head in use at each evaluation, on the 10k test images, whose labels only
score) and writes, at every evaluation, the most test sevens in one cluster other than
the sevens' own (the matched confusion matrix,
:func:`iic_tutorial.metrics.confusion_matrix`: row 7, off its diagonal) and that
cluster's digit, beside the largest mistake of any other digit. A run has lost them at a
step when that count is above :data:`GROUP` and no other digit has a mistake that large
(in such runs the counts are bimodal: below ~20 or above ~110 from step ~1500 on); with
one, the run has *mixed other digits* (early in training, or a trunk that went wrong, far
below 97 %). A run with restarts is read from the candidate that trained on.
Writes ``iic_tutorial/pretrained/crossed_sevens.json``, the one copy (package data the
book reads, ``iic.pretrained.benchmark("crossed_sevens")``), or ``--out``. The runs of the
file written before that are not given again are kept as they were read (their folders
may be gone): ``kept`` names them, and each entry records the revision that read it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "iic_tutorial" / "pretrained" / "crossed_sevens.json"
SEVEN = 7
GROUP = 80  # test images of a digit in one other cluster above which it is a group, not strays


def sevens_elsewhere(confusion: list[list[int]]) -> tuple[int, int]:
    """(count, digit): the most test sevens in one cluster matched to another digit.

    ``confusion``: (10, k) counts, row = true digit, column c < 10 the cluster matched
    to digit c. Clusters matched to no digit (k > 10) count as "another" too; their
    digit is given as their column index.
    """
    row = list(confusion[SEVEN])
    others = [(count, column) for column, count in enumerate(row) if column != SEVEN]
    count, column = max(others)
    return int(count), int(column)


def other_mistake(confusion: list[list[int]]) -> int:
    """The most images of one digit other than 7 in one cluster matched to another digit.

    ``confusion`` as in :func:`sevens_elsewhere`: the largest count off the diagonal
    outside row 7.
    """
    return max(count for digit, row in enumerate(confusion) if digit != SEVEN
               for column, count in enumerate(row) if column != digit)


def entry(run: Path, result: dict) -> dict:
    """One run: its identity, its last test accuracy, and the sevens elsewhere at every evaluation."""
    from iic_tutorial.training.restarts import trained_folder

    history = json.loads((trained_folder(run) / "state.json").read_text())["history"]
    evals = [(e["step"], *sevens_elsewhere(e["confusion"]), other_mistake(e["confusion"]), e["acc"])
             for e in history["evals"] if e.get("confusion") is not None]
    if not evals:
        raise SystemExit(f"{run}: no evaluation with a confusion matrix in its history "
                         "(trained with --eval-every 0?): nothing to count")
    from iic_tutorial.augment import AugmentConfig

    config = result["config"]
    view = AugmentConfig.from_dict(config["view"])  # a view saved before a knob: its default
    return {"experiment": result.get("experiment"), "seed": result.get("seed"),
            "band": view.band_p, "band_rows": list(view.band_rows), "erase": view.erase_p,
            "subheads": config["num_subheads"],
            "precision": result.get("precision"), "trained_on": result.get("trained_on"),
            "steps": result["steps"], "test_accuracy": result["test_accuracy"],
            "evals": [{"step": s, "sevens": n, "digit": d, "other": o, "test_accuracy": a}
                      for s, n, d, o, a in evals]}


def backfill_erase(kept: dict[str, dict]) -> None:
    """Give the kept entries read before ``erase`` was recorded their view's erasing probability,
    from their collected result (``iic_tutorial/pretrained/runs/NAME.json``); an entry whose
    run was not collected stays without it."""
    from iic_tutorial.augment import AugmentConfig
    from iic_tutorial.pretrained import experiment_results

    missing = [name for name, e in kept.items() if "erase" not in e]
    if missing:
        results = {r["name"]: r for r in experiment_results()}
        for name in missing:
            if name in results:
                kept[name]["erase"] = AugmentConfig.from_dict(results[name]["config"]["view"]).erase_p


def main(argv: list[str] | None = None) -> int:
    from iic_tutorial.runs import runs_parser

    args = runs_parser(__doc__, OUT).parse_args(argv)

    from iic_tutorial.runs import atomic_write_text, benchmark_command, finished_result, provenance

    where = provenance(benchmark_command("crossed_sevens.py", argv))
    entries = {run.name: {**entry(run, finished_result(run)), "revision": where["revision"]}
               for run in args.runs}
    for name, e in entries.items():
        marks = " ".join(f"{x['step']}:{x['sevens']}" for x in e["evals"] if x["step"] % 500 == 0)
        print(f"{name}: {100 * e['test_accuracy']:.2f} % test at step {e['steps']}; "
              f"sevens elsewhere {marks}")
    before = json.loads(args.out.read_text()) if args.out.exists() else {}
    kept = {name: {"revision": before["revision"], **e}  # read by the file's command then
            for name, e in before.get("runs", {}).items() if name not in entries}
    if kept:
        print(f"kept from {args.out.name}: {', '.join(kept)}")
    backfill_erase(kept)
    out = {**where, "group": GROUP, "kept": sorted(kept), "runs": {**kept, **entries}}
    atomic_write_text(args.out, json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
