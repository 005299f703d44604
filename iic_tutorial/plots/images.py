"""Grids of digits (chapter 5): images in rows, and the views an augmentation makes of
them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ._style import _as_images, _style_image_ax

__all__ = ["image_grid", "plot_augmentations"]


def image_grid(
    images,
    titles: Sequence[str] | None = None,
    ncols: int = 10,
    size: float = 0.9,
    cmap: str = "gray",
    row_labels: Sequence[str] | None = None,
    max_width: float | None = 7.0,
) -> Figure:
    """A grid of greyscale images, one axes per image, ``ncols`` per row.

    ``images``: (n, H, W) or (n, H, W, 1), uint8 (0-255) or floats in
    [0, 1] (NumPy or TensorFlow). Each image is shown on a fixed 0-1 scale
    (black = 0). ``titles``: n short strings above the images;
    ``row_labels``: one label per row, left of the first image. The figure
    has exactly n axes, in image order. ``size`` is inches per image, made
    smaller if the grid would be wider than ``max_width`` inches (the text
    column of the book; None: no limit), so labels keep their size.
    Returns the Figure.
    """
    x = _as_images(images)
    n = len(x)
    if n == 0:
        raise ValueError("images is empty; pass at least one image")
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1; got {ncols}")
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles needs one string per image ({n}); got {len(titles)}")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    if row_labels is not None and len(row_labels) != nrows:
        raise ValueError(f"row_labels needs one label per row ({nrows}); got {len(row_labels)}")
    label_width = 1.0 if row_labels else 0.0
    if max_width is not None and size * ncols + label_width > max_width:
        size = max(0.2, (max_width - label_width) / ncols)
    extra = 0.25 if titles is not None else 0.0
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols + label_width,
                                                    (size + extra) * nrows), squeeze=False)
    for idx, ax in enumerate(axes.ravel()):
        if idx >= n:
            fig.delaxes(ax)
            continue
        ax.imshow(x[idx], cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        _style_image_ax(ax)
        if titles is not None:
            ax.set_title(str(titles[idx]), fontsize=8, pad=2)
        if row_labels is not None and idx % ncols == 0:
            ax.set_ylabel(str(row_labels[idx // ncols]), fontsize=9, rotation=0, ha="right",
                          va="center")
    fig.subplots_adjust(wspace=0.05, hspace=0.3 if titles is not None else 0.05)
    return fig


def plot_augmentations(x, configs: Mapping[str, object], seed: int = 0, n: int = 8,
                       views: int = 1) -> Figure:
    """Rows = augmentation settings, columns = the same n digits; the original row first.

    ``x``: digits as (m, 28, 28) or (m, 28, 28, 1), uint8 or float in
    [0, 1]; the first ``n`` are shown. ``configs``: ``{row name:
    AugmentConfig}``, each applied with
    ``iic_tutorial.augment.compose(x, config, seed)`` (so every row of one
    call uses the same seed). ``views > 1`` gives each setting that many rows,
    view v drawn with seed ``seed + v`` and labelled ``"<name> <v + 1>"``:
    two views of one setting are an (x', x'') pair. Returns the Figure with
    (1 + views * len(configs)) * n axes.
    """
    from ..augment import compose

    images = _as_images(x)[:n]
    if len(images) == 0:
        raise ValueError("x is empty; pass at least one digit")
    if not configs:
        raise ValueError("configs is empty; pass e.g. {'article': AugmentConfig.article()}")
    if not isinstance(views, int) or views < 1:
        raise ValueError(f"views is a number of rows per setting, >= 1; got {views!r}")
    batch = images[..., None].astype(np.float32)
    rows, labels = [images], ["original"]
    for name, cfg in configs.items():
        for v in range(views):
            rows.append(np.asarray(compose(batch, cfg, seed + v))[..., 0])
            labels.append(str(name) if views == 1 else f"{name} {v + 1}")
    return image_grid(np.concatenate(rows), ncols=len(images), row_labels=labels)
