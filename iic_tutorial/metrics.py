"""Scoring clusters against labels: Hungarian accuracy, confusion matrices, NMI.

Labels are used here only to *evaluate* a clustering; IIC never sees them
during training. Cluster ids are arbitrary, so a clustering is scored after
matching clusters to classes.

:data:`SCORES` names the scores every evaluation computes (:func:`scores`). A
new score is one entry there: the training loop's evaluations, a result's
curve and its ``test_*`` / ``all70k_*`` fields, ``python -m iic_tutorial
evaluate`` and :func:`iic_tutorial.plots.plot_runs`'s axis read it.

:func:`curve_keys` says what each point of a training curve holds, the
scores among them, with each key's name on an axis and whether it is a
fraction shown in %: a result's curve (``runs.curve_fields()``) and the plot
read it, so a key's kind has one owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable, Mapping

import numpy as np
from scipy.optimize import linear_sum_assignment

from .information import entropy, mutual_information

__all__ = [
    "contingency",
    "match_clusters",
    "cluster_accuracy",
    "matched_labels",
    "confusion_matrix",
    "largest_confusion",
    "largest_confusions",
    "GROUPS",
    "group_label",
    "group_counts",
    "nmi",
    "Score",
    "SCORES",
    "scores",
    "CurveKey",
    "curve_keys",
]


def _check_labels(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same length; got {y_true.size} and {y_pred.size}"
        )
    if y_true.size == 0:
        raise ValueError("y_true and y_pred are empty; pass at least one label")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise ValueError(
                f"{name} must hold non-negative integer ids; got dtype {y.dtype}. "
                "Pass cluster ids (e.g. z.argmax(axis=1)), not probabilities"
            )
    return y_true, y_pred


def contingency(
    y_true: np.ndarray, y_pred: np.ndarray, n_classes: int | None = None, k: int | None = None
) -> np.ndarray:
    """Counts C[c, j] = #{n : y_true[n] = c and y_pred[n] = j}, shape (n_classes, k)."""
    y_true, y_pred = _check_labels(y_true, y_pred)
    if k is not None and y_pred.max() >= k:
        raise ValueError(f"k = {k} clusters, but y_pred holds cluster id {int(y_pred.max())}; "
                         f"pass k >= {int(y_pred.max()) + 1} (or leave k out)")
    if n_classes is not None and y_true.max() >= n_classes:
        raise ValueError(f"n_classes = {n_classes}, but y_true holds class id {int(y_true.max())}")
    n_classes = int(max(n_classes or 0, y_true.max() + 1))
    k = int(max(k or 0, y_pred.max() + 1))
    C = np.zeros((n_classes, k), dtype=np.int64)
    np.add.at(C, (y_true, y_pred), 1)
    return C


def match_clusters(
    y_true: np.ndarray, y_pred: np.ndarray, many_to_one: bool = False, k: int | None = None
) -> dict[int, int]:
    """Map each cluster id to a class id.

    One-to-one (default): the Hungarian method
    (``scipy.optimize.linear_sum_assignment``) on the contingency table picks
    the assignment with the most correctly matched images. With more
    clusters than classes, only ``n_classes`` clusters get a class and the
    rest are left out of the mapping (their images count as wrong).
    ``many_to_one=True`` instead sends every cluster to its most frequent
    class (how over-clusters are read). Returns ``{cluster: class}``.
    """
    C = contingency(y_true, y_pred, k=k)
    if many_to_one:
        return {j: int(C[:, j].argmax()) for j in range(C.shape[1]) if C[:, j].sum() > 0}
    rows, cols = linear_sum_assignment(C, maximize=True)
    return {int(j): int(c) for c, j in zip(rows, cols)}


def cluster_accuracy(
    y_true: np.ndarray, y_pred: np.ndarray, many_to_one: bool = False
) -> float:
    """Fraction of images whose cluster, mapped by :func:`match_clusters`, is their class.

    y_true: (n,) class ids; y_pred: (n,) cluster ids (any number of clusters).
    Returns a float in [0, 1]. With many_to_one=True every cluster votes for
    its majority class, which is never lower than one-to-one.
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    return float(np.mean(matched_labels(y_true, y_pred, many_to_one) == y_true))


def matched_labels(
    y_true: np.ndarray, y_pred: np.ndarray, many_to_one: bool = False
) -> np.ndarray:
    """The class each image's cluster is matched to (:func:`match_clusters`); -1 if none.

    y_true, y_pred: (n,) class and cluster ids. Returns (n,) int class ids:
    an image is right where it equals ``y_true`` (:func:`cluster_accuracy` is
    the mean of that), and ``(y_true == d) & (matched == c)`` are the images
    of digit d in the cluster matched to c -- the cell (d, c) of
    :func:`confusion_matrix`. An image of a cluster left without a class
    (more clusters than classes, one-to-one) gets -1.
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    mapping = match_clusters(y_true, y_pred, many_to_one=many_to_one)
    mapped = np.array([mapping.get(int(j), -1) for j in range(y_pred.max() + 1)])
    return mapped[y_pred]


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, k: int | None = None) -> np.ndarray:
    """Counts of (class, cluster) with clusters reordered by the Hungarian match.

    Returns an (n_classes, k) int array whose column c (for c < n_classes)
    is the cluster matched to class c, so a perfect clustering is diagonal;
    unmatched clusters follow in id order.
    """
    C = contingency(y_true, y_pred, k=k)
    mapping = match_clusters(y_true, y_pred, k=C.shape[1])
    by_class = {c: j for j, c in mapping.items()}
    order = [by_class[c] for c in range(C.shape[0]) if c in by_class]
    order += [j for j in range(C.shape[1]) if j not in order]
    return C[:, order]


def largest_confusions(C, n: int = 1) -> list[tuple[int, int, int]]:
    """The ``n`` biggest mistakes in a matched confusion matrix: [(class, cluster column, count)].

    ``C``: (n_classes, k) counts from :func:`confusion_matrix`, where column c < n_classes
    is the cluster matched to class c, so the diagonal is correct. Returns the ``n``
    entries off that diagonal with the largest counts, largest first (ties: row-major
    order).
    """
    C = np.asarray(C)
    if C.ndim != 2 or min(C.shape) < 2 or C.shape[1] < C.shape[0]:
        raise ValueError(f"C must be a (classes, clusters) matrix with clusters >= classes >= 2; "
                         f"got shape {C.shape}")
    if n < 1:
        raise ValueError(f"n is how many mistakes to return, >= 1; got {n}")
    off = C.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind="stable")[:n]
    return [(int(r), int(c), int(off[r, c])) for r, c in zip(*np.unravel_index(order, off.shape))]


def largest_confusion(C) -> tuple[int, int, int]:
    """The biggest mistake in a matched confusion matrix: (class, cluster column, count).

    :func:`largest_confusions` with n = 1: the row and column of the largest entry off
    the diagonal and its count (ties: the first in row-major order).
    """
    return largest_confusions(C, 1)[0]


#: The two groups of mistakes every good run of this project's aimed-band recipes ends with on
#: MNIST (chapter 11): name -> (digit, the digit whose matched cluster holds them) -- nines
#: written like a g in the eights' cluster, ones with a foot in the twos'. The benchmarks that
#: count them, their tables and the chapter read this.
GROUPS: dict[str, tuple[int, int]] = {"nines_in_eights": (9, 8), "ones_in_twos": (1, 2)}


def group_label(name: str) -> str:
    """A group of :data:`GROUPS` in words, as the book writes it: ``"9s in 8's"``."""
    if name not in GROUPS:
        raise ValueError(f"unknown group {name!r}; the groups are {sorted(GROUPS)}")
    digit, cluster = GROUPS[name]
    return f"{digit}s in {cluster}'s"


def group_counts(C) -> dict[str, int]:
    """How many images of each group of :data:`GROUPS` a matched confusion matrix holds.

    ``C``: (n_classes, k) counts from :func:`confusion_matrix` (row: digit; column c <
    n_classes: the cluster matched to digit c). Returns ``{name: C[digit, cluster]}``.
    """
    C = np.asarray(C)
    need = 1 + max(max(pair) for pair in GROUPS.values())
    if C.ndim != 2 or C.shape[0] < need or C.shape[1] < C.shape[0]:
        raise ValueError(f"C must be a matched (digits, clusters) confusion matrix with at least "
                         f"{need} digits; got shape {C.shape}")
    return {name: int(C[digit, cluster]) for name, (digit, cluster) in GROUPS.items()}


def nmi(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Normalised mutual information I(Y; C) / ((H(Y) + H(C)) / 2) between labels and clusters.

    Built on :mod:`iic_tutorial.information` from the empirical joint
    distribution of (class, cluster). Uses the arithmetic-mean normalisation
    (scikit-learn's default). Returns a float in [0, 1]; 1 for a clustering
    equal to the labels up to renaming, 0 when both are constant.
    """
    C = contingency(y_true, y_pred)
    P = C / C.sum()
    h = (entropy(P.sum(axis=1)) + entropy(P.sum(axis=0))) / 2
    return 0.0 if h == 0 else float(min(mutual_information(P) / h, 1.0))


@dataclass(frozen=True)
class Score:
    """A score of one head's clusters against the labels, computed at every evaluation.

    score: ``(y_true (n,), y_pred (n,)) -> float``, class ids against cluster ids.
    head: ``"Z"`` (the 10-cluster head) or ``"Z_over"`` (the 50-cluster head).
    field: the result's fields are ``test_<field>`` and ``all70k_<field>``.
    about: what it is, in a few words (the result schema's description).
    label: its name in a sentence or on an axis (``python -m iic_tutorial evaluate``).
    percent: shown as a percentage (an accuracy) rather than as it is (NMI).
    """

    score: Callable[[np.ndarray, np.ndarray], float]
    head: str
    field: str
    about: str
    label: str
    percent: bool = True

    def __post_init__(self) -> None:
        if self.head not in ("Z", "Z_over"):
            raise ValueError(f"a score reads head 'Z' (10 clusters) or 'Z_over' (50 clusters); "
                             f"got {self.head!r}")
        if not self.field.isidentifier():
            raise ValueError(f"a score's field is a word such as 'accuracy'; got {self.field!r}")

    def text(self, value: float) -> str:
        """``value`` in words: ``'accuracy 99.08 %'`` or ``'NMI 0.973'``."""
        return f"{self.label} {100 * value:.2f} %" if self.percent else f"{self.label} {value:.3f}"


#: Every score an evaluation computes, by the key it has in an evaluation record and a curve.
SCORES: dict[str, Score] = {
    "acc": Score(cluster_accuracy, "Z", "accuracy", "Hungarian accuracy of the 10-cluster head",
                 "accuracy"),
    "nmi": Score(nmi, "Z", "nmi", "NMI of the 10-cluster head", "NMI", percent=False),
    "acc_over": Score(partial(cluster_accuracy, many_to_one=True), "Z_over",
                      "accuracy_over_many_to_one", "many-to-one accuracy of the 50-cluster head",
                      "over-clustering (many-to-one)"),
}


def scores(y_true: np.ndarray, clusters: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Every score of :data:`SCORES`, by key: ``{"acc": ..., "nmi": ..., "acc_over": ...}``.

    y_true: (n,) class ids; clusters: each head's cluster ids, ``{"Z": (n,), "Z_over": (n,)}``.
    """
    missing = {s.head for s in SCORES.values()} - set(clusters)
    if missing:
        raise ValueError(f"the scores need the cluster ids of head(s) {sorted(missing)}; "
                         f"got {sorted(clusters)}")
    return {name: float(s.score(y_true, clusters[s.head])) for name, s in SCORES.items()}


@dataclass(frozen=True)
class CurveKey:
    """A key of an evaluation record that a result's curve keeps.

    axis: its name on a plot's axis, with its unit (``"I(Z; Z') (nats)"``).
    percent: a fraction in [0, 1] shown in % (an accuracy).
    """

    axis: str
    percent: bool = False


#: The label-free keys of a curve point, before the scores (the losses and I, H in nats).
_LABEL_FREE = {
    "step": CurveKey("training step"), "epoch": CurveKey("epoch"),
    "wall_time": CurveKey("training time (s)"), "alpha": CurveKey("alpha, the weight of H(Z)"),
    "loss": CurveKey("loss (nats)"), "loss_k": CurveKey("loss of the 10-cluster head (nats)"),
    "loss_over": CurveKey("loss of the 50-cluster head (nats)"), "mi": CurveKey("I(Z; Z') (nats)"),
    "mi_over": CurveKey("I(Z; Z') of the 50-cluster head (nats)"), "H": CurveKey("H(Z) (nats)"),
    "H_over": CurveKey("H(Z) of the 50-cluster head (nats)"),
}

#: Accuracies a curve point keeps after the scores; not scores, so no test_/all70k_ fields.
_CHECKS = {
    "acc_raw_bn": CurveKey("test accuracy before BatchNorm's recalibration (%)", percent=True),
    "dev_acc": CurveKey("accuracy on the dev split (%)", percent=True),
}


def curve_keys() -> dict[str, CurveKey]:
    """Every key of a training curve's point, in order: label-free, the scores, the checks.

    A score of :data:`SCORES` is named on an axis as measured on the curve's
    images, the 10k test images: ``"test accuracy (%)"``, ``"test NMI"``.
    """
    scores = {key: CurveKey(f"test {s.label} (%)" if s.percent else f"test {s.label}", s.percent)
              for key, s in SCORES.items()}
    return {**_LABEL_FREE, **scores, **_CHECKS}
