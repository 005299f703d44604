"""Pen strokes -> a 28 x 28 image prepared like MNIST's digits.

MNIST's digits were scaled so that their ink fits a 20 x 20 box (keeping the
aspect ratio), then shifted so that the centre of mass of the ink lies at the
centre of the 28 x 28 image (LeCun, Cortes & Burges). :func:`strokes_to_image`
does the same to a digit drawn as strokes (with a mouse, a pen or a finger):

1. the bounding box of the strokes' points is scaled so that the ink (the
   strokes' centre lines with a pen of radius ``PEN_RADIUS`` and a soft edge of
   half-width ``EDGE`` on each side) spans ``BOX`` = 20 pixels along its longer
   side;
2. each pixel (row ``i``, column ``j``, its centre at ``(j, i)``) gets the ink
   ``v = clip((PEN_RADIUS + EDGE - d) / (2 EDGE), 0, 1)``, ``d`` the distance
   from its centre to the nearest stroke segment: 1 on the pen's core, a linear
   ramp across its edge, 0 beyond;
3. the image is drawn again, shifted so that its centre of mass
   ``(sum v j / sum v, sum v i / sum v)`` lies at ``(CENTRE, CENTRE)``.

The constants are MNIST's, measured on its training images (the first 20,000,
``iic_tutorial.data.load_mnist``): the box of non-zero pixels is 20 pixels
along its longer side, the centre of mass sits at pixel (14.0, 14.0)
(rows and columns counted from 0; mean 13.995 and 14.009, std 0.28), a stroke
holds about 2.8 pixels of ink across (a '1' about 61 pixels in total, a '0'
about 137), and about 36 % of its non-zero pixels are saturated
(``2 PEN_RADIUS`` = 2.8 of ink across; ``(PEN_RADIUS - EDGE) / (PEN_RADIUS +
EDGE)`` = 1/3 saturated).

The book's "draw a digit" page runs the same steps in JavaScript
(``tools/book_static/draw-a-digit/strokes.js``, given these constants by the
build); ``tests/test_browser_demo.py`` checks that both give the same image for
the same strokes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["strokes_to_image", "centre_of_mass", "ink_box", "SIZE", "BOX", "CENTRE",
           "PEN_RADIUS", "EDGE"]

#: Side of the image, pixels.
SIZE = 28
#: Longer side of the box the ink is scaled to fit, pixels (MNIST's 20 x 20 box).
BOX = 20.0
#: Where the centre of mass is put: pixel (CENTRE, CENTRE), rows and columns from 0.
CENTRE = 14.0
#: Radius of the pen's saturated core plus half its soft edge, pixels of the 28 x 28 image.
PEN_RADIUS = 1.4
#: Half-width of the pen's soft edge, pixels: the ink falls from 1 to 0 over 2 * EDGE.
EDGE = 0.7


def _as_strokes(strokes: Sequence) -> list[np.ndarray]:
    """Validate strokes into a list of float64 (n_i, 2) arrays; ValueError says what is wrong."""
    if isinstance(strokes, np.ndarray) and strokes.ndim == 2:
        strokes = [strokes]
    out = []
    for n, stroke in enumerate(strokes):
        a = np.asarray(stroke, dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != 2 or len(a) == 0:
            raise ValueError(f"stroke {n} must be a non-empty sequence of (x, y) points, shape "
                             f"(n, 2); got shape {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"stroke {n} holds NaN or Inf coordinates; drop those points")
        out.append(a)
    if not out:
        raise ValueError("no strokes: draw at least one point (a stroke is a sequence of (x, y) "
                         "points)")
    return out


def _segments(strokes: list[np.ndarray]) -> np.ndarray:
    """(m, 4) segments (ax, ay, bx, by); a one-point stroke is a segment of length 0."""
    parts = []
    for a in strokes:
        if len(a) == 1:
            parts.append(np.concatenate([a, a], axis=1))
        else:
            parts.append(np.concatenate([a[:-1], a[1:]], axis=1))
    return np.concatenate(parts, axis=0)


def _draw(seg: np.ndarray, pen_radius: float, edge: float) -> np.ndarray:
    """Ink of every pixel centre (j, i) for segments already in image coordinates, (SIZE, SIZE)."""
    i, j = np.meshgrid(np.arange(SIZE, dtype=np.float64), np.arange(SIZE, dtype=np.float64),
                       indexing="ij")
    px, py = j.reshape(-1, 1), i.reshape(-1, 1)
    ax, ay, bx, by = (seg[:, c][None, :] for c in range(4))
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(length2 > 0, ((px - ax) * dx + (py - ay) * dy) / length2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    ex, ey = px - (ax + t * dx), py - (ay + t * dy)
    d = np.sqrt((ex * ex + ey * ey).min(axis=1))
    v = np.clip((pen_radius + edge - d) / (2.0 * edge), 0.0, 1.0)
    return v.reshape(SIZE, SIZE)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the ink's centre of mass: (sum v i / sum v, sum v j / sum v).

    image: (28, 28) (or (28, 28, 1)) non-negative ink. Pixels are counted from
    0, so MNIST's digits have theirs near (14, 14). ValueError for an image
    with no ink.
    """
    v = np.asarray(image, dtype=np.float64).reshape(SIZE, SIZE)
    total = v.sum()
    if not total > 0:
        raise ValueError("the image holds no ink (all pixels are 0); its centre of mass is undefined")
    rows = np.arange(SIZE, dtype=np.float64)
    return float((v.sum(axis=1) * rows).sum() / total), float((v.sum(axis=0) * rows).sum() / total)


def ink_box(image: np.ndarray) -> tuple[int, int]:
    """(height, width) in pixels of the smallest box holding every non-zero pixel; (0, 0) if none."""
    v = np.asarray(image).reshape(SIZE, SIZE) > 0
    rows, cols = np.flatnonzero(v.any(axis=1)), np.flatnonzero(v.any(axis=0))
    if len(rows) == 0:
        return 0, 0
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def strokes_to_image(strokes: Sequence, pen_radius: float = PEN_RADIUS,
                     edge: float = EDGE) -> np.ndarray:
    """A digit drawn as strokes -> float32 (28, 28) ink in [0, 1], scaled and centred like MNIST.

    strokes: a sequence of strokes, each a sequence of (x, y) points, shape
    (n_i, 2), in any unit and origin (canvas pixels, y pointing down, as a
    pointer reports them); only their shape matters. A one-point stroke is a
    dot; a single (n, 2) NumPy array is one stroke. The longer side of the points' bounding box is scaled to
    ``BOX - 2 (pen_radius + edge)`` pixels, so that the ink spans ``BOX`` =
    20 (a dot alone stays a dot), each pixel gets
    ``clip((pen_radius + edge - d) / (2 edge), 0, 1)`` for its distance ``d``
    (pixels) to the nearest segment, and the drawing is shifted so that the
    centre of mass lies at pixel (``CENTRE``, ``CENTRE``) = (14, 14), as in
    MNIST (to within 0.1 pixel: the second drawing samples the shifted strokes
    at the same pixel centres; MNIST's own spread is 0.28 pixel). Feed it to a model as
    ``image[None, ..., None]``. ValueError for no strokes, a malformed stroke,
    non-finite points or a pen that does not fit the box.
    """
    if not (edge > 0 and pen_radius > 0 and 2 * (pen_radius + edge) < BOX):
        raise ValueError(f"pen_radius and edge must be > 0 with 2 (pen_radius + edge) < {BOX}; "
                         f"got pen_radius={pen_radius!r}, edge={edge!r}")
    seg = _segments(_as_strokes(strokes))
    xs, ys = seg[:, [0, 2]], seg[:, [1, 3]]
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    extent = max(x1 - x0, y1 - y0)
    scale = (BOX - 2.0 * (pen_radius + edge)) / extent if extent > 0 else 0.0
    # the box's centre at the image's centre, then the centre of mass there
    shift_x, shift_y = CENTRE - 0.5 * (x0 + x1) * scale, CENTRE - 0.5 * (y0 + y1) * scale
    placed = seg * scale + np.array([shift_x, shift_y, shift_x, shift_y])
    image = _draw(placed, pen_radius, edge)
    row, col = centre_of_mass(image)
    placed = placed + np.array([CENTRE - col, CENTRE - row, CENTRE - col, CENTRE - row])
    return _draw(placed, pen_radius, edge).astype(np.float32)
