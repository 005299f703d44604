import argparse
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from iic_tutorial.augment import (
    TRANSFORMS,
    AugmentConfig,
    add_noise,
    adjust_intensity,
    binarize,
    compose,
    distort,
    erase,
    hide_band,
    knob,
    rotate,
    slider_ranges,
    transform,
)
from iic_tutorial.training import TrainConfig
from iic_tutorial.training.config import add_config_arguments, config_from_args


@pytest.fixture(scope="module")
def x(digits):
    return tf.constant(digits[0][:64])


ALL_ON = AugmentConfig(max_degrees=30, rotate_p=1.0, scale=(0.8, 1.3), shear=0.2, shift=3,
                       brightness=0.2, contrast=0.3, binarize_p=0.5, noise_stddev=0.2, noise_p=0.5,
                       erase_p=0.5, band_p=0.5)


@pytest.mark.parametrize("config", [AugmentConfig.fast(), AugmentConfig.article(), ALL_ON]
                         + [ALL_ON.only(t) for t in TRANSFORMS])
def test_output_in_range_same_shape_and_dtype(x, config):
    y = compose(x, config, seed=3)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert float(tf.reduce_min(y)) >= 0.0 and float(tf.reduce_max(y)) <= 1.0


def test_same_seed_same_output_other_seed_other_output(x):
    a = compose(x, ALL_ON, seed=7).numpy()
    b = compose(x, ALL_ON, seed=7).numpy()
    c = compose(x, ALL_ON, seed=8).numpy()
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).mean() > 0.01


def test_none_is_identity_and_each_transform_changes_images(x):
    np.testing.assert_array_equal(compose(x, AugmentConfig.none(), seed=1).numpy(), x.numpy())
    for name in TRANSFORMS:
        y = compose(x, ALL_ON.only(name), seed=1).numpy()
        assert np.abs(y - x.numpy()).mean() > 1e-3, name


def test_each_image_gets_its_own_parameters(x):
    batch = tf.repeat(x[:1], 16, axis=0)
    y = rotate(batch, 40, seed=2).numpy()
    assert len({y[i].tobytes() for i in range(16)}) == 16


def test_rotation_by_180_degrees_flips_the_image():
    img = np.zeros((1, 29, 29, 1), np.float32)
    img[0, 3, 5, 0] = 1.0
    # max_degrees=180 draws theta in (-180, 180); build an exact 180 degree rotation instead
    from iic_tutorial.augment import _apply_affine

    out = _apply_affine(tf.constant(img), tf.constant([[[-1.0, 0.0], [0.0, -1.0]]]), tf.zeros([1, 2]))
    assert out.numpy()[0, 25, 23, 0] == pytest.approx(1.0)


def test_rotation_preserves_mass_of_centred_digit(x):
    y = rotate(x, 25, seed=0).numpy()
    np.testing.assert_allclose(y.sum(axis=(1, 2, 3)), x.numpy().sum(axis=(1, 2, 3)), rtol=0.1)


def test_shift_moves_the_centre_of_mass(x):
    y = distort(x, scale=(1, 1), shift=3, seed=0).numpy()
    grid = np.arange(28)

    def com(a):  # centre of mass along the rows
        return (a[..., 0].sum(axis=1) * grid).sum(axis=1) / a[..., 0].sum(axis=(1, 2))

    moved = np.abs(com(y) - com(x.numpy()))
    assert moved.max() <= 3.5 and moved.mean() > 0.5


def test_zoom_grows_the_digit(x):
    y = distort(x, scale=(1.5, 1.5), seed=0).numpy()
    assert (y > 0.5).sum() > 1.5 * (x.numpy() > 0.5).sum()


def test_binarize_gives_zeros_and_ones(x):
    y = binarize(x, threshold=0.5, p=1.0, seed=0).numpy()
    assert set(np.unique(y)) <= {0.0, 1.0}
    np.testing.assert_array_equal(y, (x.numpy() > 0.5).astype(np.float32))


def test_probability_p_is_respected(digits):
    x = tf.constant(digits[0][:1000])
    y = binarize(x, p=0.3, seed=0).numpy()
    changed = np.any(y != x.numpy(), axis=(1, 2, 3)).mean()
    assert 0.25 < changed < 0.35


def test_noise_has_requested_stddev():
    x = tf.fill((8, 28, 28, 1), 0.5)
    y = add_noise(x, stddev=0.1, p=1.0, seed=0).numpy()
    assert np.std(y - 0.5) == pytest.approx(0.1, rel=0.05)


def test_intensity_jitter_scales_pixels():
    x = tf.fill((64, 28, 28, 1), 0.5)
    y = adjust_intensity(x, brightness=0.0, contrast=0.5, seed=0).numpy()
    per_image = y[:, 0, 0, 0]
    assert per_image.min() >= 0.25 - 1e-6 and per_image.max() <= 0.75 + 1e-6 and per_image.std() > 0.05


def test_works_inside_tf_function(x):
    f = tf.function(lambda a, s: compose(a, ALL_ON, s))
    y = f(x, tf.constant([1, 2], tf.int64))
    np.testing.assert_allclose(y.numpy(), compose(x, ALL_ON, tf.constant([1, 2], tf.int64)).numpy(), atol=1e-5)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda x: add_noise(x, stddev=-0.1), "stddev must be a finite number >= 0"),
        (lambda x: add_noise(x, p=1.5), r"p is a probability and must lie in \[0, 1\]"),
        (lambda x: binarize(x, p=-0.1), r"p is a probability"),
        (lambda x: rotate(x, -5, seed=0), "max_degrees must be"),
        (lambda x: distort(x, scale=(1.2, 0.8)), "scale must be"),
        (lambda x: rotate(x[..., 0], 5, seed=0), r"shape \(batch, height, width, 1\)"),
        (lambda x: rotate(tf.cast(x * 255, tf.uint8), 5, seed=0), "must be floats"),
    ],
)
def test_bad_arguments_raise_value_error(x, call, match):
    with pytest.raises(ValueError, match=match):
        call(x)


def test_config_validation_and_round_trip():
    with pytest.raises(ValueError, match="noise_p is a probability"):
        AugmentConfig(noise_p=2)
    with pytest.raises(ValueError, match="unknown transform 'blur'"):
        AugmentConfig.fast().only("blur")
    c = AugmentConfig.article()
    assert AugmentConfig.from_dict(c.to_dict()) == c
    assert AugmentConfig.article().only("noise").max_degrees == 0
    assert AugmentConfig.article().without("rotation").noise_p == 0.5


def test_erase_blacks_out_one_rectangle_of_the_stated_size():
    ones = tf.ones([32, 28, 28, 1])
    y = erase(ones, size=12, p=1.0, seed=4).numpy()[..., 0]
    for img in y:
        assert set(np.unique(img)) <= {0.0, 1.0}  # pixels are kept or zeroed, nothing else
        rows, cols = np.nonzero(img == 0)
        h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert h * w == len(rows)  # one solid rectangle
        assert 5 <= h <= 12 and 5 <= w <= 12  # sides ~ U(size/2, size), whole pixels
        assert 4 <= (rows.min() + rows.max() + 1) / 2 <= 24  # centre in the digit region
        assert 4 <= (cols.min() + cols.max() + 1) / 2 <= 24


def test_erase_probability_and_identity(x):
    np.testing.assert_array_equal(erase(x, size=12, p=0.0, seed=1).numpy(), x.numpy())
    np.testing.assert_array_equal(erase(x, size=0, p=1.0, seed=1).numpy(), x.numpy())
    ones = tf.ones([400, 28, 28, 1])
    touched = (erase(ones, size=12, p=0.25, seed=2).numpy() == 0).any(axis=(1, 2, 3))
    assert 0.18 < touched.mean() < 0.32


def test_adding_erasing_left_the_other_random_streams_unchanged(x):
    # Runs made before erasing existed must stay reproducible: with erase_p = 0
    # compose draws exactly what the five-transform version drew.
    config = AugmentConfig.article()
    s_rot, s_dist, s_int, s_bin, s_noise = tf.random.experimental.stateless_split(
        tf.constant([9, 0], tf.int64), num=5)
    y = rotate(x, config.max_degrees, s_rot, p=config.rotate_p)
    y = distort(y, config.scale, config.shear, config.shift, s_dist)
    y = binarize(y, config.threshold, config.binarize_p, s_bin)
    y = add_noise(y, config.noise_stddev, config.noise_p, s_noise)
    np.testing.assert_array_equal(compose(x, config, seed=9).numpy(), y.numpy())


def test_band_blacks_out_whole_rows_of_the_stated_height():
    ones = tf.ones([64, 28, 28, 1])
    y = hide_band(ones, height=6, p=1.0, seed=4).numpy()[..., 0]
    for img in y:
        hidden = (img == 0).all(axis=1)  # rows blacked out across the whole width
        assert ((img == 0).any(axis=1) == hidden).all()  # and no other pixel
        rows = np.nonzero(hidden)[0]
        assert len(rows) and (np.diff(rows) == 1).all()  # one band of adjacent rows
        assert 2 <= len(rows) <= 6  # height ~ U(3, 6), whole pixels
        assert 4 <= (rows.min() + rows.max() + 1) / 2 <= 24
    heights = [(img == 0).all(axis=1).sum() for img in y]
    assert len(set(heights)) > 2  # each image its own band


def test_band_probability_identity_and_the_streams_before_it(x):
    np.testing.assert_array_equal(hide_band(x, height=6, p=0.0, seed=1).numpy(), x.numpy())
    np.testing.assert_array_equal(hide_band(x, height=0, p=1.0, seed=1).numpy(), x.numpy())
    ones = tf.ones([400, 28, 28, 1])
    touched = (hide_band(ones, p=0.25, seed=2).numpy() == 0).any(axis=(1, 2, 3))
    assert 0.18 < touched.mean() < 0.32
    # a band on top of a view: the view's own draws are those it makes without one
    view = AugmentConfig.fast(erase_p=0.5)
    banded = compose(x, dataclasses.replace(view, band_p=1.0), seed=5).numpy()
    plain = compose(x, view, seed=5).numpy()
    kept = banded != 0
    np.testing.assert_array_equal(banded[kept], plain[kept])
    assert (banded == 0).sum() > (plain == 0).sum()
    assert AugmentConfig.from_dict({k: v for k, v in view.to_dict().items()
                                    if not k.startswith("band")}) == view  # older runs


@pytest.mark.parametrize("kwargs, message", [
    ({"erase_p": 1.5}, "erase_p is a probability"),
    ({"erase_size": -1}, "erase_size must be a finite number >= 0"),
    ({"band_p": -0.1}, "band_p is a probability"),
    ({"band_height": -2}, "band_height must be a finite number >= 0"),
])
def test_bad_erase_settings_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AugmentConfig(**kwargs)


@dataclasses.dataclass(frozen=True)
class WithFlip(AugmentConfig):
    """A transform declared in one place: its knob and its method."""

    flip_p: float = knob(0.0, "probability that an image is mirrored left to right", "--flip",
                         transform="flip", off=0.0, valid=(0.0, 1.0),
                         slider=(0.0, 1.0, 0.05, "flip probability"))

    @transform(stream=8)
    def flip(self, x, seed):
        mirrored = tf.random.stateless_uniform([tf.shape(x)[0], 1, 1, 1], seed) < self.flip_p
        return tf.where(mirrored, x[:, :, ::-1], x)


def test_a_new_transform_is_one_declaration(x):
    # the list of transforms, ablations, validation and compose
    assert WithFlip.transforms() == TRANSFORMS + ("flip",)
    assert WithFlip.fast().only("flip") == WithFlip.none() and WithFlip.none().flip_p == 0.0
    assert WithFlip(flip_p=1.0).without("flip") == WithFlip.fast()
    assert WithFlip(flip_p=1.0).only("flip") == dataclasses.replace(WithFlip.none(), flip_p=1.0)
    with pytest.raises(ValueError, match=r"flip_p is a probability and must lie in \[0, 1\]"):
        WithFlip(flip_p=2.0)
    mirrored = compose(x, WithFlip(flip_p=1.0), seed=3).numpy()
    np.testing.assert_array_equal(mirrored, compose(x, AugmentConfig.fast(), seed=3).numpy()[:, :, ::-1])
    # the command line: --view-flip-p, its alias, --only flip; and describe() in words
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, view_class=WithFlip)
    assert "--view-flip-p" in parser.format_help() and "mirrored left to right" in parser.format_help()
    config = config_from_args(parser.parse_args(["--recipe", "fast", "--flip", "0.5"]), view_class=WithFlip)
    assert config.view == WithFlip(flip_p=0.5) and config.describe() == "fast (view: flip_p=0.5)"
    assert config.to_dict()["view"]["flip_p"] == 0.5  # a result's config, and its tables' words
    only = config_from_args(parser.parse_args(["--only", "rotation"]), view_class=WithFlip)
    assert only.view == WithFlip.fast().only("rotation") and only.describe() == "fast (view=fast, rotation only)"
    assert TrainConfig.fast().describe() == "fast"
    # the slider of the augmentation widget
    assert slider_ranges(WithFlip)["flip_p"] == (0.0, 1.0, 0.05, "flip probability")
    widgets = pytest.importorskip("iic_tutorial.widgets")
    box = widgets.augmentation_widget(x.numpy()[:2], base=WithFlip(), n=2)
    assert "flip_p" in box.controls
    box.controls["flip_p"].value = 1.0
    assert box.config == WithFlip(flip_p=1.0)


def test_each_transform_has_an_off_value_a_slider_an_option_and_a_method(x):
    fields = dataclasses.fields(AugmentConfig)
    assert {f.metadata["transform"] for f in fields} == set(TRANSFORMS)
    assert set(slider_ranges()) == {f.name for f in fields}  # the band's included
    for name in TRANSFORMS:
        assert callable(getattr(AugmentConfig, name))
        np.testing.assert_array_equal(compose(x, ALL_ON.only(name).without(name), seed=1).numpy(), x.numpy())
    help_text = argparse.ArgumentParser()
    add_config_arguments(help_text)
    for f in fields:
        assert f"--view-{f.name.replace('_', '-')}" in help_text.format_help()


def test_a_transform_without_an_off_value_or_a_method_is_refused():
    @dataclasses.dataclass(frozen=True)
    class NoOff(AugmentConfig):
        blur_radius: float = knob(0.0, "blur", transform="blur")

        @transform(stream=9)
        def blur(self, x, seed):
            return x

    with pytest.raises(TypeError, match="transform 'blur' has no knob that turns it off"):
        NoOff()

    @dataclasses.dataclass(frozen=True)
    class NoMethod(AugmentConfig):
        blur_p: float = knob(0.0, "blur", transform="blur", off=0.0)

    with pytest.raises(TypeError, match=r"knobs name .*'blur'.* methods"):
        NoMethod()


def test_the_named_views_have_one_registry():
    # --view's words, a recipe's "view" and the label-free scores' views all read augment.VIEWS
    from iic_tutorial import selection
    from iic_tutorial.augment import VIEWS
    from iic_tutorial.training import TrainConfig

    assert set(VIEWS) == {"fast", "article", "mild", "none"} and VIEWS["none"]() == AugmentConfig.none()
    assert all(selection.VIEWS[name] is VIEWS[name] for name in selection.VIEWS)
    assert TrainConfig.fast().view == VIEWS["fast"]() and TrainConfig.article().view == VIEWS["article"]()
    with pytest.raises(TypeError):
        VIEWS["sharp"] = AugmentConfig.none  # read-only: a new view is a new entry here


def test_a_band_aimed_at_rows_centres_there_and_the_default_draws_as_before(x):
    ones = tf.ones([200, 28, 28, 1])
    y = hide_band(ones, height=6, p=1.0, seed=3, rows=(13, 19)).numpy()[..., 0]
    centres = []
    for img in y:
        rows = np.nonzero((img == 0).all(axis=1))[0]
        centres.append((rows.min() + rows.max() + 1) / 2)
    assert 13 <= min(centres) and max(centres) <= 19 and max(centres) - min(centres) > 4
    # the knob's default is the rows the band always used: the same draws, image for image
    np.testing.assert_array_equal(hide_band(x, height=6, p=0.7, seed=3).numpy(),
                                  hide_band(x, height=6, p=0.7, seed=3, rows=(4, 24)).numpy())
    view = dataclasses.replace(AugmentConfig.fast(erase_p=0.5), band_p=0.5)
    assert view.band_rows == (4.0, 24.0)
    aimed = dataclasses.replace(view, band_rows=(13, 19))
    assert not np.array_equal(compose(x, aimed, seed=2).numpy(), compose(x, view, seed=2).numpy())


@pytest.mark.parametrize("rows, match", [((19, 13), "low <= high"), ((-1, 5), "0 <= low")])
def test_band_rows_out_of_order_or_range_are_refused(rows, match):
    with pytest.raises(ValueError, match=match):
        hide_band(tf.ones([2, 28, 28, 1]), rows=rows)
    with pytest.raises(ValueError, match="band_rows"):
        AugmentConfig(band_rows=rows)
