"""IIC for segmentation: the per-pixel joint over a window of displacements, and its loss.

The network gives a k-way softmax per pixel: z (for x) and z_prime (for its view x'),
both ``(batch, H, W, k)`` with z_prime brought back into x's frame
(:func:`iic_tutorial.segmentation.warp.warp`). Local spatial invariance pairs every
pixel p of z with the pixel p - t of z_prime for each displacement t in a
(2T+1) x (2T+1) window:

    J_t[i, j] = sum_b sum_p z[b, p, i] * z_prime[b, p - t, j]   (0 outside the map)

a (k, k) joint of counts per displacement, summed over the batch and the pixels. A
border pixel has fewer partners inside the map, so it counts in fewer pairs (the
official code's zero padding). This is the official ``conv2d(x1_outs,
weight=x2_outs_inv, padding=T)`` (xu-ji/IIC, ``code/utils/segmentation/IID_losses.py``),
written as one matrix product per displacement. With P_t the symmetrised, normalised
J_t and P_i, P_j its marginals:

* uncollapsed (``IID_segmentation_loss_uncollapsed``, every command of the paper):
  L = (1 / (2T+1)^2) sum_t sum_ij P_t,ij (alpha ln P_t,i + alpha ln P_t,j - ln P_t,ij),
  the mean over displacements of the classification loss of each P_t;
* collapsed (``IID_segmentation_loss``): the loss of one P from sum_t J_t.

At alpha = 1 (the official ``lamb``) each term is -I(Z; Z'), in nats. As in the
official code, P, P_i and P_j are clamped at :data:`EPS` (machine epsilon) wherever
they appear, and a mask (1: keep, 0: leave out) multiplies z and z_prime first.
"""

from __future__ import annotations

import sys

import numpy as np
import tensorflow as tf

from ..losses import ROW_SUM_TOLERANCE, check_probabilities
from .warp import warp

__all__ = ["EPS", "displacement_joints", "segmentation_loss_of_joints", "iic_segmentation_loss",
           "joints_to_P"]

#: The clamp of the official segmentation losses: ``sys.float_info.epsilon`` (2.2e-16).
EPS = sys.float_info.epsilon


def _check_maps(z: tf.Tensor, z_prime: tf.Tensor, T: int) -> None:
    if z.shape.rank != 4 or z_prime.shape.rank != 4:
        raise ValueError(f"z and z_prime must be per-pixel softmax maps of shape (batch, H, W, k); "
                         f"got shapes {tuple(z.shape)} and {tuple(z_prime.shape)}")
    if not z.shape.is_compatible_with(z_prime.shape):
        raise ValueError(f"z and z_prime must have the same shape (batch, H, W, k); got "
                         f"{tuple(z.shape)} and {tuple(z_prime.shape)}. Warp z_prime back to "
                         "x's frame at x's resolution first")
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 0:
        raise ValueError(f"T (half the side of the displacement window) must be an int >= 0; "
                         f"got {T!r}")
    H, W = z.shape[1], z.shape[2]
    if H is not None and W is not None and T >= min(H, W):
        raise ValueError(f"T = {T} is too large for a {H} x {W} map: a displacement of T "
                         f"pixels must leave pixel pairs inside it; use T <= {min(H, W) - 1}")


def _check_mask(mask: tf.Tensor, z: tf.Tensor) -> tf.Tensor:
    shape = tuple(z.shape[:3])
    if tuple(mask.shape) == shape + (1,):
        mask = mask[..., 0]
    if tuple(mask.shape) != shape:
        raise ValueError(f"mask must have shape (batch, H, W) = {shape} (or with a last axis of "
                         f"1), one weight per pixel of z; got {tuple(mask.shape)}")
    if tf.executing_eagerly():
        m = mask.numpy()
        if not np.all(np.isfinite(m)) or m.min() < 0:
            raise ValueError("mask must hold finite weights >= 0 (1: keep the pixel, 0: leave "
                             "it out)")
        if not m.any():
            raise ValueError("mask is 0 everywhere: no pixel pair is left to build P from")
    return mask


def displacement_joints(z: tf.Tensor, z_prime: tf.Tensor, T: int = 1,
                        mask: tf.Tensor | None = None) -> tf.Tensor:
    """J[u, v, i, j] = sum_{b,y,x} z[b, y+u-T, x+v-T, i] z'[b, y, x, j]: counts per displacement.

    ``z``, ``z_prime``: ``(batch, H, W, k)``, z_prime already in x's frame;
    ``mask``: optional ``(batch, H, W)`` weights multiplying both maps. Returns
    the ``(2T+1, 2T+1, k, k)`` joints of counts (not normalised, not
    symmetrised), index [T, T] the displacement 0: the official
    ``conv2d(x1_outs, weight=x2_outs_inv, padding=T)`` with its (k, k) axes last.
    Each J_t is a plain sum over the batch, so shards of a batch add up.
    """
    z = tf.convert_to_tensor(z)
    z_prime = tf.convert_to_tensor(z_prime, dtype=z.dtype)
    _check_maps(z, z_prime, T)
    if mask is not None:
        mask = _check_mask(tf.cast(tf.convert_to_tensor(mask), z.dtype), z)[..., None]
        z, z_prime = z * mask, z_prime * mask
    H, W, k = z.shape[1], z.shape[2], z.shape[3]
    z_pad = tf.pad(z, [[0, 0], [T, T], [T, T], [0, 0]])
    right = tf.reshape(z_prime, [-1, k])  # (batch * H * W, k)
    rows = []
    for u in range(2 * T + 1):
        row = []
        for v in range(2 * T + 1):
            left = tf.reshape(z_pad[:, u:u + H, v:v + W, :], [-1, k])
            row.append(tf.matmul(left, right, transpose_a=True))  # (k, k)
        rows.append(tf.stack(row))
    return tf.stack(rows)


def joints_to_P(J: tf.Tensor, collapsed: bool = False) -> tf.Tensor:
    """The normalised, symmetrised joint(s) the loss uses, from :func:`displacement_joints`.

    Uncollapsed: ``(2T+1, 2T+1, k, k)``, each P_t = sym(J_t / sum J_t) with
    sym(A) = (A + A^T) / 2. Collapsed: one ``(k, k)`` P = sym(C / sum C), C =
    sum_t J_t, where the normaliser is held constant for the gradient as in the
    official code (``float(p_i_j.sum())``; see :func:`iic_segmentation_loss`).
    """
    if collapsed:
        C = tf.reduce_sum(J, axis=[0, 1])
        P = C / tf.stop_gradient(tf.reduce_sum(C))
        return (P + tf.transpose(P)) / 2.0
    P = J / tf.reduce_sum(J, axis=[2, 3], keepdims=True)
    return (P + tf.transpose(P, [0, 1, 3, 2])) / 2.0


def segmentation_loss_of_joints(J: tf.Tensor, alpha: float = 1.0, collapsed: bool = False,
                                eps: float = EPS) -> tf.Tensor:
    """The loss of counts J ``(2T+1, 2T+1, k, k)``: mean over t (or of sum_t J_t) of
    sum_ij P_ij (alpha ln P_i + alpha ln P_j - ln P_ij), P, P_i, P_j clamped at ``eps``.

    Returns a scalar tensor in nats. See :func:`iic_segmentation_loss`.
    """
    P = joints_to_P(J, collapsed)
    # convert_to_tensor, not tf.cast: tf.cast(1.7, tf.float64) goes through float32
    alpha = (tf.cast(alpha, P.dtype) if isinstance(alpha, tf.Tensor)
             else tf.convert_to_tensor(alpha, dtype=P.dtype))
    P_i = tf.reduce_sum(P, axis=-1, keepdims=True)  # (..., k, 1)
    P_j = tf.reduce_sum(P, axis=-2, keepdims=True)  # (..., 1, k)
    P, P_i, P_j = (tf.maximum(a, eps) for a in (P, P_i, P_j))
    total = tf.reduce_sum(P * (alpha * tf.math.log(P_i) + alpha * tf.math.log(P_j)
                               - tf.math.log(P)))
    if collapsed:
        return total
    n = J.shape[0]
    return total / tf.cast(n * n, P.dtype)


def iic_segmentation_loss(z: tf.Tensor, z_prime: tf.Tensor, T: int = 1, alpha: float = 1.0,
                          mask: tf.Tensor | None = None, affine_21: tf.Tensor | None = None,
                          collapsed: bool = False, eps: float = EPS, validate: bool = True,
                          row_tolerance: float = ROW_SUM_TOLERANCE) -> tf.Tensor:
    """IIC's segmentation loss, official code's ``IID_segmentation_loss[_uncollapsed]``.

    ``z``: ``(batch, H, W, k)`` per-pixel softmax of x; ``z_prime``: the same for
    the view x', in the view's frame if ``affine_21`` (``(batch, 2, 3)``, the
    view-to-x transform, :func:`~iic_tutorial.segmentation.warp.random_affine`'s
    second value) is given, which then warps it back into x's frame first;
    without ``affine_21`` z_prime must already be in x's frame. ``T``: the
    displacement window is (2T+1) x (2T+1) pixels. ``mask``: ``(batch, H, W)``
    weights of x's pixels (0 leaves a pixel out). ``alpha``: the official
    ``lamb``, the weight of the marginal entropies.

    Uncollapsed (default, as every command of the paper)::

        L = 1/(2T+1)^2 sum_t sum_ij P_t,ij (alpha ln P_t,i + alpha ln P_t,j - ln P_t,ij)

    one normalised, symmetrised (k, k) joint P_t per displacement t
    (:func:`displacement_joints`, :func:`joints_to_P`), so at alpha = 1, L is
    -mean_t I_t(Z; Z'). ``collapsed=True``: the same formula for the single P of
    the summed counts sum_t J_t. Returns a scalar tensor in nats.

    Gradients. The uncollapsed loss is differentiable throughout and so is this
    one. The collapsed official loss divides by ``float(p_i_j.sum())``, a number
    detached from the graph; this function follows it (``tf.stop_gradient``) so
    that its gradient equals the official one for any input. For softmax maps
    this changes nothing that training sees: the sum of the counts is the
    number of (masked) pixel pairs, which no logit can change, so the gradient
    with respect to the logits is that of the fully differentiable loss (a test
    checks both against finite differences). Clamped entries (below ``eps``)
    pass no gradient, as the official in-place clamp.

    ``validate`` checks that every pixel of z and z_prime is a probability vector
    (before the warp: a warped map sums to less than 1 near the borders).
    """
    if not isinstance(alpha, tf.Tensor) and alpha < 0:
        raise ValueError(f"alpha must be >= 0 (1 is the paper's loss); got {alpha}")
    z = tf.convert_to_tensor(z)
    z_prime = tf.convert_to_tensor(z_prime, dtype=z.dtype)
    _check_maps(z, z_prime, T)
    if validate:
        k = z.shape[-1]
        check_probabilities(tf.reshape(z, [-1, k]), "z (per pixel)", row_tolerance)
        check_probabilities(tf.reshape(z_prime, [-1, k]), "z_prime (per pixel)", row_tolerance)
    if affine_21 is not None:
        z_prime = warp(z_prime, affine_21)
    J = displacement_joints(z, z_prime, T, mask)
    return segmentation_loss_of_joints(J, alpha, collapsed, eps)
