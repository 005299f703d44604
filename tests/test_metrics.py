import math

import numpy as np
import pytest

from iic_tutorial.metrics import (
    cluster_accuracy,
    confusion_matrix,
    contingency,
    largest_confusion,
    match_clusters,
    nmi,
)


def test_permuted_labels_score_perfectly():
    y = np.repeat(np.arange(10), 20)
    perm = np.random.default_rng(0).permutation(10)
    assert cluster_accuracy(y, perm[y]) == 1.0
    assert nmi(y, perm[y]) == pytest.approx(1.0)
    C = confusion_matrix(y, perm[y])
    np.testing.assert_array_equal(C, np.diag(np.full(10, 20)))


def test_hand_worked_hungarian():
    y_true = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    y_pred = np.array([1, 1, 0, 0, 0, 2, 2, 1])
    # best one-to-one: 1->0 (2), 0->1 (2), 2->2 (2) = 6/8
    assert cluster_accuracy(y_true, y_pred) == pytest.approx(6 / 8)
    assert match_clusters(y_true, y_pred) == {1: 0, 0: 1, 2: 2}


def test_greedy_would_be_wrong():
    # cluster 0 is mostly class 0, but matching it to class 1 is globally better
    C = np.array([[5, 4], [4, 0]])
    y_true = np.repeat([0, 0, 1, 1], C.ravel())
    y_pred = np.repeat([0, 1, 0, 1], C.ravel())
    assert cluster_accuracy(y_true, y_pred) == pytest.approx(8 / 13)


def test_more_clusters_than_classes():
    y_true = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    y_pred = np.array([0, 0, 1, 1, 2, 2, 3, 3])  # each class split in two over-clusters
    assert cluster_accuracy(y_true, y_pred) == pytest.approx(0.5)
    assert cluster_accuracy(y_true, y_pred, many_to_one=True) == 1.0
    assert match_clusters(y_true, y_pred, many_to_one=True) == {0: 0, 1: 0, 2: 1, 3: 1}
    assert confusion_matrix(y_true, y_pred).shape == (2, 4)


def test_nmi_against_hand_computation():
    y_true = np.array([0, 0, 1, 1])
    y_pred = np.array([0, 1, 1, 1])
    # P = [[1/4, 1/4], [0, 1/2]]; I = 1/4 ln(1/4/(1/2*1/4)) + 1/4 ln(1/4/(1/2*3/4)) + 1/2 ln(1/2/(1/2*3/4))
    I = 0.25 * math.log(2) + 0.25 * math.log(2 / 3) + 0.5 * math.log(4 / 3)
    H_y = math.log(2)
    H_c = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    assert nmi(y_true, y_pred) == pytest.approx(I / ((H_y + H_c) / 2))
    assert nmi(np.zeros(5, int), np.zeros(5, int)) == 0.0


def test_contingency_counts():
    C = contingency([0, 1, 1, 2], [1, 1, 0, 1], k=3)
    np.testing.assert_array_equal(C, [[0, 1, 0], [1, 1, 0], [0, 1, 0]])


@pytest.mark.parametrize(
    "y_true, y_pred, match",
    [([0, 1], [0], "same length"), ([0, 1], [0.2, 0.8], "non-negative integer ids"), ([], [], "empty")],
)
def test_bad_input(y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        cluster_accuracy(np.array(y_true), np.array(y_pred))


def test_largest_confusion_skips_the_matched_diagonal():
    C = np.array([[50, 3, 0, 1],
                  [2, 40, 9, 0],
                  [0, 7, 45, 12]])  # 3 classes, 4 clusters; the last is unmatched
    assert largest_confusion(C) == (2, 3, 12)
    y_true = np.array([7] * 90 + [2] * 100 + [7] * 10)  # 10 sevens in the cluster of the twos
    y_pred = np.array([5] * 90 + [1] * 100 + [1] * 10)
    M = confusion_matrix(y_true, y_pred, k=10)
    assert largest_confusion(M) == (7, 2, 10)
    with pytest.raises(ValueError, match="clusters >= classes"):
        largest_confusion(np.ones((3, 2)))
