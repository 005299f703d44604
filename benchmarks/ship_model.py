"""Ship a trained run as the package's pretrained model, chosen without labels.

    python benchmarks/ship_model.py runs/NAME [runs/NAME ...]

Among the given run folders (checkpoints from ``python -m iic_tutorial train``), the one
with the highest mutual information I(Z; Z') of its 10-cluster head over its last
evaluations is chosen -- a label-free criterion, comparable across alpha, unlike the loss.
Its exported two-head model (BatchNorm recalibrated on training images, so it works in
inference mode) is written to ``iic_tutorial/pretrained/iic_mnist.weights.h5`` with
provenance (``iic_mnist.json``: command, seed, revision, hardware, measured accuracy) and
its training history (``iic_mnist.history.json``) for the book's training chapters.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "iic_tutorial" / "pretrained"


def label_free_score(history: dict, last: int = 3) -> float:
    """Mean I(Z; Z') (nats) of the k head over the last evaluations."""
    return float(np.mean([r["mi"] for r in history["evals"][-last:]]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args(argv)

    from iic_tutorial.data import load_mnist
    from iic_tutorial.pretrained import WEIGHTS_NAME
    from iic_tutorial.train import IICTrainer, evaluate

    scores = {}
    for run in args.runs:
        state = json.loads((run / "state.json").read_text())
        scores[run] = label_free_score(state["history"])
        print(f"{run}: I(Z;Z') = {scores[run]:.4f} nats over the last evaluations")
    best = max(scores, key=scores.get)
    print(f"chosen without labels: {best}")

    trainer = IICTrainer.restore(best)
    model = trainer.export_model()
    result = json.loads((best / "result.json").read_text())
    (x_train, y_train), (x_test, y_test) = load_mnist()
    test = evaluate(model, x_test, y_test, bn="inference")
    subset = evaluate(model, x_test[:2000], y_test[:2000], bn="inference")
    all70k = evaluate(model, np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test]))
    OUT.mkdir(parents=True, exist_ok=True)
    model.save_weights(str(OUT / WEIGHTS_NAME))
    info = {
        "run": best.name,
        "selection": "highest mean I(Z;Z') of the 10-cluster head over the last 3 evaluations, "
                     "among: " + ", ".join(sorted(p.name for p in scores)),
        "label_free_scores": {p.name: round(s, 5) for p, s in scores.items()},
        "command": result["command"],
        "revision": result["revision"],
        "hardware": result["hardware"],
        "date": result["date"],
        "config": result["config"],
        "k": trainer.config.k,
        "k_over": trainer.config.k_over,
        "steps": result["steps"],
        "wall_time_s": result["wall_time_s"],
        "bn": "recalibrated on 5000 training images; evaluate with training=False",
        "test_accuracy": test["acc"],
        "test_nmi": test["nmi"],
        "test_accuracy_over_many_to_one": test["acc_over"],
        "test_first2000_accuracy": subset["acc"],
        "all70k_accuracy": all70k["acc"],
    }
    (OUT / "iic_mnist.json").write_text(json.dumps(info, indent=1))
    history = {k: v for k, v in trainer.history.items() if k != "subhead_losses"}
    (OUT / "iic_mnist.history.json").write_text(json.dumps(history))
    print(f"shipped {best.name}: test accuracy {100 * test['acc']:.2f} % (inference mode), "
          f"first 2000 {100 * subset['acc']:.2f} %, all 70k {100 * all70k['acc']:.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
