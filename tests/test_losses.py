import math

import numpy as np
import pytest
import tensorflow as tf

from iic_tutorial import information
from iic_tutorial.losses import iic_loss, self_label_loss


def numpy_iic_loss(z, z_prime, alpha):
    """Independent reference: -I - (alpha - 1)(H(Z) + H(Z')) from the entropy functions."""
    P = np.einsum("bi,bj->ij", z.astype(np.float64), z_prime.astype(np.float64))
    P = (P + P.T) / 2
    P /= P.sum()
    P_i, P_j = P.sum(axis=1), P.sum(axis=0)
    return (-information.mutual_information(P)
            - (alpha - 1) * (information.entropy(P_i) + information.entropy(P_j)))


def softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("alpha", [0.0, 1.0, 2.0, 10.0])
@pytest.mark.parametrize("k", [2, 10, 50])
def test_matches_independent_numpy_computation(alpha, k):
    rng = np.random.default_rng(k)
    z = softmax(rng.normal(size=(256, k)) * 3)
    z_prime = softmax(np.log(z + 1e-3) + rng.normal(size=(256, k)))
    got = float(iic_loss(tf.constant(z), tf.constant(z_prime), alpha))
    assert got == pytest.approx(numpy_iic_loss(z, z_prime, alpha), rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("k", [2, 10, 50])
def test_identical_balanced_one_hot_gives_minus_ln_k(k):
    z = tf.one_hot(np.arange(10 * k) % k, k)
    assert float(iic_loss(z, z)) == pytest.approx(-math.log(k), rel=1e-5)
    # general alpha: -(2 alpha - 1) ln k
    assert float(iic_loss(z, z, alpha=10.0)) == pytest.approx(-19 * math.log(k), rel=1e-5)


def test_uniform_point_value_for_alpha_10():
    """The plateau measured on the article's recipe: -2 (alpha - 1) ln 10 = -41.45."""
    z = tf.fill((100, 10), 0.1)
    assert float(iic_loss(z, z, alpha=10.0)) == pytest.approx(-41.4465, abs=1e-3)


def test_gradients_are_finite_for_one_hot_inputs():
    z = tf.Variable(tf.one_hot([0, 1, 2, 0], 3))
    z_prime = tf.one_hot([0, 1, 1, 2], 3)
    with tf.GradientTape() as tape:
        loss = iic_loss(z, z_prime, alpha=2.0)
    grad = tape.gradient(loss, z)
    assert np.all(np.isfinite(grad.numpy()))
    assert np.isfinite(float(loss))


def test_works_inside_tf_function_with_unknown_batch():
    f = tf.function(lambda a, b: iic_loss(a, b, 1.0),
                    input_signature=[tf.TensorSpec([None, 10]), tf.TensorSpec([None, 10])])
    z = tf.one_hot(np.arange(40) % 10, 10)
    assert float(f(z, z)) == pytest.approx(-math.log(10), rel=1e-5)


@pytest.mark.parametrize(
    "z, z_prime, match",
    [
        (np.full((8, 10), 0.1), np.full((8, 50), 0.02), r"same shape \(batch, k\); got \(8, 10\) and \(8, 50\)"),
        (np.full((10,), 0.1), np.full((10,), 0.1), "rank 2"),
        (np.full((2, 2, 2), 0.5), np.full((2, 2, 2), 0.5), "rank 2"),
    ],
)
def test_bad_shapes_raise_clear_errors(z, z_prime, match):
    with pytest.raises(ValueError, match=match):
        iic_loss(tf.constant(z, tf.float32), tf.constant(z_prime, tf.float32))


def test_negative_alpha_is_rejected():
    z = tf.fill((4, 2), 0.5)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        iic_loss(z, z, alpha=-1.0)



def test_a_python_alpha_keeps_float64_precision():
    """alpha = 1.7 with a float64 P: the loss to float64 round-off, not float32's."""
    import tensorflow as tf

    from iic_tutorial.losses import iic_loss_of_joint

    rng = np.random.default_rng(3)
    P = rng.random((10, 10))
    P = (P + P.T) / 2
    P /= P.sum()
    P_i, P_j = P.sum(1, keepdims=True), P.sum(0, keepdims=True)
    expected = np.sum(P * (1.7 * np.log(P_i) + 1.7 * np.log(P_j) - np.log(P)))
    got = float(iic_loss_of_joint(tf.constant(P), 1.7))
    assert abs(got - expected) <= 1e-14 * abs(expected)


def test_self_labelling_pays_the_views_cross_entropy_with_the_sure_clusters_only():
    rng = np.random.default_rng(3)
    z = rng.dirichlet(np.full(5, 0.1), size=400)  # peaked rows: many above 0.9, some not
    z_prime = rng.dirichlet(np.ones(5), size=400)
    sure = z.max(axis=1) > 0.9
    assert 0 < sure.sum() < 400
    expected = -np.log(z_prime[sure, z[sure].argmax(axis=1)]).mean()  # computed another way
    assert float(self_label_loss(z, z_prime, 0.9)) == pytest.approx(expected, rel=1e-12)
    assert float(self_label_loss(z, z_prime, 0.9999999)) == pytest.approx(
        -np.log(z_prime[z.max(axis=1) > 0.9999999, z[z.max(axis=1) > 0.9999999].argmax(axis=1)]).mean()
        if (z.max(axis=1) > 0.9999999).any() else 0.0)
    z_t, zp_t = tf.constant(z), tf.constant(z_prime)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([z_t, zp_t])
        loss = self_label_loss(z_t, zp_t, 0.9)
    assert tape.gradient(loss, z_t) is None  # the labels are constants
    g = tape.gradient(loss, zp_t).numpy()
    assert np.all(g[~sure] == 0) and np.all(g[sure].min(axis=1) < 0)  # only sure rows pull


def test_self_labelling_with_no_sure_image_is_zero_and_bad_input_says_why():
    z = np.full((4, 10), 0.1)
    assert float(self_label_loss(z, z, 0.99)) == 0.0
    with pytest.raises(ValueError, match=r"threshold is a probability in \[0, 1\); got 1.5"):
        self_label_loss(z, z, 1.5)
    with pytest.raises(ValueError, match="z and z_prime must have the same shape"):
        self_label_loss(z, z[:, :5], 0.5)
