"""What a label-free second stage could start from: how sure the 10-cluster head is of its
mistakes, and the best the 50-cluster head could do, on the dev split.

    python benchmarks/second_stage.py runs/NAME [runs/NAME ...] [--out FILE]

Two second stages are proposed for a trained IIC network, and both read only what the
network says:

- *self-labelling* (SCAN's last step): keep the images the 10-cluster head assigns with a
  probability above a threshold (0.99 in SCAN), take that cluster as their label, and train
  on strong views of them with cross-entropy. It can only mend a mistake the head is unsure
  of: a mistake made with probability above the threshold is a label it trains on.
- *a merge of the 50-cluster head*: name each of its clusters by one of the 10-cluster
  head's (by the joint P_over, by agreement, ...). No such rule can do better than naming
  each 50-cluster by the digit most of its images are (which reads the labels): that is
  the ceiling of every merge, label-free or not
  (:func:`iic_tutorial.metrics.cluster_accuracy` with ``many_to_one=True``).

For each finished run folder this loads its weights (``model.weights.h5``, the network its
``result.json`` records), takes both heads' outputs on the dev split
(:func:`iic_tutorial.data.dev_indices`; BatchNorm in inference mode, as every score), and
records: the 10-cluster head's dev accuracy; for each threshold of :data:`THRESHOLDS`, the
share of the dev images above it, their accuracy and the share of the head's mistakes
that are above it; the same for the two groups of mistakes left in every good run (nines
in the eights' cluster, ones in the twos'); and the 50-cluster head's ceiling. Writes
``iic_tutorial/pretrained/second_stage.json`` (package data the book reads,
``iic.pretrained.benchmark("second_stage")``), or ``--out``; refuses a checkout with
uncommitted changes, as every published score.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "iic_tutorial" / "pretrained" / "second_stage.json"
#: probabilities of the 10-cluster head above which self-labelling takes a cluster as a label
THRESHOLDS = (0.9, 0.99, 0.999)


def confidence(Z: np.ndarray, y: np.ndarray, thresholds=THRESHOLDS) -> dict:
    """How sure the 10-cluster head is, and of what: right answers and mistakes above each threshold.

    Z: (n, k) the head's softmax outputs; y: (n,) digits (they only score). An image's
    cluster is ``argmax Z``, matched to a digit by the Hungarian match
    (:func:`iic_tutorial.metrics.matched_labels`); its probability is ``max Z``. Returns
    ``accuracy`` (a fraction), ``mistakes`` (a count), the count of each group of
    :data:`iic_tutorial.metrics.GROUPS`, and per threshold t (its key ``"%g" % t``):
    ``share`` of the images with probability > t, ``accuracy`` among them (None if none),
    the ``mistakes`` among them and, per group, how many of its images are above t.
    """
    from iic_tutorial.metrics import GROUPS, matched_labels

    Z, y = np.asarray(Z), np.asarray(y)
    if Z.ndim != 2 or len(Z) != len(y):
        raise ValueError(f"Z must be (n, k) outputs of the images y (n,); got {Z.shape} and {y.shape}")
    named = matched_labels(y, Z.argmax(axis=1))
    right, p = named == y, Z.max(axis=1)
    groups = {name: (y == digit) & (named == cluster) for name, (digit, cluster) in GROUPS.items()}
    out = {"accuracy": float(right.mean()), "mistakes": int((~right).sum()),
           **{name: int(mask.sum()) for name, mask in groups.items()}, "above": {}}
    for t in thresholds:
        sure = p > t
        out["above"][f"{t:g}"] = {
            "share": float(sure.mean()), "accuracy": float(right[sure].mean()) if sure.any() else None,
            "mistakes": int((sure & ~right).sum()),
            **{name: int((sure & mask).sum()) for name, mask in groups.items()}}
    return out


def over_ceiling(z_over: np.ndarray, y: np.ndarray) -> dict:
    """The best accuracy any naming of the 50-cluster head's clusters by digits can reach.

    z_over: (n,) its cluster ids; y: (n,) digits. Each cluster named by the digit most of
    its images are: ``accuracy`` = sum over clusters of their largest digit count / n, and
    ``clusters`` the number of clusters that hold an image.
    """
    from iic_tutorial.metrics import cluster_accuracy

    return {"accuracy": cluster_accuracy(y, z_over, many_to_one=True),
            "clusters": int(len(np.unique(z_over)))}


def entry(run: Path, x_dev: np.ndarray, y_dev: np.ndarray) -> dict:
    """One run folder: its identity and both measures, from its weights."""
    from iic_tutorial.runs import finished_result
    from iic_tutorial.training.evaluation import load_run_weights, predict

    result = finished_result(run)
    Z, Z_over = predict(load_run_weights(run / "model.weights.h5"), x_dev)[:2]
    return {"experiment": result.get("experiment"), "seed": result.get("seed"),
            "steps": result["steps"], "precision": result.get("precision"),
            "ten": confidence(Z, y_dev), "fifty": over_ceiling(Z_over.argmax(axis=1), y_dev)}


def main(argv: list[str] | None = None) -> int:
    from iic_tutorial.runs import runs_parser

    args = runs_parser(__doc__, OUT).parse_args(argv)

    from iic_tutorial import _import_tensorflow_quietly

    _import_tensorflow_quietly()
    from iic_tutorial.data import DEV_RULE, dev_indices, load_mnist
    from iic_tutorial.runs import atomic_write_text, benchmark_command, provenance, require_committed

    where = provenance(benchmark_command("second_stage.py", argv))
    require_committed(where["revision"])  # as collect.py
    (x_train, y_train), _ = load_mnist()
    dev = dev_indices()
    runs = {}
    for run in args.runs:
        runs[run.name] = e = entry(run, x_train[dev], y_train[dev])
        sure = e["ten"]["above"]["0.99"]
        print(f"{run.name}: dev {100 * e['ten']['accuracy']:.2f} %, {sure['mistakes']} of its "
              f"{e['ten']['mistakes']} mistakes above 0.99; the 50-cluster head's ceiling "
              f"{100 * e['fifty']['accuracy']:.2f} %")
    out = {**where, "dev_split": DEV_RULE, "dev_images": int(len(dev)), "thresholds": list(THRESHOLDS),
           "runs": runs}
    atomic_write_text(args.out, json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
