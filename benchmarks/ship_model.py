"""Ship a trained run as the package's pretrained model, chosen without labels.

    python benchmarks/ship_model.py runs/NAME [runs/NAME ...]

Pass the seeds of one recipe (the recipe itself is chosen from the benchmarks).

Among the given run folders (checkpoints from ``python -m iic_tutorial train``), the one
whose 10-cluster head has the highest mutual information I(Z; Z') between 20,000
unlabelled training images and views of them is chosen -- the IIC objective itself,
measured the same way for every candidate: same images, the fast recipe's view (without
erasing) for all, two fixed augmentation seeds. A label-free criterion, comparable across
alpha (unlike the loss) and across the views the runs were trained with (unlike the
I(Z; Z') of their last training batches, which is also noisier).
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

from iic_tutorial.runs import atomic_save_weights, atomic_write_text

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "iic_tutorial" / "pretrained"


#: The label-free selection criterion, in words (written into the provenance file).
CRITERION = ("highest I(Z;Z') of the 10-cluster head between 20,000 unlabelled training images "
             "and views of them (fast recipe's view, no erasing, augmentation seeds 0 and 1)")


def label_free_score(model, x: np.ndarray, seeds: tuple[int, ...] = (0, 1)) -> float:
    """I(Z; Z') in nats of the k head between images x and views of them, mean over seeds.

    x: float32 (n, 28, 28, 1) in [0, 1], no labels. The view is ``AugmentConfig.fast()`` (the
    fast recipe's), the same for every model scored, so scores compare across runs.
    """
    from iic_tutorial.augment import AugmentConfig, compose
    from iic_tutorial.information import joint_distribution, mutual_information
    from iic_tutorial.training import predict

    z = predict(model, x)[0]
    scores = []
    for seed in seeds:
        x_prime = np.concatenate([compose(x[i:i + 1000], AugmentConfig.fast(), seed=[seed, i]).numpy()
                                  for i in range(0, len(x), 1000)])
        scores.append(mutual_information(joint_distribution(z, predict(model, x_prime)[0])))
    return float(np.mean(scores))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args(argv)

    from iic_tutorial.data import as_images, load_mnist
    from iic_tutorial.pretrained import WEIGHTS_NAME
    from iic_tutorial.training import IICTrainer, evaluate

    (x_train, y_train), (x_test, y_test) = load_mnist()
    unlabelled = as_images(x_train[:20000])
    trainers, scores, tests = {}, {}, {}
    for run in args.runs:
        trainers[run] = IICTrainer.restore(run)
        model = trainers[run].export_model()
        scores[run] = label_free_score(model, unlabelled)
        tests[run] = evaluate(model, x_test, y_test, bn="inference")  # reported, not used to choose
        print(f"{run}: I(Z;Z') = {scores[run]:.4f} nats (test accuracy {100 * tests[run]['acc']:.2f} %)")
    best = max(scores, key=scores.get)
    print(f"chosen without labels: {best}")

    trainer, test = trainers[best], tests[best]
    model = trainer.export_model()
    result = json.loads((best / "result.json").read_text())
    subset = evaluate(model, x_test[:2000], y_test[:2000], bn="inference")
    all70k = evaluate(model, np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test]))
    OUT.mkdir(parents=True, exist_ok=True)
    atomic_save_weights(model, OUT / WEIGHTS_NAME)
    info = {
        "run": best.name,
        "selection": CRITERION + ", among: " + ", ".join(sorted(p.name for p in scores)),
        "candidates": "the seeds of one recipe, picked from the benchmarks in results/ (which "
                      "compare recipes on test labels, as for any hyperparameter); within "
                      "the recipe, no label is used",
        "label_free_scores": {p.name: s for p, s in scores.items()},
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
    atomic_write_text(OUT / "iic_mnist.json", json.dumps(info, indent=1))
    history = {k: v for k, v in trainer.history.items() if k != "subhead_losses"}
    atomic_write_text(OUT / "iic_mnist.history.json", json.dumps(history))
    print(f"shipped {best.name}: test accuracy {100 * test['acc']:.2f} % (inference mode), "
          f"first 2000 {100 * subset['acc']:.2f} %, all 70k {100 * all70k['acc']:.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
