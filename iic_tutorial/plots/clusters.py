"""What the clusters hold (chapters 8, 10, 13): the confusion matrix and a gallery per
cluster.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._style import CMAP, MAX_WIDTH, TICK_SIZE, _annotate_cells, _as_images, _colorbar, _new_ax

__all__ = ["plot_confusion", "cluster_gallery"]


def plot_confusion(
    C,
    ax: Axes | None = None,
    normalize: bool = True,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
    annotate: bool | None = None,
    cmap: str = CMAP,
    show_accuracy: bool = True,
    xlabel: str = "matched cluster",
    ylabel: str = "true digit",
    cluster_names: Sequence[str] | None = None,
    colorbar: bool = True,
) -> Figure:
    """Confusion matrix heatmap: rows = true digit, columns = matched cluster.

    ``C``: (n_classes, k) counts as returned by
    :func:`iic_tutorial.metrics.confusion_matrix`, whose column c is the
    cluster matched to class c. With ``normalize`` each row is divided by its
    sum (the fraction of each row sent to each column). With
    ``show_accuracy`` the title adds the matched accuracy
    sum_c C[c, c] / sum(C) (``"<title>: accuracy = 97.5 %"``); turn it off,
    and name the axes with ``xlabel`` and ``ylabel``, to draw any other
    contingency table (e.g. digits x clusters as numbered, whose diagonal
    means nothing). ``class_names`` names the rows and ``cluster_names`` the
    columns (one name per column, each column ticked; by default the columns
    are numbered, every column up to 20 and every few beyond). ``annotate``
    writes values in cells (default: when the matrix has at most 12 columns).
    With ``colorbar`` a colour bar on the right (axes label "colorbar") reads a
    shade back as a fraction of the row (or a count, without ``normalize``).
    The figure is at most :data:`MAX_WIDTH` inches wide. Returns the Figure.
    """
    C = np.asarray(C, dtype=np.float64)
    if C.ndim != 2 or C.size == 0:
        raise ValueError(f"C must be a 2-D (classes x clusters) matrix; got shape {C.shape}")
    if not np.all(np.isfinite(C)) or np.any(C < 0):
        raise ValueError("C must hold finite, non-negative counts; check the matrix you pass")
    n_classes, k = C.shape
    accuracy = np.trace(C[:, :n_classes]) / C.sum() if C.sum() > 0 else 0.0
    M = C / np.maximum(C.sum(axis=1, keepdims=True), 1e-12) if normalize else C
    fig, ax = _new_ax(ax, _confusion_size(n_classes, k))
    image = ax.imshow(M, cmap=cmap, vmin=0, vmax=1 if normalize else max(M.max(), 1),
                      interpolation="nearest", aspect="auto" if k != n_classes else "equal")
    ax.set_label("confusion")
    if colorbar:
        from mpl_toolkits.axes_grid1 import make_axes_locatable

        cax = make_axes_locatable(ax).append_axes("right", size=0.15, pad=0.1)
        _colorbar(fig, image, cax, "fraction of the row" if normalize else "count")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if cluster_names is None:
        step = 1 if k <= 20 else int(math.ceil(k / 10))
        ax.set_xticks(np.arange(0, k, step))
    else:
        if len(cluster_names) != k:
            raise ValueError(
                f"cluster_names needs one name per column of C ({k}); got {len(cluster_names)}"
            )
        ax.set_xticks(np.arange(k))
        ax.set_xticklabels(cluster_names)
    ax.set_yticks(np.arange(n_classes))
    if class_names is not None:
        if len(class_names) != n_classes:
            raise ValueError(
                f"class_names needs one name per row of C ({n_classes}); got {len(class_names)}"
            )
        ax.set_yticklabels(class_names)
    ax.tick_params(labelsize=TICK_SIZE)
    if annotate is None:
        annotate = k <= 12
    if annotate:
        vmax = 1.0 if normalize else M.max()
        _annotate_cells(ax, M, ".2f" if normalize else ".0f", 0.6 * vmax)
    if show_accuracy:
        head = f"{title}: " if title else ""
        ax.set_title(f"{head}accuracy = {100 * accuracy:.1f} %", fontsize=10)
    elif title:
        ax.set_title(title, fontsize=10)
    return fig


def _confusion_size(n_rows: int, k: int) -> tuple[float, float]:
    """Default size (inches) of a confusion matrix with n_rows rows and k columns."""
    return min(max(4.8, 0.42 * k + 1.6), MAX_WIDTH), 0.42 * n_rows + 1.2


def cluster_gallery(
    images,
    clusters,
    n_per_cluster: int = 8,
    order: Sequence[int] | None = None,
    titles: Mapping[int, str] | Sequence[str] | None = None,
    seed: int | None = 0,
    size: float = 0.55,
) -> Figure:
    """One row of sample images per cluster (for the k or the 50 over-clusters).

    ``images``: (n, 28, 28[, 1]); ``clusters``: (n,) cluster id of each image
    (e.g. ``z.argmax(axis=1)``). ``order``: the cluster ids to show, top to
    bottom (default: every id 0..max). Each row shows up to ``n_per_cluster``
    members, drawn at random with ``seed`` (None: the first ones); a row is
    labelled ``titles[j]`` or "j (count)". The rows are one mosaic image, so
    50 rows draw quickly. Returns the Figure.
    """
    x = _as_images(images)
    clusters = np.asarray(clusters).ravel()
    if len(clusters) != len(x):
        raise ValueError(
            f"images and clusters must have the same length; got {len(x)} and {len(clusters)}"
        )
    if not np.issubdtype(clusters.dtype, np.integer):
        raise ValueError(
            f"clusters must be integer ids (e.g. z.argmax(axis=1)); got dtype {clusters.dtype}"
        )
    if n_per_cluster < 1:
        raise ValueError(f"n_per_cluster must be >= 1; got {n_per_cluster}")
    order = list(range(int(clusters.max()) + 1)) if order is None else [int(j) for j in order]
    if not order:
        raise ValueError("order is empty; pass the cluster ids to show")
    rng = np.random.default_rng(seed) if seed is not None else None
    H, W = x.shape[1:]
    pad = 2
    mosaic = np.zeros((len(order) * (H + pad), n_per_cluster * (W + pad)))
    labels = []
    for r, j in enumerate(order):
        members = np.flatnonzero(clusters == j)
        if rng is not None and len(members) > n_per_cluster:
            members = np.sort(rng.choice(members, n_per_cluster, replace=False))
        members = members[:n_per_cluster]
        for c, m in enumerate(members):
            mosaic[r * (H + pad):r * (H + pad) + H, c * (W + pad):c * (W + pad) + W] = x[m]
        if titles is not None:
            labels.append(str(titles[j]))
        else:
            labels.append(f"{j} ({np.sum(clusters == j)})")
    fig, ax = plt.subplots(figsize=(size * n_per_cluster + 1.0, size * len(order) + 0.3))
    ax.imshow(mosaic, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_label("gallery")
    ax.set_yticks(np.arange(len(order)) * (H + pad) + H / 2)
    ax.set_yticklabels(labels, fontsize=TICK_SIZE)
    ax.set_xticks([])
    ax.set_ylabel("cluster (size)")
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(length=0)
    return fig
