"""Every sub-head of runs trained with several: its test accuracy beside its training loss.

    python benchmarks/subheads.py runs/NAME [runs/NAME ...]

The official IIC code keeps, of the five sub-heads of a head, the one with the lowest
IIC loss; in its MNIST log that was the 99.2 % sub-head, while three others sat at
97.9 %. This asks the same of runs here: for each run folder (``--subheads H``), the
10-cluster sub-heads' mean training loss over the last 50 steps (what
``IICTrainer.best_subheads`` chooses by, without labels) and each one's accuracy on the
10k test images (inference mode, BatchNorm as the run left it; labels only score). A run
with restarts is read from the candidate that trained on.
Writes ``iic_tutorial/pretrained/subheads.json``, the one copy (package data the book reads),
or ``--out``: the runs of ``long_band`` with five sub-heads are
``iic_tutorial/pretrained/subheads_long_band.json``, their fp32 seeds
``subheads_long_band_fp32.json``, their held-out runs ``subheads_heldout_long_band.json``,
the runs of ``long_band_late`` ``subheads_long_band_late.json`` (``iic.pretrained.BENCHMARKS``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "iic_tutorial" / "pretrained" / "subheads.json"
WINDOW = 50  # steps of training loss per sub-head (IICTrainer.best_subheads' default)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=OUT,
                        help="the JSON to write (default: the package's, which the book reads)")
    args = parser.parse_args(argv)

    from iic_tutorial.data import load_mnist
    from iic_tutorial.model import export_subheads
    from iic_tutorial.runs import atomic_write_text, benchmark_command, provenance
    from iic_tutorial.training import IICTrainer, evaluate
    from iic_tutorial.training.restarts import trained_folder

    _, (x_test, y_test) = load_mnist()
    runs = {}
    for run in args.runs:
        trainer = IICTrainer.restore(trained_folder(run))  # a run with restarts: its chosen candidate
        h = trainer.config.num_subheads
        if h < 2:
            raise SystemExit(f"{run} has one sub-head per head: pass runs trained with --subheads 2 or more")
        losses = np.asarray(trainer.history["subhead_losses"][-WINDOW:], dtype=np.float64).mean(0)
        chosen, _ = trainer.best_subheads(WINDOW)
        accuracy = [evaluate(export_subheads(trainer.model, i, i), x_test, y_test)["acc"]
                    for i in range(h)]
        runs[run.name] = {"loss": losses[:h].tolist(), "test_accuracy": accuracy, "chosen": chosen,
                          "best": int(np.argmax(accuracy)), "steps": int(trainer.step.numpy())}
        print(f"{run.name}: chosen {chosen} ({100 * accuracy[chosen]:.2f} %); sub-heads "
              + ", ".join(f"{100 * a:.2f} % (loss {l:.4f})" for a, l in zip(accuracy, losses)))
    result = {**provenance(benchmark_command("subheads.py", argv)),
              "window": WINDOW, "runs": runs}
    atomic_write_text(args.out, json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
