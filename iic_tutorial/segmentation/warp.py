"""The view's affine part, and bringing its output map back into the frame of x.

IIC for segmentation (Ji, Henriques & Vedaldi, 2019) makes x' from x by a photometric
jitter plus an optional affine transform (rotation, scale, shear, flip). The network's
output map for x' then lies in the frame of x'; before pixels are paired, it is warped back
into x's frame with the inverse transform.

Conventions are the official code's (``perform_affine_tf``: PyTorch's ``affine_grid``
and ``grid_sample``): an affine is a ``(batch, 2, 3)`` matrix A in *normalised*
coordinates, x (width) first, -1 and +1 the centres of the first and last pixel
(``align_corners=True``, the behaviour of the PyTorch 0.4 the official code ran on).
``warp(m, A)`` reads every output pixel p from the input at A [p; 1], bilinearly, and
reads 0 outside the map (``padding_mode="zeros"``). So if x' = warp(x, A_12), then
warp(z', A_21) with A_21 = :func:`invert_affine` (A_12) is z' in x's frame.

Maps are channels-last tensors ``(batch, H, W, channels)``: images (1 channel) or
softmax maps (k channels).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["warp", "invert_affine", "identity_affine", "random_affine", "valid_mask"]


def _check_affine(affine, batch: int | None = None) -> None:
    shape = tuple(affine.shape)
    if len(shape) != 3 or shape[1:] != (2, 3):
        raise ValueError(f"affine must have shape (batch, 2, 3) (the top two rows of a 3x3 "
                         f"matrix in normalised coordinates); got {shape}")
    if batch is not None and shape[0] is not None and shape[0] != batch:
        raise ValueError(f"affine has {shape[0]} matrices but the map has batch {batch}: "
                         "pass one (2, 3) matrix per image")


def warp(m: tf.Tensor, affine: tf.Tensor) -> tf.Tensor:
    """out[b, p] = m[b] sampled bilinearly at A_b [p; 1] (normalised coordinates), 0 outside.

    ``m``: ``(batch, H, W, C)`` floats; ``affine``: ``(batch, 2, 3)``. The output
    has the shape and dtype of ``m``. This is ``perform_affine_tf`` of the official
    code (``grid_sample(m, affine_grid(A))``, ``align_corners=True``,
    ``padding_mode="zeros"``): each of the four neighbours of a sampling point that
    lies outside the map contributes 0. Built from gathers, so its gradient is the
    exact adjoint of the sampling (TensorFlow's ``ImageProjectiveTransform``
    gradient is only an approximation of it).
    """
    m = tf.convert_to_tensor(m)
    if m.shape.rank != 4:
        raise ValueError(f"m must have shape (batch, H, W, channels); got {tuple(m.shape)}")
    if not m.dtype.is_floating:
        raise ValueError(f"m must hold floats; got dtype {m.dtype.name}")
    batch, H, W, C = m.shape
    if H is None or W is None or H < 2 or W < 2:
        raise ValueError(f"the map must be at least 2 x 2 pixels; got {H} x {W}")
    affine = tf.cast(tf.convert_to_tensor(affine), m.dtype)
    _check_affine(affine, batch)
    y_n, x_n = tf.meshgrid(tf.linspace(tf.constant(-1.0, m.dtype), 1.0, H),
                           tf.linspace(tf.constant(-1.0, m.dtype), 1.0, W), indexing="ij")
    grid = tf.stack([tf.reshape(x_n, [-1]), tf.reshape(y_n, [-1]),
                     tf.ones([H * W], m.dtype)])  # (3, HW)
    source = tf.einsum("bij,jp->bip", affine, grid)  # (B, 2, HW), normalised
    xs = (source[:, 0] + 1.0) * (W - 1) / 2.0  # (B, HW) in pixels
    ys = (source[:, 1] + 1.0) * (H - 1) / 2.0
    x0, y0 = tf.floor(xs), tf.floor(ys)
    flat = tf.reshape(m, [-1, H * W, C])
    out = tf.zeros_like(flat)
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
        xi, yi = x0 + dx, y0 + dy
        weight = (1.0 - tf.abs(xs - xi)) * (1.0 - tf.abs(ys - yi))
        inside = (xi >= 0) & (xi <= W - 1) & (yi >= 0) & (yi <= H - 1)
        weight = tf.where(inside, weight, tf.zeros_like(weight))
        index = (tf.cast(tf.clip_by_value(yi, 0, H - 1), tf.int32) * W
                 + tf.cast(tf.clip_by_value(xi, 0, W - 1), tf.int32))
        out += weight[..., None] * tf.gather(flat, index, batch_dims=1)
    return tf.reshape(out, tf.shape(m))


def invert_affine(affine) -> np.ndarray:
    """A^-1 of each (2, 3) affine, as the top rows of the inverse 3x3 matrix (float64).

    ``affine``: ``(batch, 2, 3)``; returns ``(batch, 2, 3)``, so that
    ``warp(warp(m, A), invert_affine(A))`` is ``m`` away from the borders (up to
    the blur of two bilinear resamplings). ValueError for a singular matrix.
    """
    A = np.asarray(affine, dtype=np.float64)
    _check_affine(A)
    full = np.concatenate([A, np.broadcast_to([[[0.0, 0.0, 1.0]]], (len(A), 1, 3))], axis=1)
    det = np.linalg.det(full[:, :2, :2])
    if np.any(np.abs(det) < 1e-12):
        raise ValueError(f"affine {int(np.argmin(np.abs(det)))} is singular (determinant "
                         f"{det.min():.3g}); a view must be an invertible transform")
    return np.linalg.inv(full)[:, :2, :]


def identity_affine(batch: int) -> np.ndarray:
    """``(batch, 2, 3)`` identity transforms: warp leaves a map as it is."""
    return np.tile(np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]), (batch, 1, 1))


def random_affine(rng: np.random.Generator, batch: int, max_degrees: float = 0.0,
                  scale: tuple[float, float] = (1.0, 1.0), max_shear: float = 0.0,
                  flip_p: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(A_12, A_21): random views' affines and their inverses, ``(batch, 2, 3)`` float64.

    As the official ``random_affine`` (no translation; angles in degrees, drawn
    uniformly): A_12 = [[s cos a, -s sin(a + shear)], [s sin a, s cos(a + shear)]],
    rotation a ~ U(-max_degrees, max_degrees), shear ~ U(-max_shear, max_shear),
    scale s ~ U(*scale), about the centre of the map; then, with probability
    ``flip_p``, a left-right flip of the view (x -> -x, folded into A_12). Make the
    view with ``warp(x, A_12)``; bring its map back with ``warp(z_prime, A_21)``.
    """
    if not 0.0 <= flip_p <= 1.0:
        raise ValueError(f"flip_p is a probability in [0, 1]; got {flip_p}")
    if not 0 < scale[0] <= scale[1]:
        raise ValueError(f"scale must be (low, high) with 0 < low <= high; got {scale}")
    a = np.radians(rng.uniform(-max_degrees, max_degrees, batch))
    shear = np.radians(rng.uniform(-max_shear, max_shear, batch))
    s = rng.uniform(scale[0], scale[1], batch)
    A = np.zeros((batch, 2, 3))
    A[:, 0, 0], A[:, 0, 1] = s * np.cos(a), -s * np.sin(a + shear)
    A[:, 1, 0], A[:, 1, 1] = s * np.sin(a), s * np.cos(a + shear)
    flip = rng.uniform(size=batch) < flip_p
    A[flip, :, 0] *= -1.0  # the view at p reads x at A (F p), F: x -> -x
    return A, invert_affine(A)


def valid_mask(affine_21, height: int, width: int, dtype=tf.float32) -> tf.Tensor:
    """``(batch, H, W)``: 1 where the view's map, warped back by ``affine_21``, covers the pixel.

    Pixels of x whose partner in the view came (partly) from outside the view's
    canvas get 0, so a loss with this mask pairs only pixels that both images saw.
    """
    affine_21 = np.asarray(affine_21)
    ones = tf.ones([len(affine_21), height, width, 1], dtype)
    covered = warp(ones, affine_21)[..., 0]
    return tf.cast(covered > 1.0 - 1e-4, dtype)
