import math

import numpy as np
import pytest

from iic_tutorial.metrics import (
    GROUPS,
    cluster_accuracy,
    confusion_matrix,
    contingency,
    group_counts,
    group_label,
    largest_confusion,
    largest_confusions,
    match_clusters,
    matched_labels,
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
    # each image's cluster read as its matched class (cluster 1 -> 0, 0 -> 1, 2 -> 2)
    assert matched_labels(y_true, y_pred).tolist() == [0, 0, 1, 1, 1, 2, 2, 0]
    C = confusion_matrix(y_true, y_pred)
    named = matched_labels(y_true, y_pred)
    for d in range(3):  # the cell (d, c) of the matched matrix holds the images it selects
        for c in range(3):
            assert np.sum((y_true == d) & (named == c)) == C[d, c]


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
    assert (matched_labels(y_true, y_pred) == -1).sum() == 4  # two clusters left without a class
    assert matched_labels(y_true, y_pred, many_to_one=True).tolist() == y_true.tolist()


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
    # the n largest, largest first, ties in row-major order; n = 1 is largest_confusion's
    assert largest_confusions(C, 3) == [(2, 3, 12), (1, 2, 9), (2, 1, 7)]
    assert largest_confusions(np.array([[5, 4, 1], [4, 5, 0], [0, 1, 5]]), 2) == [(0, 1, 4), (1, 0, 4)]
    assert largest_confusions(M) == [largest_confusion(M)]
    with pytest.raises(ValueError, match="n is how many mistakes to return"):
        largest_confusions(C, 0)


def test_the_two_groups_are_read_from_a_matched_confusion_matrix():
    # 12 nines written like a g clustered with the eights, 7 footed ones with the twos
    y_true = np.array([9] * 88 + [9] * 12 + [8] * 100 + [1] * 93 + [1] * 7 + [2] * 100 + list(range(10)))
    y_pred = np.array([3] * 88 + [6] * 12 + [6] * 100 + [0] * 93 + [4] * 7 + [4] * 100
                      + [5, 0, 4, 7, 8, 9, 1, 2, 6, 3])
    C = confusion_matrix(y_true, y_pred)
    assert C[9, 9] == 89 and C[8, 8] == 101  # matched: column 8 is the eights' cluster
    assert group_counts(C) == {"nines_in_eights": 12, "ones_in_twos": 7}
    assert set(group_counts(C)) == set(GROUPS)
    assert [group_label(g) for g in GROUPS] == ["9s in 8's", "1s in 2's"]
    with pytest.raises(ValueError, match="at least 10 digits"):
        group_counts(np.eye(3))
    with pytest.raises(ValueError, match="unknown group 'sevens'"):
        group_label("sevens")


def test_scores_are_checked_and_worded():
    from iic_tutorial.metrics import SCORES, Score, scores

    y = np.array([0, 0, 1, 1])
    assert scores(y, {"Z": np.array([1, 1, 0, 0]), "Z_over": np.array([3, 4, 5, 5])}) == {
        "acc": 1.0, "nmi": pytest.approx(1.0), "acc_over": 1.0}
    with pytest.raises(ValueError, match=r"need the cluster ids of head\(s\) \['Z_over'\]"):
        scores(y, {"Z": y})
    with pytest.raises(ValueError, match="head 'Z' .* or 'Z_over'"):
        Score(nmi, "Z_50", "nmi", "NMI", "NMI")
    assert SCORES["acc"].text(0.99084) == "accuracy 99.08 %"
    assert SCORES["nmi"].text(0.97312) == "NMI 0.973"


def test_a_new_score_is_one_edit(monkeypatch, tmp_path, capsys):
    # one entry in metrics.SCORES: evaluate(), the training curve, the result's test_ and
    # all70k_ fields and their schema, the CLI's evaluate (words and JSON) and plot_runs' axis
    # all know it -- nothing else is touched
    import json

    from iic_tutorial import metrics
    from iic_tutorial.__main__ import main
    from iic_tutorial.data import load_mnist
    from iic_tutorial.plots import plot_runs
    from iic_tutorial.runs import curve_fields, result_fields

    ones = metrics.Score(lambda y, pred: float(np.mean(y == 1)), "Z_over", "share_of_ones",
                         "the share of ones among the images (a test's)", "share of ones")
    monkeypatch.setitem(metrics.SCORES, "ones", ones)
    assert "ones" in curve_fields()
    assert result_fields()["test_share_of_ones"] == "the share of ones among the images (a test's) " \
                                                    "on the 10k test images"
    assert "all70k_share_of_ones" in result_fields()
    out = tmp_path / "run"
    assert main(["train", "--steps", "2", "--batch-size", "20", "--limit", "100", "--eval-every", "1",
                 "--out", str(out), "--quiet"]) == 0
    result = json.loads((out / "result.json").read_text())
    (_, y_train), (_, y_test) = load_mnist(limit=100)
    assert result["test_share_of_ones"] == np.mean(y_test == 1) > 0  # the labels it was given
    assert result["all70k_share_of_ones"] == np.mean(np.concatenate([y_train, y_test]) == 1)
    assert [p["ones"] for p in result["curve"]] == [np.mean(y_test == 1)] * 2
    assert list(result) == list(result_fields())
    capsys.readouterr()
    assert main(["evaluate", "--weights", str(out / "model.weights.h5"), "--limit", "100"]) == 0
    assert f"share of ones {100 * np.mean(y_test == 1):.2f} %" in capsys.readouterr().out
    assert main(["evaluate", "--weights", str(out / "model.weights.h5"), "--limit", "100",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ones"] == np.mean(y_test == 1)
    fig = plot_runs([{**result, "name": "run"}], y="ones")
    assert fig.axes[0].get_ylabel() == "test share of ones (%)"
    assert max(fig.axes[0].lines[0].get_ydata()) == 100 * np.mean(y_test == 1)
