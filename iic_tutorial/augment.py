"""Batched, in-graph, seeded augmentations that make the pair (x, x').

Every function takes float images in [0, 1] of shape ``(batch, 28, 28, 1)``
and a stateless ``seed`` (an int32/int64 tensor of shape ``(2,)``, or a Python
int): the same seed gives the same output. Each image draws its own random
parameters, all in TensorFlow ops, so the functions run inside
``tf.function`` with no per-image Python loop. Output keeps shape and dtype
and stays in [0, 1].

The geometric transforms (rotation, distortion) resample the image with
bilinear interpolation through one projective-transform op per call; pixels
from outside the image are black (0).

A transform is declared once, in :class:`AugmentConfig`: its fields, each made
with :func:`knob` (the transform it belongs to, the value that turns it off,
its valid range, its slider, its command-line alias), and one method marked
with :func:`transform` that applies it. :data:`TRANSFORMS`, ``only`` /
``without``, the range checks, the command line's ``--view-*`` options, the
widget's sliders and :func:`compose` all read that declaration.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping, NamedTuple, Union

import tensorflow as tf

__all__ = [
    "AugmentConfig",
    "TRANSFORMS",
    "VIEWS",
    "Transform",
    "knob",
    "transform",
    "slider_ranges",
    "rotate",
    "distort",
    "binarize",
    "add_noise",
    "adjust_intensity",
    "erase",
    "hide_band",
    "compose",
]

Seed = Union[int, tf.Tensor]

def _seed(seed: Seed) -> tf.Tensor:
    """A stateless seed tensor of shape (2,) from an int or a (2,) tensor."""
    if isinstance(seed, int):
        return tf.constant([seed, 0], dtype=tf.int64)
    seed = tf.convert_to_tensor(seed)
    if seed.shape != (2,):
        raise ValueError(f"seed must be an int or a tensor of shape (2,); got shape {seed.shape}")
    return tf.cast(seed, tf.int64)


def _split(seed: Seed, n: int) -> list[tf.Tensor]:
    """n independent stateless seeds derived from one."""
    seeds = tf.random.experimental.stateless_split(_seed(seed), num=n)
    return [seeds[i] for i in range(n)]


def _check_images(x: tf.Tensor) -> tf.Tensor:
    x = tf.convert_to_tensor(x)
    if x.shape.rank != 4 or x.shape[-1] != 1:
        raise ValueError(
            f"images must have shape (batch, height, width, 1); got {tuple(x.shape)}. "
            "Add a channel axis with x[..., None]"
        )
    if not x.dtype.is_floating:
        raise ValueError(f"images must be floats in [0, 1]; got dtype {x.dtype.name}. Use x / 255")
    return x


def _check_probability(name: str, p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} is a probability and must lie in [0, 1]; got {p}")


def _check_non_negative(name: str, value: float) -> None:
    if value < 0 or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number >= 0; got {value}")


def _apply_affine(x: tf.Tensor, A: tf.Tensor, t: tf.Tensor) -> tf.Tensor:
    """Resample each image: output pixel p reads input at A_b (p - c) + c + t_b.

    A: (batch, 2, 2) in (x, y) order, t: (batch, 2) in pixels.
    """
    height, width = x.shape[1], x.shape[2]
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    a0, a1, b0, b1 = A[:, 0, 0], A[:, 0, 1], A[:, 1, 0], A[:, 1, 1]
    a2 = cx - a0 * cx - a1 * cy + t[:, 0]
    b2 = cy - b0 * cx - b1 * cy + t[:, 1]
    zeros = tf.zeros_like(a0)
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=x,
        transforms=tf.cast(transforms, tf.float32),
        output_shape=tf.constant([height, width], dtype=tf.int32),
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    return tf.clip_by_value(tf.cast(out, x.dtype), 0.0, 1.0)


def _apply_with_probability(x: tf.Tensor, y: tf.Tensor, p: float, seed: tf.Tensor) -> tf.Tensor:
    """Per image: y with probability p, else x."""
    if p >= 1.0:
        return y
    keep = tf.random.stateless_uniform([tf.shape(x)[0], 1, 1, 1], seed) < p
    return tf.where(keep, y, x)


def rotate(x: tf.Tensor, max_degrees: float, seed: Seed, p: float = 1.0) -> tf.Tensor:
    """Rotate each image about its centre by an angle ~ U(-max_degrees, max_degrees).

    x: (batch, H, W, 1) floats in [0, 1]. With probability 1 - p an image is
    left as it is. max_degrees = 0 is the identity. Returns the same shape.
    """
    _check_non_negative("max_degrees", max_degrees)
    _check_probability("p", p)
    x = _check_images(x)
    if max_degrees == 0 or p == 0:
        return x
    s_angle, s_apply = _split(seed, 2)
    n = tf.shape(x)[0]
    theta = tf.random.stateless_uniform([n], s_angle, -1.0, 1.0) * (max_degrees * math.pi / 180)
    c, s = tf.cos(theta), tf.sin(theta)
    A = tf.reshape(tf.stack([c, -s, s, c], axis=1), [-1, 2, 2])
    return _apply_with_probability(x, _apply_affine(x, A, tf.zeros([n, 2])), p, s_apply)


def distort(
    x: tf.Tensor,
    scale: tuple[float, float] = (0.9, 1.1),
    shear: float = 0.0,
    shift: float = 0.0,
    seed: Seed = 0,
) -> tf.Tensor:
    """Random affine distortion: zoom, shear and translation, per image.

    Each image is zoomed by s ~ U(scale[0], scale[1]) (s > 1 enlarges the
    digit), sheared by a factor ~ U(-shear, shear) along x and shifted by
    ~ U(-shift, shift) pixels along each axis. (This is an affine distortion,
    not an elastic one.) scale = (1, 1), shear = 0, shift = 0 is the identity.
    x: (batch, H, W, 1) floats in [0, 1]; returns the same shape.
    """
    lo, hi = scale
    if not 0 < lo <= hi:
        raise ValueError(f"scale must be (low, high) with 0 < low <= high; got {scale}")
    _check_non_negative("shear", shear)
    _check_non_negative("shift", shift)
    x = _check_images(x)
    if lo == hi == 1 and shear == 0 and shift == 0:
        return x
    s_zoom, s_shear, s_shift = _split(seed, 3)
    n = tf.shape(x)[0]
    zoom = tf.random.stateless_uniform([n], s_zoom, lo, hi)
    k = tf.random.stateless_uniform([n], s_shear, -shear, shear) if shear else tf.zeros([n])
    inv = 1.0 / zoom
    A = tf.reshape(tf.stack([inv, k * inv, tf.zeros([n]), inv], axis=1), [-1, 2, 2])
    t = tf.random.stateless_uniform([n, 2], s_shift, -shift, shift) if shift else tf.zeros([n, 2])
    return _apply_affine(x, A, t)


def binarize(x: tf.Tensor, threshold: float = 0.5, p: float = 1.0, seed: Seed = 0) -> tf.Tensor:
    """Replace each image, with probability p, by its binary version (x > threshold).

    x: (batch, H, W, 1) floats in [0, 1]; threshold in [0, 1]. p = 0 is the
    identity. Returns the same shape and dtype, values in {0, 1} where applied.
    """
    _check_probability("threshold", threshold)
    _check_probability("p", p)
    x = _check_images(x)
    if p == 0:
        return x
    return _apply_with_probability(x, tf.cast(x > threshold, x.dtype), p, _seed(seed))


def add_noise(x: tf.Tensor, stddev: float = 0.1, p: float = 1.0, seed: Seed = 0) -> tf.Tensor:
    """Add Gaussian noise N(0, stddev^2) per pixel to each image with probability p.

    The result is clipped to [0, 1]. stddev = 0 or p = 0 is the identity.
    x: (batch, H, W, 1) floats in [0, 1]; returns the same shape and dtype.
    """
    _check_non_negative("stddev", stddev)
    _check_probability("p", p)
    x = _check_images(x)
    if stddev == 0 or p == 0:
        return x
    s_noise, s_apply = _split(seed, 2)
    noisy = x + tf.random.stateless_normal(tf.shape(x), s_noise, stddev=stddev, dtype=x.dtype)
    return _apply_with_probability(x, tf.clip_by_value(noisy, 0.0, 1.0), p, s_apply)


def adjust_intensity(
    x: tf.Tensor, brightness: float = 0.0, contrast: float = 0.0, seed: Seed = 0
) -> tf.Tensor:
    """Per-image intensity jitter: x <- clip(c * x + b), the greyscale colour jitter.

    c ~ U(1 - contrast, 1 + contrast), b ~ U(-brightness, brightness).
    Both 0 is the identity. x: (batch, H, W, 1) in [0, 1]; same shape out.
    """
    _check_non_negative("brightness", brightness)
    _check_probability("contrast", contrast)
    x = _check_images(x)
    if brightness == 0 and contrast == 0:
        return x
    s_c, s_b = _split(seed, 2)
    shape = [tf.shape(x)[0], 1, 1, 1]
    c = tf.random.stateless_uniform(shape, s_c, 1 - contrast, 1 + contrast, dtype=x.dtype)
    b = tf.random.stateless_uniform(shape, s_b, -brightness, brightness, dtype=x.dtype)
    return tf.clip_by_value(c * x + b, 0.0, 1.0)


def erase(x: tf.Tensor, size: float = 12.0, p: float = 1.0, seed: Seed = 0) -> tf.Tensor:
    """Random erasing (cutout): black out one random rectangle per image.

    With probability p an image gets a rectangle of h x w pixels, h and w each
    ~ U(size / 2, size), set to 0; its centre is uniform over the central
    [4, H - 4) x [4, W - 4) region, where MNIST digits lie, so most
    rectangles hide part of the stroke. size = 0 or p = 0 is the identity.
    x: (batch, H, W, 1) floats in [0, 1]; returns the same shape and dtype.
    """
    return _black_out(x, size, p, seed, whole_rows=False)


def hide_band(x: tf.Tensor, height: float = 6.0, p: float = 1.0, seed: Seed = 0,
              rows: tuple[float, float] | None = None) -> tf.Tensor:
    """Black out one horizontal band, the whole width of the image, per image.

    With probability p an image gets its rows within h / 2 of a centre row set
    to 0: h ~ U(height / 2, height) pixels, the centre uniform over ``rows`` =
    (low, high), in pixels from the top (None: [4, H - 4), as in :func:`erase`).
    A band can hide a horizontal stroke whole (the bar across a seven, the
    middle of an eight), where erasing's rectangle mostly hides a part of one;
    ``rows`` aims it (a crossed seven's bar lies near rows 14-18 of MNIST's 28).
    height = 0 or p = 0 is the identity.
    x: (batch, H, W, 1) floats in [0, 1]; returns the same shape and dtype.
    """
    if rows is not None and not (len(rows) == 2 and 0 <= rows[0] <= rows[1]):
        raise ValueError(f"rows is the (low, high) range of the band's centre, in pixels from the "
                         f"top, with 0 <= low <= high; got {rows}")
    return _black_out(x, height, p, seed, whole_rows=True, name="height", centre_rows=rows)


def _black_out(x: tf.Tensor, size: float, p: float, seed: Seed, whole_rows: bool,
               name: str = "size", centre_rows: tuple[float, float] | None = None) -> tf.Tensor:
    """erase (a rectangle) and hide_band (whole rows): sides ~ U(size / 2, size), centre in the digit."""
    _check_non_negative(name, size)
    _check_probability("p", p)
    x = _check_images(x)
    if size == 0 or p == 0:
        return x
    s_size, s_centre, s_apply = _split(seed, 3)
    n, H, W = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2]
    sides = 1 if whole_rows else 2  # a band draws its height only
    half = tf.random.stateless_uniform([n, sides], s_size, size / 4, size / 2)
    lo = tf.constant([4.0, 4.0][:sides])
    hi = tf.cast(tf.stack([H, W][:sides]), tf.float32) - 4.0
    if centre_rows is not None:  # a band's centre row, from its own range
        lo, hi = tf.constant([float(centre_rows[0])]), tf.constant([float(centre_rows[1])])
    centre = lo + tf.random.stateless_uniform([n, sides], s_centre) * (hi - lo)
    rows = tf.cast(tf.range(H), tf.float32)[None, :] + 0.5  # pixel centres, (1, H)
    hole = (tf.abs(rows - centre[:, :1]) < half[:, :1])[:, :, None]  # (n, H, 1)
    if not whole_rows:
        cols = tf.cast(tf.range(W), tf.float32)[None, :] + 0.5
        hole = tf.logical_and(hole, (tf.abs(cols - centre[:, 1:]) < half[:, 1:])[:, None, :])
    erased = tf.where(hole[..., None], tf.zeros_like(x), x)
    return _apply_with_probability(x, erased, p, s_apply)


# ------------------------------------------------------------------ declaring a transform
def knob(default: Any, help: str, *aliases: str, transform: str, off: Any = None,
         valid: tuple[float, float] = (0.0, math.inf),
         slider: tuple[float, float, float, str] | None = None) -> Any:
    """An :class:`AugmentConfig` field: one strength of one transform, and all that reads it.

    help: one line (the ``--view-NAME`` option's help). aliases: short
    options besides ``--view-NAME`` (``"--erase"``). transform: the name of
    the transform it belongs to. off: the value that turns the transform off
    (None: this knob alone does not; ``without(transform)`` sets every knob
    that has one). valid: the (low, high) range ``__post_init__`` enforces,
    ends included; (0, 1) is a probability, (0, inf) any finite number >= 0;
    a pair-valued knob (a zoom range) must be (a, b) with low < a <= b <= high.
    slider: (min, max, step, label) of its widget slider (None: no slider).
    """
    metadata = {"help": help, "aliases": aliases, "transform": transform, "off": off,
                "valid": valid, "slider": slider}
    return dataclasses.field(default=default, metadata=metadata)


def transform(stream: int) -> Callable:
    """Mark an :class:`AugmentConfig` method ``NAME(self, x, seed) -> x`` as transform NAME.

    The method applies the transform with the config's knobs of that name.
    stream: which random stream of :func:`compose`'s seed it draws from, one
    number per transform, never reused: 0-4 are the five parts of one split of
    the seed (the first five transforms); a transform added later takes the
    next free number >= 6, which is folded into the seed, so the streams of the
    others stay as they were.
    """
    def mark(method: Callable) -> Callable:
        method.stream = stream
        return method

    return mark


class Transform(NamedTuple):
    """A transform as :class:`AugmentConfig` declares it (see :func:`knob`, :func:`transform`)."""

    name: str
    stream: int
    knobs: tuple[str, ...]
    off: dict[str, Any]
    apply: Callable


#: Streams below this are the parts of one split of the seed; the others are folded in.
_SPLIT = 5


@functools.cache
def _transforms(config_class: type) -> tuple[Transform, ...]:
    """The transforms a config class declares, in the order of their first knob."""
    knobs: dict[str, list[dataclasses.Field]] = {}
    for f in dataclasses.fields(config_class):
        if "transform" not in f.metadata:
            raise TypeError(f"{config_class.__name__}.{f.name} is not a knob(...) of a transform")
        knobs.setdefault(f.metadata["transform"], []).append(f)
    marked = {name for name in dir(config_class) if hasattr(getattr(config_class, name), "stream")}
    if marked != set(knobs):
        raise TypeError(f"{config_class.__name__}: every transform needs knobs and one @transform "
                        f"method of its name; knobs name {sorted(knobs)}, methods {sorted(marked)}")
    result = []
    for name, fields in knobs.items():
        off = {f.name: f.metadata["off"] for f in fields if f.metadata["off"] is not None}
        if not off:
            raise TypeError(f"{config_class.__name__}: transform {name!r} has no knob that turns "
                            "it off; give one knob(..., off=VALUE)")
        result.append(Transform(name, getattr(config_class, name).stream,
                                tuple(f.name for f in fields), off, getattr(config_class, name)))
    streams = [t.stream for t in result]
    if len(set(streams)) != len(streams) or _SPLIT in streams:
        raise TypeError(f"{config_class.__name__}: each transform needs a stream of its own "
                        f"(not {_SPLIT}); got {dict(zip(knobs, streams))}")
    return tuple(result)


def slider_ranges(config_class: type | None = None) -> dict[str, tuple[float, float, float, str]]:
    """``{knob: (min, max, step, label)}`` of every knob with a slider, in field order."""
    return {f.name: f.metadata["slider"] for f in dataclasses.fields(config_class or AugmentConfig)
            if f.metadata.get("slider")}


def _check_knob(f: dataclasses.Field, value: Any) -> None:
    lo, hi = f.metadata["valid"]
    if isinstance(f.default, tuple):
        if len(value) != 2 or not lo < value[0] <= value[1] <= hi:
            top = "" if math.isinf(hi) else f" <= {hi:g}"
            raise ValueError(f"{f.name} must be (low, high) with {lo:g} < low <= high{top}; "
                             f"got {value}")
    elif (lo, hi) == (0.0, 1.0):
        _check_probability(f.name, value)
    elif (lo, hi) == (0.0, math.inf):
        _check_non_negative(f.name, value)
    elif not lo <= value <= hi:
        raise ValueError(f"{f.name} must lie in [{lo:g}, {hi:g}]; got {value}")


# ------------------------------------------------------------------ the config
@dataclass(frozen=True)
class AugmentConfig:
    """Every augmentation strength in one place; ``compose(x, config, seed)`` applies them.

    Each field is a :func:`knob` of one transform (its help line says what it
    does); each transform is a method of its name that :func:`compose` calls
    in the order of :data:`TRANSFORMS`. Every transform has a knob that turns
    it off, so an ablation is a config change:
    ``AugmentConfig.fast().only("rotation")``. The defaults of the class are the
    fast recipe's view; name it ``AugmentConfig.fast()`` where it matters.

    A new transform is its knobs and its method, here or in a subclass; give
    its knobs defaults that leave it off, so that stored views keep their meaning.
    """

    max_degrees: float = knob(25.0, "largest rotation, in degrees (0: no rotation)",
                              transform="rotation", off=0.0,
                              slider=(0.0, 90.0, 1.0, "rotation (max degrees)"))
    rotate_p: float = knob(0.5, "probability that an image is rotated", transform="rotation",
                           valid=(0.0, 1.0), slider=(0.0, 1.0, 0.05, "rotation probability"))
    scale: tuple[float, float] = knob((1.0, 1.5), "zoom range (LOW HIGH; 1 1: no zoom)", "--scale",
                                      transform="distortion", off=(1.0, 1.0),
                                      slider=(0.5, 1.5, 0.05, "zoom range"))
    shear: float = knob(0.0, "largest shear of the affine distortion", transform="distortion",
                        off=0.0, slider=(0.0, 0.5, 0.05, "shear"))
    shift: float = knob(3.0, "largest shift, in pixels", "--shift", transform="distortion", off=0.0,
                        slider=(0.0, 8.0, 0.5, "shift (pixels)"))
    brightness: float = knob(0.1, "largest brightness change (0: off)", transform="intensity",
                             off=0.0, slider=(0.0, 0.5, 0.05, "brightness jitter"))
    contrast: float = knob(0.2, "largest relative contrast change (0: off)", transform="intensity",
                           off=0.0, valid=(0.0, 1.0), slider=(0.0, 1.0, 0.05, "contrast jitter"))
    threshold: float = knob(0.5, "binarisation threshold", transform="binarization",
                            valid=(0.0, 1.0), slider=(0.0, 1.0, 0.05, "binarisation threshold"))
    binarize_p: float = knob(0.0, "probability that an image is binarised", transform="binarization",
                             off=0.0, valid=(0.0, 1.0),
                             slider=(0.0, 1.0, 0.05, "binarisation probability"))
    noise_stddev: float = knob(0.1, "standard deviation of the Gaussian noise", transform="noise",
                               slider=(0.0, 0.5, 0.01, "noise std"))
    noise_p: float = knob(0.0, "probability that an image gets noise", transform="noise", off=0.0,
                          valid=(0.0, 1.0), slider=(0.0, 1.0, 0.05, "noise probability"))
    erase_p: float = knob(0.0, "probability of random erasing (cutout)", "--erase",
                          transform="erasing", off=0.0, valid=(0.0, 1.0),
                          slider=(0.0, 1.0, 0.05, "erasing probability"))
    erase_size: float = knob(12.0, "largest side of the erased rectangle, in pixels", "--erase-size",
                             transform="erasing", slider=(0.0, 20.0, 1.0, "erased side (pixels)"))
    band_p: float = knob(0.0, "probability of a black band across the image", "--band",
                         transform="band", off=0.0, valid=(0.0, 1.0),
                         slider=(0.0, 1.0, 0.05, "band probability"))
    band_height: float = knob(6.0, "largest height of the black band, in pixels", "--band-height",
                              transform="band", slider=(0.0, 20.0, 1.0, "band height (pixels)"))
    band_rows: tuple[float, float] = knob((4.0, 24.0), "rows the band's centre is drawn from (LOW "
                                          "HIGH, pixels from the top of a 28-pixel image)",
                                          "--band-rows", transform="band", valid=(0.0, 28.0),
                                          slider=(1.0, 27.0, 1.0, "band centre (rows)"))

    def __post_init__(self) -> None:
        # Validate eagerly so a bad config fails where it is written.
        _transforms(type(self))  # and a subclass's declaration where it is first used
        for f in dataclasses.fields(self):
            _check_knob(f, getattr(self, f.name))
            if isinstance(f.default, tuple):
                object.__setattr__(self, f.name, tuple(float(v) for v in getattr(self, f.name)))

    # --------------------------------------------------------- the transforms, in order
    @transform(stream=0)
    def rotation(self, x: tf.Tensor, seed: Seed) -> tf.Tensor:
        """:func:`rotate` by up to ``max_degrees`` with probability ``rotate_p``."""
        return rotate(x, self.max_degrees, seed, p=self.rotate_p)

    @transform(stream=1)
    def distortion(self, x: tf.Tensor, seed: Seed) -> tf.Tensor:
        """:func:`distort`: zoom in ``scale``, ``shear``, ``shift`` pixels."""
        return distort(x, self.scale, self.shear, self.shift, seed)

    @transform(stream=2)
    def intensity(self, x: tf.Tensor, seed: Seed) -> tf.Tensor:
        """:func:`adjust_intensity` by ``brightness`` and ``contrast``."""
        return adjust_intensity(x, self.brightness, self.contrast, seed)

    @transform(stream=3)
    def binarization(self, x: tf.Tensor, seed: Seed) -> tf.Tensor:
        """:func:`binarize` at ``threshold`` with probability ``binarize_p``."""
        return binarize(x, self.threshold, self.binarize_p, seed)

    @transform(stream=4)
    def noise(self, x: tf.Tensor, seed: Seed) -> tf.Tensor:
        """:func:`add_noise` of std ``noise_stddev`` with probability ``noise_p``."""
        return add_noise(x, self.noise_stddev, self.noise_p, seed)

    @transform(stream=6)
    def erasing(self, x: tf.Tensor, seed: Seed) -> tf.Tensor:
        """:func:`erase` a rectangle of side up to ``erase_size`` with probability ``erase_p``."""
        return erase(x, self.erase_size, self.erase_p, seed)

    @transform(stream=7)
    def band(self, x: tf.Tensor, seed: Seed) -> tf.Tensor:
        """:func:`hide_band` up to ``band_height`` rows high, centred in ``band_rows``, with
        probability ``band_p``."""
        return hide_band(x, self.band_height, self.band_p, seed, rows=self.band_rows)

    # --------------------------------------------------------- named views
    @classmethod
    def fast(cls, erase_p: float = 0.0) -> "AugmentConfig":
        """The fast recipe's view (the defaults of this class), by name.

        Rotation up to 25 degrees on half of the images, zoom 1-1.5 and shifts
        of up to 3 px, brightness/contrast jitter; ``erase_p`` adds random
        erasing. Same as ``AugmentConfig(erase_p=erase_p)``.
        """
        return cls(erase_p=erase_p)

    @classmethod
    def article(cls) -> "AugmentConfig":
        """The article's four transforms, all on: rotation, distortion, binarisation, noise.

        Rotation up to 25 degrees (always), a mild affine distortion (zoom
        0.9-1.1, shear 0.1, shift 2 px), then binarisation and Gaussian noise
        (std 0.1), each on a random half of the images; no intensity jitter.
        """
        return cls(
            max_degrees=25.0, rotate_p=1.0, scale=(0.9, 1.1), shear=0.1, shift=2.0,
            brightness=0.0, contrast=0.0, binarize_p=0.5, noise_stddev=0.1, noise_p=0.5,
        )

    @classmethod
    def mild(cls) -> "AugmentConfig":
        """A gentle view: zoom 1-1.1 and shifts of up to 1 pixel, nothing else."""
        return dataclasses.replace(cls.none(), scale=(1.0, 1.1), shift=1.0)

    @classmethod
    def none(cls) -> "AugmentConfig":
        """The identity: every transform off."""
        cfg = cls()
        for name in cls.transforms():
            cfg = cfg.without(name)
        return cfg

    # --------------------------------------------------------- ablations
    @classmethod
    def transforms(cls) -> tuple[str, ...]:
        """The names of the transforms, in the order :func:`compose` applies them."""
        return tuple(t.name for t in _transforms(cls))

    def _transform(self, name: str) -> Transform:
        for t in _transforms(type(self)):
            if t.name == name:
                return t
        raise ValueError(f"unknown transform {name!r}; choose one of {self.transforms()}")

    def without(self, name: str) -> "AugmentConfig":
        """This config with transform ``name`` (one of TRANSFORMS) turned off."""
        return dataclasses.replace(self, **self._transform(name).off)

    def only(self, name: str) -> "AugmentConfig":
        """This config with every transform but ``name`` turned off."""
        self._transform(name)
        cfg = self
        for other in self.transforms():
            if other != name:
                cfg = cfg.without(other)
        return cfg

    # --------------------------------------------------------- JSON
    def to_dict(self) -> dict:
        """Plain-JSON form (for result files and checkpoints)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "AugmentConfig":
        """Inverse of :meth:`to_dict`; a knob missing from ``d`` (saved before it existed) takes
        its default."""
        return cls(**d)


#: The transforms the book names, in the order :func:`compose` applies them.
TRANSFORMS = AugmentConfig.transforms()

#: The named views, by the word that means each (``--view fast``, a recipe's ``"view"``,
#: the label-free scores' views): "none" is the identity, x' = x.
VIEWS: Mapping[str, Callable[[], AugmentConfig]] = MappingProxyType({
    "fast": AugmentConfig.fast,
    "article": AugmentConfig.article,
    "mild": AugmentConfig.mild,
    "none": AugmentConfig.none,
})


def compose(x: tf.Tensor, config: AugmentConfig, seed: Seed) -> tf.Tensor:
    """Apply every transform of ``config`` in TRANSFORMS order, each with a stream of its own.

    A transform's stream (:func:`transform`) is part ``stream`` of one
    five-way split of the seed, or for streams >= 6 the seed with ``stream``
    folded in. x: (batch, H, W, 1) floats in [0, 1]. Returns the augmented
    batch, same shape and dtype, in [0, 1]. ``compose(x, AugmentConfig.none(),
    s)`` is x.
    """
    split = _split(seed, _SPLIT)
    for t in _transforms(type(config)):
        stream = (split[t.stream] if t.stream < _SPLIT
                  else tf.random.experimental.stateless_fold_in(_seed(seed), t.stream))
        x = t.apply(config, x, stream)
    return x
