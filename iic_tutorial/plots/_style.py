"""The look every figure shares: colour map, tick size, widest figure, and small drawing
helpers.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..data import as_images

__all__ = ["CMAP", "TICK_SIZE", "MAX_WIDTH"]


#: Default colour map for probabilities (light = small, dark = large).
CMAP = "Blues"


#: Tick label size used throughout.
TICK_SIZE = 9


#: Widest figure (inches, at 100 dpi) that the composite figures draw: the book's text
#: column is about 7 inches (700 px) wide, and a wider figure is shrunk to fit, labels
#: and all.
MAX_WIDTH = 8.0


def _new_ax(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The given axes and their figure, or a new figure with one axes."""
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def _as_joint(P, name: str = "P") -> np.ndarray:
    """P as a float64 k x k' joint distribution; renormalises rounding (|sum - 1| < 1e-3)."""
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2:
        raise ValueError(f"{name} must be a 2-D joint distribution (k, k'); got shape {P.shape}")
    if not np.all(np.isfinite(P)) or np.any(P < 0):
        raise ValueError(f"{name} must be finite and non-negative; check the matrix you pass")
    total = P.sum()
    if abs(total - 1) > 1e-3:
        raise ValueError(
            f"{name} must sum to 1 (a joint distribution); got {total:.6g}. "
            f"Normalise it first: P / P.sum()"
        )
    return P / total


def _annotate_cells(ax: Axes, M: np.ndarray, fmt: str, threshold: float) -> None:
    """Write each value of M in its cell, white on dark cells."""
    for (i, j), v in np.ndenumerate(M):
        ax.text(j, i, format(v, fmt), ha="center", va="center", fontsize=8,
                color="white" if v > threshold else "black")


def _colorbar(fig: Figure, image, cax: Axes, label: str) -> None:
    """A colour bar for ``image`` in ``cax`` (axes label "colorbar"), its values labelled."""
    bar = fig.colorbar(image, cax=cax)
    bar.set_label(label, fontsize=TICK_SIZE)
    cax.tick_params(labelsize=7)
    cax.set_label("colorbar")


def _as_images(images) -> np.ndarray:
    """(n, H, W) or (n, H, W, 1), uint8 or float in [0, 1] -> float (n, H, W) in [0, 1].

    :func:`iic_tutorial.data.as_images` (the package's one converter, with its
    errors), then the channel dropped for imshow. Floats within 1e-6 of [0, 1]
    (an augmentation's round-off) are clipped first.
    """
    x = np.asarray(images)
    if np.issubdtype(x.dtype, np.floating) and x.size and np.isfinite(x).all() \
            and x.min() >= -1e-6 and x.max() <= 1 + 1e-6:
        x = np.clip(x, 0.0, 1.0)
    return as_images(x)[..., 0]


def _style_image_ax(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
