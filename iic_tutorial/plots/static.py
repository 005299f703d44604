"""Figures for a page with no kernel: PNG bytes with their titles, and several figures
side by side.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._style import MAX_WIDTH

__all__ = ["figure_to_png", "png_titles", "side_by_side"]


def _figure_titles(fig: Figure) -> list[str]:
    """Every non-empty title in a figure: its suptitle and each axes' titles."""
    titles = []
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text():
        titles.append(suptitle.get_text())
    for ax in fig.axes:
        for loc in ("center", "left", "right"):
            if ax.get_title(loc):
                titles.append(ax.get_title(loc))
    return titles


def figure_to_png(fig: Figure, dpi: int = 100, close: bool = False) -> bytes:
    """The figure rendered as PNG bytes (for ``ipywidgets.Image`` and static pages).

    The figure's titles are stored in the PNG's "Title" text field (one per
    line), so :func:`side_by_side` can tell which titles an image already shows.
    """
    if not isinstance(fig, Figure):
        raise ValueError(f"fig must be a matplotlib Figure; got {type(fig).__name__}")
    buffer = io.BytesIO()
    titles = _figure_titles(fig)
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight",
                metadata={"Title": "\n".join(titles)} if titles else None)
    if close:
        plt.close(fig)
    return buffer.getvalue()


def png_titles(png: bytes) -> list[str]:
    """The title lines that :func:`figure_to_png` stored in a PNG ([] when none)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        text = getattr(image, "text", None) or image.info
        return [line for line in str(text.get("Title", "")).split("\n") if line.strip()]


def _shows(label: str, titles: Sequence[str]) -> bool:
    """Whether one of ``titles`` already shows ``label`` as a line, or at the start of one.

    "T = 1" is shown by a line "T = 1" or "T = 1: H = 0.5", not by "T = 10" or "T = 1.5".
    """
    label = label.strip()
    if not label:
        return True
    for title in titles:
        for line in title.split("\n"):
            line = line.strip()
            if line == label:
                return True
            if line.startswith(label):
                rest = line[len(label)]
                if not rest.isalnum() and rest not in "._-":
                    return True
    return False


def _png_to_array(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def _auto_ncols(n: int, width: float, max_width: float | None) -> int:
    """All panels in one row if they fit in max_width; else as many as fit at >= 70 % size."""
    if max_width is None or n * width <= max_width:
        return n
    return max(1, min(n, int(max_width // (0.7 * width))))


def side_by_side(
    panels: Sequence[Figure | bytes | Callable[[Axes], object]],
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    panel_size: tuple[float, float] | None = None,
    max_width: float | None = MAX_WIDTH,
) -> Figure:
    """Several figures in one: a grid of panels, ``ncols`` per row.

    Each panel is a Figure or PNG bytes (shown as an image, at its natural
    size of 100 pixels per inch when it fits), or a callable ``draw(ax)``
    that draws into its axes (sharper, for single-axes plots). ``titles``:
    one label per panel, written above it unless the panel already shows it
    (as a title line, or at the start of one: e.g. a frame of
    :func:`iic_tutorial.widgets.render_frames` titled "T = 0.1\\nH = ...").
    A callable that draws its own title keeps it, with the label as a first
    line above it. ``panel_size`` (inches) defaults to the largest image, or
    (3.6, 3.2) when every panel is a callable. The figure is at most
    ``max_width`` inches wide (default :data:`MAX_WIDTH`, about the book's
    text column; None: no limit): ``ncols`` defaults to every panel in one
    row if they fit, otherwise as many per row as fit at 70 % of their size
    or more, and panels are scaled down to fit. Used for the static
    (no-JavaScript) version of a widget: the same figure for a few settings
    next to each other. Figures passed in are closed. Returns the new Figure.
    """
    if not panels:
        raise ValueError("panels is empty; pass at least one figure, PNG or draw(ax) function")
    if titles is not None and len(titles) != len(panels):
        raise ValueError(f"titles needs one string per panel ({len(panels)}); got {len(titles)}")
    if ncols is not None and ncols < 1:
        raise ValueError(f"ncols must be >= 1; got {ncols}")
    prepared: list = []
    labels: list[str | None] = []
    for idx, panel in enumerate(panels):
        label = None if titles is None else str(titles[idx])
        if isinstance(panel, Figure):
            panel = figure_to_png(panel, close=True)
        if isinstance(panel, (bytes, bytearray)):
            panel = bytes(panel)
            prepared.append(_png_to_array(panel))
            if label is not None and _shows(label, png_titles(panel)):
                label = None
        elif callable(panel):
            prepared.append(panel)
        else:
            raise ValueError(
                f"panel {idx} must be a Figure, PNG bytes or a draw(ax) function; "
                f"got {type(panel).__name__}"
            )
        labels.append(label)
    n = len(prepared)
    rasters = [p for p in prepared if isinstance(p, np.ndarray)]
    only_rasters = len(rasters) == n
    # a label is drawn above a raster: leave room for it
    head = 0.35 if any(lab and isinstance(p, np.ndarray) for p, lab in zip(prepared, labels)) \
        else 0.05
    if panel_size is None:
        if rasters:
            panel_size = (max(r.shape[1] for r in rasters) / 100 + 0.1,
                          max(r.shape[0] for r in rasters) / 100 + head)
        else:
            panel_size = (3.6, 3.2)
    width, height = panel_size
    ncols = min(ncols or _auto_ncols(n, width, max_width), n)
    nrows = math.ceil(n / ncols)
    if max_width is not None and width * ncols > max_width:
        scale = max_width / (width * ncols)
        width = width * scale
        # images keep their aspect ratio; the space for a label keeps its height
        height = (height - head) * scale + head if only_rasters else height * scale
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, figsize=(width * ncols, height * nrows))
    for idx, ax in enumerate(axes.ravel()):
        if idx >= n:
            fig.delaxes(ax)
            continue
        panel, label = prepared[idx], labels[idx]
        if isinstance(panel, np.ndarray):
            ax.imshow(panel, interpolation="antialiased")
            ax.set_axis_off()
            if label is not None:
                ax.set_title(label, fontsize=10)
            continue
        before = set(fig.axes)
        panel(ax)
        drawn = [a for a in fig.axes if a is ax or a not in before]
        own = [a for a in drawn if a.get_title()]
        if label is None or any(_shows(label, [a.get_title()]) for a in own):
            continue
        if own:  # keep the panel's title, with the label as its first line
            top = max(own, key=lambda a: a.get_position().y1)
            top.set_title(f"{label}\n{top.get_title()}", fontsize=top.title.get_fontsize())
        else:
            ax.set_title(label, fontsize=10)
    if only_rasters:
        fig.subplots_adjust(left=0.005, right=0.995, bottom=0.005,
                            top=1 - head / (height * nrows),
                            wspace=0.02, hspace=head / (height - head))
    else:
        fig.tight_layout()
    return fig
