"""Toy scenes for segmentation: MNIST digits over textured backgrounds, truth per pixel.

A scene is a ``size x size`` grey canvas (64 x 64 by default). Its background is one
fine texture, the same kind in every scene: stripes (a sinusoid of random direction and a
period of 3 to 5 pixels) plus blotchy pixel noise, around a random level, with peaks as
bright as the digits' strokes (:func:`background`). Four to six MNIST digits, each
scaled to 36-48 pixels, drawn with a thicker pen (5-7 pixels wide, against a texture
grain of 1-2 pixels) and with its own ink level, lie on it at random places
(overlaps allowed; a later digit covers an earlier one). Two truths per pixel:

* ``stroke``: 0 background, 1 digit stroke (the digit's ink covers more than half of
  the pixel) -- what a 2-way segmentation should find;
* ``digit``: 0 background, 1 + d on a stroke of digit d -- the harder truth (11
  classes), which asks a pixel's cluster to know which digit its stroke belongs to.

Half of the scenes are inverted (dark ink on a light texture), so neither brightness nor
its sign says what is ink. A threshold on brightness cannot separate strokes from the background (the bright
stripes and blobs are as bright as ink): :func:`best_threshold` measures how far it
gets, with the truth's help.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

__all__ = ["Scenes", "make_scenes", "background", "best_threshold", "STROKE_CLASSES",
           "DIGIT_CLASSES", "SCENE_SIZE"]

SCENE_SIZE = 64
#: Names of the classes of each truth, in id order.
STROKE_CLASSES = ("background", "stroke")
DIGIT_CLASSES = ("background",) + tuple(f"digit {d}" for d in range(10))


@dataclass
class Scenes:
    """``x`` (n, size, size, 1) float32 in [0, 1]; ``stroke`` and ``digit`` (n, size, size) uint8."""

    x: np.ndarray
    stroke: np.ndarray
    digit: np.ndarray

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index) -> "Scenes":
        return Scenes(self.x[index], self.stroke[index], self.digit[index])


def background(rng: np.random.Generator, size: int = SCENE_SIZE) -> np.ndarray:
    """One textured background (size, size) in [0, 1]: stripes + fine blotches, one level.

    The same kind of texture in every scene, so that no split of whole scenes is
    on offer: stripes (random direction, period 3 to 5 pixels) plus blotchy
    noise (white noise blurred over about one pixel), in equal parts, around a
    level ~ U(0.15, 0.45) with peaks up to 0.45 above it -- as bright as the
    digits' ink (0.55 to 1) in the brighter scenes.
    """
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    angle, period = rng.uniform(0, np.pi), rng.uniform(3, 5)
    stripes = np.sin(2 * np.pi * (x * np.cos(angle) + y * np.sin(angle)) / period
                     + rng.uniform(0, 2 * np.pi))
    blotches = ndimage.gaussian_filter(rng.normal(size=(size, size)), 0.8, mode="wrap")
    blotches /= blotches.std() * 2.5
    texture = np.clip(0.5 * stripes + 0.5 * blotches, -1, 1)  # mostly within [-1, 1]
    return np.clip(rng.uniform(0.15, 0.45) + 0.45 * texture, 0, 1)


def make_scenes(digits: np.ndarray, labels: np.ndarray, n: int, seed: int = 0,
                size: int = SCENE_SIZE, num_digits: tuple[int, int] = (4, 6),
                digit_size: tuple[int, int] = (36, 48), thickness: int = 3,
                invert_p: float = 0.5) -> Scenes:
    """``n`` scenes drawn from MNIST ``digits`` (m, 28, 28) uint8 and their ``labels`` (m,).

    Deterministic in ``seed``. Each scene: :func:`background`, then
    ``num_digits`` (inclusive range) digits, each resized to a side in
    ``digit_size`` (bilinear), its strokes thickened by a grey dilation over
    ``thickness`` x ``thickness`` pixels, inked at a level in [0.55, 1] and composited over
    what is there: canvas = (1 - a) canvas + a ink, with a the digit's ink
    coverage (its pixel / 255). With probability ``invert_p`` the whole scene is
    then inverted (dark ink on a light background, as a pen on paper; otherwise
    light on dark, as chalk on a board). Labels are used only for the ``digit`` truth.
    """
    digits = np.asarray(digits)
    labels = np.asarray(labels)
    if digits.ndim == 4 and digits.shape[-1] == 1:
        digits = digits[..., 0]
    if digits.ndim != 3 or len(digits) != len(labels) or len(digits) == 0:
        raise ValueError(f"digits must be (m, 28, 28) images with m labels; got {digits.shape} "
                         f"and {labels.shape}")
    if digit_size[1] > size:
        raise ValueError(f"digits of up to {digit_size[1]} pixels do not fit a {size}-pixel scene")
    rng = np.random.default_rng(seed)
    x = np.empty((n, size, size), np.float32)
    stroke = np.zeros((n, size, size), np.uint8)
    digit = np.zeros((n, size, size), np.uint8)
    scale = 255.0 if digits.dtype == np.uint8 else 1.0
    for s in range(n):
        canvas = background(rng, size)
        for _ in range(rng.integers(num_digits[0], num_digits[1] + 1)):
            i = rng.integers(len(digits))
            side = int(rng.integers(digit_size[0], digit_size[1] + 1))
            a = ndimage.zoom(digits[i].astype(np.float64) / scale, side / 28, order=1)
            a = np.clip(a, 0, 1)[:side, :side]
            if thickness > 1:  # a thicker pen: strokes far wider than the texture's grain
                a = ndimage.grey_dilation(a, size=(thickness, thickness))
            r, c = rng.integers(0, size - a.shape[0] + 1), rng.integers(0, size - a.shape[1] + 1)
            region = (slice(r, r + a.shape[0]), slice(c, c + a.shape[1]))
            ink = rng.uniform(0.55, 1.0)
            canvas[region] = (1 - a) * canvas[region] + a * ink
            on = a > 0.5
            stroke[s][region][on] = 1
            digit[s][region][on] = 1 + int(labels[i])
        x[s] = 1.0 - canvas if rng.uniform() < invert_p else canvas
    return Scenes(x[..., None], stroke, digit)


def best_threshold(x: np.ndarray, truth: np.ndarray, levels: int = 101) -> dict:
    """The best a brightness threshold can do on the 2-way truth, chosen *with* the labels.

    Tries ``levels`` thresholds in [0, 1] (pixel > t means stroke) and returns
    ``{"threshold", "pixel_accuracy", "miou"}`` of the one with the highest mIoU:
    an upper bound for any rule that looks at a pixel's brightness alone.
    """
    v = np.asarray(x, np.float64).ravel()
    t_true = np.asarray(truth).ravel().astype(bool)
    best = None
    for t in np.linspace(0, 1, levels):
        pred = v > t
        tp, fp, fn = np.sum(pred & t_true), np.sum(pred & ~t_true), np.sum(~pred & t_true)
        tn = v.size - tp - fp - fn
        miou = (tp / max(tp + fp + fn, 1) + tn / max(tn + fp + fn, 1)) / 2
        if best is None or miou > best["miou"]:
            best = {"threshold": float(t), "pixel_accuracy": float((tp + tn) / v.size),
                    "miou": float(miou)}
    return best
