"""The IIC objective in TensorFlow."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["iic_loss", "iic_loss_of_joint", "joint_distribution", "joint_counts", "joint_from_counts",
           "self_label_loss", "check_probabilities", "EPS", "ROW_SUM_TOLERANCE", "BF16_ROW_SUM_TOLERANCE"]

#: Inside the logarithms, P, P_i and P_j are clamped to at least this (the
#: official IIC code clamps P itself), so one-hot inputs give finite values and
#: gradients while entries with P_ij = 0 still contribute exactly 0.
EPS = float(1e-8)


def _check(z: tf.Tensor, z_prime: tf.Tensor) -> None:
    """Raise ValueError unless z and z_prime are (batch, k) tensors of one shape."""
    if z.shape.rank != 2 or z_prime.shape.rank != 2:
        raise ValueError(
            f"z and z_prime must have rank 2, shape (batch, k); got shapes "
            f"{tuple(z.shape)} and {tuple(z_prime.shape)}"
        )
    if not z.shape.is_compatible_with(z_prime.shape):
        raise ValueError(
            f"z and z_prime must have the same shape (batch, k); got "
            f"{tuple(z.shape)} and {tuple(z_prime.shape)}"
        )


#: How far a row of z may sum from 1 and still count as a probability vector:
#: float32 softmax rows are within ~1e-6 of 1, so this is loose for them and
#: tight for anything else (raw logits, scores, counts).
ROW_SUM_TOLERANCE = 1e-3
#: The same for the softmax of a network run in bfloat16 (``TrainConfig(precision="bf16")``):
#: its rows sum to 1 within about 3e-3 (measured on the shipped model).
BF16_ROW_SUM_TOLERANCE = 1e-2


def check_probabilities(z, name: str = "z", tolerance: float = ROW_SUM_TOLERANCE) -> None:
    """Raise ValueError unless every row of ``z`` (batch, k) is a probability vector.

    In eager mode (a NumPy array or an eager tensor) every row is checked:
    finite, >= 0 and summing to 1 within ``tolerance`` (default
    :data:`ROW_SUM_TOLERANCE`); the message
    names the first bad row and what to do (raw logits: apply softmax first).
    Inside ``tf.function`` the same three conditions become ``tf.debugging``
    assertions on the batch (raised as ``InvalidArgumentError`` when the graph
    runs).
    """
    if not tf.executing_eagerly():
        tf.debugging.assert_all_finite(z, f"{name} holds NaN or Inf: it must be softmax outputs")
        tf.debugging.assert_non_negative(z, f"{name} has negative entries: apply softmax first")
        tf.debugging.assert_near(tf.reduce_sum(z, axis=1), tf.ones_like(z[:, 0]),
                                 atol=tolerance,
                                 message=f"rows of {name} must sum to 1: apply softmax first")
        return
    a = np.asarray(z, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty (batch, k) array of probabilities; "
                         f"got shape {a.shape}")
    bad = ~np.isfinite(a).all(axis=1)
    if bad.any():
        raise ValueError(f"{name} holds NaN or Inf (first in row {int(np.argmax(bad))} of "
                         f"{len(a)}): it must be softmax outputs; check the network's input")
    sums = a.sum(axis=1)
    logits_hint = ("; it looks like raw logits: apply softmax first "
                   "(tf.nn.softmax(logits, axis=-1))")
    if (a < 0).any():
        row = int(np.argmax((a < 0).any(axis=1)))
        raise ValueError(f"{name} has negative entries (row {row}, min {a.min():.3g}): rows must be "
                         f"probabilities{logits_hint}")
    off = np.abs(sums - 1.0) > tolerance
    if off.any():
        row = int(np.argmax(off))
        raise ValueError(f"rows of {name} must sum to 1; row {row} sums to {sums[row]:.6g}"
                         f"{logits_hint}")


def joint_counts(z: tf.Tensor, z_prime: tf.Tensor) -> tf.Tensor:
    """C = sum_b outer(z_b, z'_b), the (k, k) joint before symmetrising and normalising.

    A plain sum over the batch, so the counts of several shards of a batch
    add up to the counts of the whole batch: on several devices each replica
    computes its own C and they are all-reduced (summed) before
    :func:`joint_from_counts` -- which is what makes the distributed loss the
    loss of the global batch (``IICTrainer(strategy=...)``).
    """
    return tf.matmul(z, z_prime, transpose_a=True)  # (k, k): sum over the batch


def joint_from_counts(C: tf.Tensor) -> tf.Tensor:
    """P = sym(C) / sum(sym(C)) with sym(A) = (A + A^T) / 2, for counts C of :func:`joint_counts`."""
    P = (C + tf.transpose(C)) / 2.0
    return P / tf.reduce_sum(P)


def joint_distribution(z: tf.Tensor, z_prime: tf.Tensor) -> tf.Tensor:
    """P = sym(sum_b outer(z_b, z'_b)) / total, with sym(A) = (A + A^T) / 2.

    ``z``, ``z_prime``: softmax outputs of shape ``(batch, k)``. Returns the
    symmetric ``(k, k)`` joint distribution P used by :func:`iic_loss`
    (non-negative, sums to 1).
    """
    z = tf.convert_to_tensor(z)
    z_prime = tf.convert_to_tensor(z_prime, dtype=z.dtype)
    _check(z, z_prime)
    return joint_from_counts(joint_counts(z, z_prime))


def iic_loss_of_joint(P: tf.Tensor, alpha: float = 1.0, eps: float = EPS) -> tf.Tensor:
    """L = sum_ij P_ij * (alpha ln P_i + alpha ln P_j - ln P_ij) for a (k, k) joint P.

    The loss of :func:`iic_loss` once P is known (P_i, P_j: its row and
    column sums; logs clamped at ``eps``). Returns a scalar tensor in nats.
    """
    P_i = tf.reduce_sum(P, axis=1, keepdims=True)  # (k, 1)
    P_j = tf.reduce_sum(P, axis=0, keepdims=True)  # (1, k)
    # a Python number straight to P's dtype (through float32 first, 1.7 would be 1.70000005)
    alpha = tf.cast(alpha, P.dtype) if tf.is_tensor(alpha) else tf.constant(alpha, P.dtype)

    def log(t: tf.Tensor) -> tf.Tensor:
        return tf.math.log(tf.maximum(t, eps))

    return tf.reduce_sum(P * (alpha * log(P_i) + alpha * log(P_j) - log(P)))


def iic_loss(z: tf.Tensor, z_prime: tf.Tensor, alpha: float = 1.0, eps: float = EPS,
             validate: bool = True, row_tolerance: float = ROW_SUM_TOLERANCE) -> tf.Tensor:
    """IIC loss  L = sum_ij P_ij * (alpha ln P_i + alpha ln P_j - ln P_ij).

    ``z``, ``z_prime``: softmax outputs of shape ``(batch, k)`` for images and
    their augmented views. P is their symmetric joint distribution
    (:func:`joint_distribution`), P_i and P_j its marginals. In terms of
    entropies (nats)::

        L = -I(Z; Z') - (alpha - 1) * (H(Z) + H(Z'))

    so alpha = 1 is the paper's loss, -I(Z; Z'), and alpha > 1 rewards
    balanced marginals more strongly (the official code calls alpha
    ``lamb``). For identical, balanced one-hot z and z' the loss is
    -(2 alpha - 1) ln k; at the uniform solution it is -2 (alpha - 1) ln k.
    Returns a scalar tensor in nats (dtype of ``z``).

    ``validate`` (default True) checks that z and z_prime are probability
    rows (:func:`check_probabilities`: a clear ValueError for NaN, negative
    entries or raw logits), rows summing to 1 within ``row_tolerance``. The
    trainer turns it off in its hot loop, where the inputs are softmax outputs
    by construction and a NaN shows in the loss.
    """
    if not isinstance(alpha, tf.Tensor) and alpha < 0:
        raise ValueError(f"alpha must be >= 0 (1 is the paper's loss); got {alpha}")
    if validate:
        z = tf.convert_to_tensor(z)
        z_prime = tf.convert_to_tensor(z_prime, dtype=z.dtype)
        _check(z, z_prime)
        check_probabilities(z, "z", row_tolerance)
        check_probabilities(z_prime, "z_prime", row_tolerance)
    return iic_loss_of_joint(joint_distribution(z, z_prime), alpha, eps)


def self_label_loss(z: tf.Tensor, z_prime: tf.Tensor, threshold: float = 0.99,
                    eps: float = EPS) -> tf.Tensor:
    """Self-labelling's cross-entropy (SCAN's last step): the views learn the sure clusters.

    ``z``: (batch, k) softmax outputs for the images, ``z_prime``: (batch, k) for
    their views, row b of one paired with row b of the other. An image whose
    largest probability is above ``threshold`` takes its cluster as a label,
    y_b = argmax_c z_bc, and its view pays its cross-entropy with it::

        L = - (1 / |S|) sum_{b in S} ln z'_{b, y_b},   S = {b : max_c z_bc > threshold}

    in nats; 0 when no image is that sure. The labels are constants (no gradient
    flows through z): the network is pulled towards what it already says of the
    images it is sure of. ``z'`` is clamped to at least ``eps`` inside the logarithm.
    """
    z = tf.stop_gradient(tf.convert_to_tensor(z))
    z_prime = tf.convert_to_tensor(z_prime, dtype=z.dtype)
    _check(z, z_prime)
    if not isinstance(threshold, tf.Tensor) and not 0 <= threshold < 1:
        raise ValueError(f"threshold is a probability in [0, 1); got {threshold}")
    sure = tf.cast(tf.reduce_max(z, axis=1) > threshold, z.dtype)
    picked = tf.gather(z_prime, tf.argmax(z, axis=1), axis=1, batch_dims=1)  # z'_{b, y_b}
    ce = -tf.math.log(tf.maximum(picked, tf.cast(eps, z.dtype)))
    return tf.reduce_sum(sure * ce) / tf.maximum(tf.reduce_sum(sure), 1.0)
