"""iic_tutorial.strokes: strokes -> a 28 x 28 image scaled and centred like MNIST.

(Its JavaScript twin is compared with it in tests/test_browser_demo.py.)
"""

import numpy as np
import pytest
from scipy import ndimage

from iic_tutorial.strokes import (BOX, CENTRE, EDGE, PEN_RADIUS, SIZE, centre_of_mass, ink_box,
                                  strokes_to_image)

T = np.linspace(0, 2 * np.pi, 60)
DIGITS = {
    0: [np.c_[100 + 60 * np.sin(T), 100 - 90 * np.cos(T)]],
    1: [np.array([[150, 20], [140, 250]])],
    4: [np.array([[120, 20], [40, 180], [200, 180]]), np.array([[160, 100], [160, 280]])],
    7: [np.array([[40, 30], [200, 30], [90, 260]])],
}


def _random(rng):
    return [np.cumsum(rng.normal(0, 10, (int(rng.integers(2, 30)), 2)), axis=0)
            for _ in range(int(rng.integers(1, 4)))]


@pytest.mark.parametrize("seed", range(8))
def test_centre_of_mass_at_the_centre_and_box_of_20(seed):
    rng = np.random.default_rng(seed)
    image = strokes_to_image(_random(rng))
    assert image.shape == (SIZE, SIZE) and image.dtype == np.float32
    assert 0 <= image.min() and image.max() <= 1
    row, col = ndimage.center_of_mass(image.astype(np.float64))  # another implementation
    assert np.allclose(centre_of_mass(image), (row, col), atol=1e-9)
    assert abs(row - CENTRE) < 0.1 and abs(col - CENTRE) < 0.1, (row, col)
    assert max(ink_box(image)) in (BOX - 1, BOX, BOX + 1), ink_box(image)


def test_the_pen_profile_across_a_horizontal_line():
    """Pixel (row 14 + r) under a horizontal line gets clip((PEN_RADIUS + EDGE - r) / (2 EDGE), 0, 1)."""
    image = strokes_to_image([[[0.0, 5.0], [10.0, 5.0]]])
    assert centre_of_mass(image)[0] == pytest.approx(CENTRE, abs=1e-9)  # symmetric
    for r in range(4):
        want = float(np.clip((PEN_RADIUS + EDGE - r) / (2 * EDGE), 0, 1))
        for row in (14 - r, 14 + r):
            assert image[row, 14] == pytest.approx(want, abs=1e-6), (row, want)
    # the line's ink spans BOX pixels: the centre line BOX - 2 (PEN_RADIUS + EDGE), plus the pen
    cols = np.flatnonzero(image[14] > 0)
    assert cols[-1] - cols[0] + 1 in (BOX - 1, BOX, BOX + 1)


def test_units_origin_and_direction_do_not_matter():
    strokes = DIGITS[4]
    image = strokes_to_image(strokes)
    moved = [s * 3.7 + np.array([-500.0, 1234.5]) for s in strokes]
    reversed_ = [s[::-1] for s in strokes[::-1]]
    assert np.abs(strokes_to_image(moved) - image).max() < 1e-6
    assert np.abs(strokes_to_image(reversed_) - image).max() < 1e-6


def test_aspect_ratio_is_kept():
    tall, wide = strokes_to_image(DIGITS[1]), strokes_to_image([[[0, 0], [100, 0], [100, 40]]])
    height, width = ink_box(tall)
    assert height >= BOX - 1 and width <= 8
    height, width = ink_box(wide)
    assert width >= BOX - 1 and 8 < height < 16  # 40/100 of the centre line, plus the pen


def test_a_dot_is_a_dot_at_the_centre():
    image = strokes_to_image([[[7.0, 9.0]]])
    assert image[14, 14] == 1.0
    assert max(ink_box(image)) <= 5
    assert centre_of_mass(image) == pytest.approx((CENTRE, CENTRE), abs=1e-9)


def test_drawn_digits_get_their_digit_from_the_shipped_model(mnist):
    """Strokes prepared like MNIST land in the cluster matched to their digit (labels: the test set)."""
    from iic_tutorial.data import to_float
    from iic_tutorial.metrics import match_clusters
    from iic_tutorial.pretrained import load_pretrained

    model = load_pretrained()
    _, (x_test, y_test) = mnist
    z_test = model.predict(to_float(x_test), batch_size=1000, verbose=0)[0]
    digit_of = match_clusters(y_test, z_test.argmax(axis=1), k=z_test.shape[1])
    images = np.stack([strokes_to_image(s) for s in DIGITS.values()])[..., None]
    z, _ = model(images, training=False)
    got = [digit_of[int(c)] for c in np.asarray(z).argmax(axis=1)]
    assert got == list(DIGITS), got


@pytest.mark.parametrize("strokes, message", [
    ([], "no strokes"),
    ([[]], "stroke 0 must be a non-empty"),
    ([[[0, 0], [1, 1]], [[0, 0, 0]]], r"stroke 1 must be .* got shape \(1, 3\)"),
    ([[[0, 0], [np.nan, 1]]], "NaN or Inf"),
])
def test_bad_strokes_say_what_is_wrong(strokes, message):
    with pytest.raises(ValueError, match=message):
        strokes_to_image(strokes)


def test_bad_pen_and_empty_image_say_what_is_wrong():
    with pytest.raises(ValueError, match="pen_radius and edge"):
        strokes_to_image(DIGITS[1], pen_radius=12)
    with pytest.raises(ValueError, match="pen_radius and edge"):
        strokes_to_image(DIGITS[1], edge=0)
    with pytest.raises(ValueError, match="no ink"):
        centre_of_mass(np.zeros((28, 28)))
    assert ink_box(np.zeros((28, 28))) == (0, 0)
