"""Scoring a segmentation: per-pixel predictions, Hungarian pixel accuracy and mIoU."""

from __future__ import annotations

import numpy as np

from ..metrics import contingency, match_clusters

__all__ = ["predict_maps", "scores"]


def predict_maps(model, x: np.ndarray, batch_size: int = 100) -> list[np.ndarray]:
    """Each head's per-pixel cluster (argmax), ``(n, H, W)`` int arrays, in inference mode."""
    outs = None
    for i in range(0, len(x), batch_size):
        z = model(x[i:i + batch_size], training=False)
        z = z if isinstance(z, (list, tuple)) else [z]
        labels = [np.asarray(m).argmax(axis=-1) for m in z]
        outs = [[] for _ in labels] if outs is None else outs
        for o, lab in zip(outs, labels):
            o.append(lab)
    return [np.concatenate(o) for o in outs]


def scores(truth: np.ndarray, clusters: np.ndarray, n_classes: int | None = None) -> dict:
    """Pixel accuracy and mIoU after matching clusters to classes (Hungarian, one-to-one).

    ``truth``, ``clusters``: per-pixel class and cluster ids of any shape (the
    same). The matching is :func:`iic_tutorial.metrics.match_clusters` on all
    pixels, as the paper scores segmentation; pixels of an unmatched cluster
    count as wrong. mIoU = mean over classes c of |pred = c and truth = c| /
    |pred = c or truth = c|. Returns ``{"pixel_accuracy", "miou", "iou",
    "mapping"}`` (iou per class; mapping: cluster -> class).
    """
    truth = np.asarray(truth).ravel().astype(np.int64)
    clusters = np.asarray(clusters).ravel().astype(np.int64)
    mapping = match_clusters(truth, clusters)
    lookup = np.full(int(clusters.max()) + 1, -1)
    for j, c in mapping.items():
        lookup[j] = c
    pred = lookup[clusters]
    n = int(max(n_classes or 0, truth.max() + 1))
    C = contingency(truth, np.where(pred < 0, n, pred), n_classes=n, k=n + 1)[:, :n]
    tp = np.diag(C).astype(np.float64)
    union = C.sum(axis=0) + np.bincount(truth, minlength=n) - tp
    present = union > 0
    iou = np.where(present, tp / np.maximum(union, 1), np.nan)
    return {"pixel_accuracy": float(np.mean(pred == truth)), "miou": float(np.nanmean(iou)),
            "iou": [None if np.isnan(v) else float(v) for v in iou],
            "mapping": {int(j): int(c) for j, c in mapping.items()}}
