"""Tests for iic_tutorial.toy: a real IIC run on 2-D blobs, and what alpha does to it."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from iic_tutorial import toy  # noqa: E402
from iic_tutorial.information import entropy  # noqa: E402


@pytest.fixture(scope="module")
def unequal() -> dict[float, toy.ToyResult]:
    """The default problem (blob sizes 0.6 / 0.25 / 0.15) at three alphas, seed 0."""
    return {a: toy.train_toy(a, seed=0) for a in (1.0, 2.0, 4.0)}


@pytest.fixture(scope="module")
def balanced() -> toy.ToyResult:
    return toy.train_toy(1.0, seed=0, sizes=toy.BALANCED_SIZES)


def test_make_blobs_sizes_and_determinism():
    x, y = toy.make_blobs(600, (0.6, 0.25, 0.15), seed=3)
    assert x.shape == (600, 2) and x.dtype == np.float32
    assert np.bincount(y).tolist() == [360, 150, 90]
    # each blob is centred on its centre
    centers = toy.blob_centers(3)
    for b in range(3):
        np.testing.assert_allclose(x[y == b].mean(axis=0), centers[b], atol=0.35)
    x2, y2 = toy.make_blobs(600, (0.6, 0.25, 0.15), seed=3)
    np.testing.assert_array_equal(x, x2)
    assert not np.array_equal(x, toy.make_blobs(600, (0.6, 0.25, 0.15), seed=4)[0])
    with pytest.raises(ValueError, match="sum to 1"):
        toy.make_blobs(100, (0.5, 0.6))
    with pytest.raises(ValueError, match="positive"):
        toy.make_blobs(100, (1.2, -0.2))


def test_train_toy_is_deterministic_for_a_seed(unequal):
    again = toy.train_toy(1.0, seed=0)
    np.testing.assert_array_equal(again.clusters, unequal[1.0].clusters)
    np.testing.assert_allclose(again.P, unequal[1.0].P, atol=1e-7)
    np.testing.assert_allclose(again.loss_history, unequal[1.0].loss_history, atol=1e-6)
    other = toy.train_toy(1.0, seed=1)
    assert not np.allclose(other.x, unequal[1.0].x)


def test_result_numbers_are_consistent(unequal):
    r = unequal[2.0]
    assert r.P.shape == (3, 3) and r.P.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(r.P, r.P.T, atol=1e-12)  # symmetric joint
    np.testing.assert_allclose(r.P_i, r.P.sum(axis=1))
    assert r.H_Z == pytest.approx(entropy(r.P_i))
    # the loss identity of the book: L = -I - (alpha - 1)(H(Z) + H(Z'))
    assert r.loss == pytest.approx(-r.I - (r.alpha - 1) * 2 * r.H_Z, abs=1e-9)
    # ... and the TensorFlow loss of the last training steps agrees with it
    assert np.mean(r.loss_history[-20:]) == pytest.approx(r.loss, abs=0.1)
    assert r.loss_history[-1] < r.loss_history[0]  # training lowered the loss
    assert r.clusters.shape == (600,) and r.grid_clusters.shape == (120, 120)
    assert set(np.unique(r.grid_clusters)) <= {0, 1, 2}


def test_well_separated_balanced_blobs_give_a_near_diagonal_P(balanced):
    r = balanced
    assert r.accuracy > 0.95
    # one dominant entry per row, and each row's dominant entry in a different column
    assert r.P.max(axis=1).sum() > 0.9
    assert sorted(r.P.argmax(axis=1)) == [0, 1, 2]
    assert r.I > 0.9 * math.log(3)
    assert r.H_Z == pytest.approx(math.log(3), abs=0.01)


def test_alpha_pushes_marginals_toward_uniform_for_unequal_blobs(unequal):
    H = [unequal[a].H_Z for a in (1.0, 2.0, 4.0)]
    assert H[0] < H[1] < H[2] < math.log(3)
    assert H[1] - H[0] > 0.1  # a clear jump, not noise
    # alpha = 1 finds the blobs with their true sizes ...
    assert unequal[1.0].accuracy > 0.95
    np.testing.assert_allclose(np.sort(unequal[1.0].P_i), [0.15, 0.25, 0.6], atol=0.03)
    # ... alpha = 4 splits the big blob: no cluster holds more than 45 % of the points
    assert unequal[4.0].accuracy < 0.9
    assert unequal[4.0].P_i.max() < 0.45
    # and pays for the balance with mutual information
    assert unequal[4.0].I < unequal[1.0].I


def test_balanced_blobs_are_unharmed_by_large_alpha(balanced):
    r = toy.train_toy(3.0, seed=0, sizes=toy.BALANCED_SIZES)
    assert r.accuracy > 0.95
    assert r.accuracy == pytest.approx(balanced.accuracy, abs=0.02)


def test_train_toy_rejects_bad_arguments():
    with pytest.raises(ValueError, match="alpha"):
        toy.train_toy(-1.0)
    with pytest.raises(ValueError, match="steps"):
        toy.train_toy(1.0, steps=0)
    with pytest.raises(ValueError, match="sum to 1"):
        toy.train_toy(1.0, sizes=(0.5, 0.2))


def test_sweep_alpha_shapes():
    sweep = toy.sweep_alpha(alphas=(1.0, 3.0), seeds=(0, 1), steps=50)
    assert list(sweep) == [1.0, 3.0]
    assert [len(v) for v in sweep.values()] == [2, 2]
    assert sweep[3.0][1].seed == 1 and sweep[3.0][1].alpha == 3.0


def test_plot_toy_shows_regions_points_and_marginals(unequal):
    r = unequal[4.0]
    fig = toy.plot_toy(r)
    ax = [a for a in fig.axes if a.get_label() == "toy"][0]
    bars = [a for a in fig.axes if a.get_label() == "P_i"][0]
    np.testing.assert_allclose([b.get_height() for b in bars.patches], r.P_i)
    assert ax.collections[1].get_offsets().shape == (600, 2)  # every point drawn
    assert "alpha = 4" in ax.get_title() and f"{r.H_Z:.2f}" in ax.get_title()
    # clusters matched to blobs take the blob's colour
    colors = toy.cluster_colors(r)
    assert colors.shape == (3, 4)
    plt.close("all")
