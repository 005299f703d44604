"""The IIC objective in TensorFlow."""

from __future__ import annotations

import tensorflow as tf

__all__ = ["iic_loss", "joint_distribution", "EPS"]

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


def joint_distribution(z: tf.Tensor, z_prime: tf.Tensor) -> tf.Tensor:
    """P = sym(sum_b outer(z_b, z'_b)) / total, with sym(A) = (A + A^T) / 2.

    ``z``, ``z_prime``: softmax outputs of shape ``(batch, k)``. Returns the
    symmetric ``(k, k)`` joint distribution P used by :func:`iic_loss`
    (non-negative, sums to 1).
    """
    z = tf.convert_to_tensor(z)
    z_prime = tf.convert_to_tensor(z_prime, dtype=z.dtype)
    _check(z, z_prime)
    P = tf.matmul(z, z_prime, transpose_a=True)  # (k, k): sum over the batch
    P = (P + tf.transpose(P)) / 2.0
    return P / tf.reduce_sum(P)


def iic_loss(z: tf.Tensor, z_prime: tf.Tensor, alpha: float = 1.0, eps: float = EPS) -> tf.Tensor:
    """IIC loss  L = sum_ij P_ij * (alpha ln P_i + alpha ln P_j - ln P_ij).

    ``z``, ``z_prime``: softmax outputs of shape ``(batch, k)`` for images and
    their augmented twins. P is their symmetric joint distribution
    (:func:`joint_distribution`), P_i and P_j its marginals. In terms of
    entropies (nats)::

        L = -I(Z; Z') - (alpha - 1) * (H(Z) + H(Z'))

    so alpha = 1 is the paper's loss, -I(Z; Z'), and alpha > 1 rewards
    balanced marginals more strongly (the official code calls alpha
    ``lamb``). For identical, balanced one-hot z and z' the loss is
    -(2 alpha - 1) ln k; at the uniform solution it is -2 (alpha - 1) ln k.
    Returns a scalar tensor in nats (dtype of ``z``).
    """
    if not isinstance(alpha, tf.Tensor) and alpha < 0:
        raise ValueError(f"alpha must be >= 0 (1 is the paper's loss); got {alpha}")
    P = joint_distribution(z, z_prime)
    P_i = tf.reduce_sum(P, axis=1, keepdims=True)  # (k, 1)
    P_j = tf.reduce_sum(P, axis=0, keepdims=True)  # (1, k)
    alpha = tf.cast(alpha, P.dtype)

    def log(t: tf.Tensor) -> tf.Tensor:
        return tf.math.log(tf.maximum(t, eps))

    return tf.reduce_sum(P * (alpha * log(P_i) + alpha * log(P_j) - log(P)))
