"""Ship a trained run as the package's pretrained model, chosen without labels.

    python benchmarks/ship_model.py --name long_band runs/NAME [runs/NAME ...] [--dry-run]

``--name`` is one of ``iic_tutorial.pretrained.PRETRAINED`` (``long_band``, the default
model; ``fast``, the fast recipe's model that chapters 7-10 study). Pass any finished
runs, of one recipe or of several: the score is the same for all. ``--dry-run`` prints
the scores and the choice and writes nothing.

Among the given run folders (checkpoints from ``python -m iic_tutorial train``), the one
with the best label-free score ``iic_tutorial.selection.CRITERION`` is chosen: every
candidate is scored on the same unlabelled training images and the same views
(``iic_tutorial.selection``), so scores compare across seeds and across recipes;
``benchmarks/selection.py`` measures how often each score picks the most accurate run.
Its exported two-head model (BatchNorm recalibrated on training images, so it works in
inference mode) is written to ``iic_tutorial/pretrained/iic_mnist_<name>.weights.h5`` with
provenance (``iic_mnist_<name>.json``: command, seed, revision, hardware, measured
accuracy, how it was chosen) and its training history (``iic_mnist_<name>.history.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from iic_tutorial.runs import atomic_save_weights, atomic_write_text, finished_result


def main(argv: list[str] | None = None) -> int:
    from iic_tutorial.pretrained import PRETRAINED

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--name", required=True, choices=sorted(PRETRAINED),
                        help="which shipped model to replace (iic_tutorial.pretrained.PRETRAINED)")
    parser.add_argument("--dry-run", action="store_true", help="score and choose; write nothing")
    args = parser.parse_args(argv)

    from iic_tutorial.data import as_images, load_mnist
    from iic_tutorial.pretrained import model_files
    from iic_tutorial.selection import CRITERION, IMAGES, SCORES, label_free_scores
    from iic_tutorial.training import IICTrainer, evaluate
    from iic_tutorial.training.restarts import trained_folder  # a run with restarts: its chosen candidate

    (x_train, y_train), (x_test, y_test) = load_mnist()
    unlabelled = as_images(x_train[:IMAGES])
    trainers, all_scores, tests = {}, {}, {}
    for run in args.runs:
        trainers[run] = IICTrainer.restore(trained_folder(run))
        model = trainers[run].export_model()
        all_scores[run] = label_free_scores(model, unlabelled)
        tests[run] = evaluate(model, x_test, y_test, bn="inference")  # reported, not used to choose
        print(f"{run}: {CRITERION} = {all_scores[run][CRITERION]:.4f} "
              f"(test accuracy {100 * tests[run]['acc']:.2f} %)")
    scores = {run: s[CRITERION] for run, s in all_scores.items()}
    best = max(scores, key=scores.get)
    print(f"chosen without labels: {best}")
    if args.dry_run:
        return 0

    trainer, test = trainers[best], tests[best]
    model = trainer.export_model()
    result = finished_result(best)
    subset = evaluate(model, x_test[:2000], y_test[:2000], bn="inference")
    all70k = evaluate(model, np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test]))
    files = model_files(args.name)
    files["weights"].parent.mkdir(parents=True, exist_ok=True)
    atomic_save_weights(model, files["weights"])
    info = {
        "name": args.name,
        "run": best.name,
        "criterion": CRITERION,
        "selection": f"highest {CRITERION}: {SCORES[CRITERION]}, on the first {IMAGES} "
                     "training images, among: " + ", ".join(sorted(p.name for p in scores)),
        "candidates": "the runs passed to benchmarks/ship_model.py; the choice among them "
                      "uses no label (benchmarks/selection.py measures how well the score "
                      "picks across the runs in runs/)",
        "label_free_scores": {p.name: s for p, s in scores.items()},
        "all_label_free_scores": {p.name: s for p, s in all_scores.items()},
        "candidates_test_accuracy": {p.name: t["acc"] for p, t in tests.items()},
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
    atomic_write_text(files["info"], json.dumps(info, indent=1))
    history = {k: v for k, v in trainer.history.items() if k != "subhead_losses"}
    atomic_write_text(files["history"], json.dumps(history))
    print(f"shipped {best.name} as {args.name!r}: test accuracy {100 * test['acc']:.2f} % (inference mode), "
          f"first 2000 {100 * subset['acc']:.2f} %, all 70k {100 * all70k['acc']:.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
