"""How early a run's training loss tells a stuck start: the loss at steps 500-2000 beside how it ended.

    python benchmarks/early_loss.py runs/NAME [runs/NAME ...] [--out FILE]

A trunk that mixes digits (every sub-head of it poor, the run near 62 %) cannot be mended
by its heads; a new start can (``--restarts N --restart-above LOSS``). For each run folder
this reads the training history (``state.json``; no network is loaded) and writes, at
steps 500, 1000, 1500 and 2000, the mean minimised loss over the 100 steps before
(``training.restarts.restart_loss``, what ``--restart-above`` compares), beside the run's
experiment, seed, last evaluation (step, test and dev accuracy; labels only score) and
whether it ran to its end. A run with restarts gives one entry per candidate that started
(``NAME/candidate_seedS``): the one that trained on, and the ones set aside at the choice.
Writes ``iic_tutorial/pretrained/early_loss.json``, the one copy (package data the book
reads, ``iic.pretrained.benchmark("early_loss")``), or ``--out``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "iic_tutorial" / "pretrained" / "early_loss.json"
STEPS = (500, 1000, 1500, 2000)


def entry(folder: Path, identity: dict) -> dict:
    """The losses at :data:`STEPS` and the last evaluation of the run (or candidate) in ``folder``."""
    from iic_tutorial.training.restarts import restart_loss

    state = json.loads((folder / "state.json").read_text())
    history = state["history"]
    last = history["evals"][-1]
    return {**identity, "steps": len(history["loss"]),
            "loss": {str(s): restart_loss(history, s) for s in STEPS if s <= len(history["loss"])},
            "last_eval": {"step": last["step"], "test_accuracy": last.get("acc"),
                          "dev_accuracy": last.get("dev_acc")}}


def main(argv: list[str] | None = None) -> int:
    from iic_tutorial.runs import runs_parser

    args = runs_parser(__doc__, OUT).parse_args(argv)

    from iic_tutorial.runs import atomic_write_text, benchmark_command, finished_result, provenance
    from iic_tutorial.training.restarts import WINDOW, candidate_folder

    entries = {}
    for run in args.runs:
        result = finished_result(run)
        identity = {"experiment": result.get("experiment"), "seed": result.get("seed"),
                    "run_steps": result["steps"]}
        choice = result.get("restarts")
        if not choice:
            entries[run.name] = {**entry(run, identity), "candidate": None,
                                 "trained_on": True}
            continue
        for seed in choice["seeds"]:
            name = f"{run.name}/{candidate_folder(seed)}"
            entries[name] = {**entry(run / candidate_folder(seed), identity),
                             "candidate": seed, "trained_on": seed == choice["chosen"]}
    for name, e in entries.items():
        losses = ", ".join(f"{s}: {v:.3f}" for s, v in e["loss"].items())
        acc = e["last_eval"]["test_accuracy"]
        print(f"{name}: loss {losses}; at step {e['last_eval']['step']} "
              f"{'—' if acc is None else f'{100 * acc:.2f} %'} test")
    out = {**provenance(benchmark_command("early_loss.py", argv)),
           "window": WINDOW, "steps": list(STEPS), "runs": entries}
    atomic_write_text(args.out, json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
