import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from iic_tutorial.information import (
    conditional_entropy,
    entropy,
    joint_distribution,
    joint_entropy,
    marginals,
    mutual_information,
    mutual_information_from_entropies,
)


def test_entropy_hand_worked():
    assert entropy([0.5, 0.5]) == pytest.approx(math.log(2))
    assert entropy([1.0, 0.0, 0.0]) == 0.0
    # H(1/2, 1/4, 1/4) = 1.5 bits = 1.5 ln 2 nats
    assert entropy([0.5, 0.25, 0.25]) == pytest.approx(1.5 * math.log(2))


@pytest.mark.parametrize("k", [2, 3, 10, 50])
def test_entropy_of_uniform_is_ln_k(k):
    assert entropy(np.full(k, 1 / k)) == pytest.approx(math.log(k))


@pytest.mark.parametrize(
    "p, message",
    [([0.5, 0.6], "sum to 1"), ([1.2, -0.2], "negative"), ([np.nan, 1.0], "NaN"), ([], "empty")],
)
def test_entropy_rejects_non_distributions(p, message):
    with pytest.raises(ValueError, match=message):
        entropy(p)


def test_joint_distribution_is_mean_outer_product_symmetrised():
    z = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    z_prime = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    # outer products: (0,1), (1,1), (0,0) -> counts [[1,1],[0,1]] / 3, symmetrised
    P = joint_distribution(z, z_prime)
    np.testing.assert_allclose(P, [[1 / 3, 1 / 6], [1 / 6, 1 / 3]])
    np.testing.assert_allclose(joint_distribution(z, z_prime, symmetric=False), [[1 / 3, 1 / 3], [0, 1 / 3]])


def test_joint_distribution_shape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"same shape \(batch, k\); got \(4, 10\) and \(4, 50\)"):
        joint_distribution(np.full((4, 10), 0.1), np.full((4, 50), 0.02))


def test_joint_distribution_rejects_non_probability_rows():
    with pytest.raises(ValueError, match="probability vector"):
        joint_distribution(np.ones((3, 2)), np.full((3, 2), 0.5))


def test_marginals_and_hand_worked_mutual_information():
    P = np.array([[0.4, 0.1], [0.1, 0.4]])
    P_i, P_j = marginals(P)
    np.testing.assert_allclose(P_i, [0.5, 0.5])
    np.testing.assert_allclose(P_j, [0.5, 0.5])
    expected = 2 * 0.4 * math.log(0.4 / 0.25) + 2 * 0.1 * math.log(0.1 / 0.25)
    assert mutual_information(P) == pytest.approx(expected)
    assert conditional_entropy(P) == pytest.approx(joint_entropy(P) - math.log(2))


@pytest.mark.parametrize("k", [2, 10, 50])
def test_mutual_information_extremes(k):
    assert mutual_information(np.eye(k) / k) == pytest.approx(math.log(k))
    p = np.random.default_rng(k).dirichlet(np.ones(k))
    assert mutual_information(np.outer(p, p)) == pytest.approx(0.0, abs=1e-12)


joints = arrays(np.float64, st.tuples(st.integers(2, 6), st.integers(2, 6)),
                elements=st.floats(0, 1, allow_nan=False)).filter(lambda a: a.sum() > 1e-3)


@settings(max_examples=200, deadline=None)
@given(joints)
def test_mutual_information_invariants(a):
    P = a / a.sum()
    P_i, P_j = P.sum(axis=1), P.sum(axis=0)
    mi = mutual_information(P)
    assert -1e-12 <= mi <= min(entropy(P_i), entropy(P_j)) + 1e-9
    assert mi == pytest.approx(mutual_information_from_entropies(P), abs=1e-9)
    assert mi == pytest.approx(mutual_information(P.T), abs=1e-12)
    assert conditional_entropy(P) >= -1e-9


def test_zero_is_never_negative_zero():
    assert str(entropy([1.0, 0.0])) == "0.0"
    assert str(mutual_information(np.outer([0.5, 0.5], [0.5, 0.5]))) == "0.0"
