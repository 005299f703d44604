"""Distributions and joint distributions (chapters 1-4): a bar plot with its entropy, P
as a heatmap with its marginals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..information import entropy, mutual_information
from ._style import CMAP, MAX_WIDTH, TICK_SIZE, _annotate_cells, _as_joint, _colorbar, _new_ax

__all__ = ["plot_distribution", "plot_joint", "plot_joints"]


def plot_distribution(
    p,
    ax: Axes | None = None,
    title: str | None = None,
    labels: Sequence[str] | None = None,
    color: str = "C0",
    ylim: float | None = 1.0,
    xlabel: str = "outcome",
) -> Figure:
    """Bar plot of a probability vector p (shape (k,)) with H(p) in the title.

    The title reads ``"<title>\\nH = 1.234 nats (max ln k = 2.303)"`` (the
    first line only with ``title``; in a panel narrower than 3 inches the
    maximum gets a line of its own) with H = -sum_i p_i ln p_i from
    :func:`iic_tutorial.information.entropy`; the dashed line marks the
    uniform 1/k. ``labels`` names the k bars (default 0..k-1, every
    ceil(k / 10)-th one written when k > 20). ``xlabel`` names the outcomes
    (e.g. "cluster"). ``ylim`` fixes the top of the y axis (None:
    automatic), so figures for several distributions compare. Returns the
    Figure.
    """
    own = ax is None
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"p must be a probability vector of shape (k,); got shape {p.shape}")
    H = entropy(p)  # also checks p >= 0 and sum(p) = 1
    k = p.size
    fig, ax = _new_ax(ax, (4.5, 3.0))
    idx = np.arange(k)
    ax.bar(idx, p, color=color)
    ax.axhline(1 / k, color="0.4", ls="--", lw=1)
    if labels is not None:
        if len(labels) != k:
            raise ValueError(f"labels needs one name per outcome ({k}); got {len(labels)}")
        ax.set_xticks(idx)
        ax.set_xticklabels([str(label) for label in labels], fontsize=TICK_SIZE)
    else:
        ax.set_xticks(idx[::1 if k <= 20 else int(math.ceil(k / 10))])
    ax.tick_params(labelsize=TICK_SIZE)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("probability")
    if ylim is not None:
        ax.set_ylim(0, ylim)
    head = f"{title}\n" if title else ""
    # in a narrow panel (e.g. three in a row) the maximum goes on a line of its own
    narrow = ax.get_position().width * fig.get_figwidth() < 3.0
    ax.set_title(f"{head}H = {H:.3f} nats{chr(10) if narrow else ' '}"
                 f"(max ln {k} = {math.log(k):.3f})", fontsize=10)
    if own:
        fig.tight_layout()
    return fig


def plot_joint(
    P,
    ax: Axes | None = None,
    title: str | None = None,
    annotate: bool | None = None,
    cmap: str = CMAP,
    vmax: float | None = None,
    colorbar: bool = True,
) -> Figure:
    """Heatmap of a k x k joint P with P_i as bars on the right and P_j on top.

    ``P[i, j]``: rows i are Z, columns j are Z'. The right bars are
    P_i = sum_j P_ij, the top bars P_j = sum_i P_ij (both aligned with the
    heatmap). The top panel's title reads ``"<title>\\nI(Z; Z') = 0.123 nats"``
    (:func:`iic_tutorial.information.mutual_information`). ``annotate``
    writes the values in the cells (default: when k <= 12). The three axes
    carry the labels "P", "P_i", "P_j" (``ax.get_label()``), so code can find
    them. ``vmax`` fixes the colour scale (default max(P)). With ``colorbar``
    a colour bar right of the P_i bars (axes label "colorbar") reads a
    shade back as a probability P_ij. Returns the Figure.
    """
    from mpl_toolkits.axes_grid1 import make_axes_locatable

    P = _as_joint(P)
    k_rows, k_cols = P.shape
    P_i, P_j = P.sum(axis=1), P.sum(axis=0)
    fig, ax = _new_ax(ax, (4.6, 4.6))
    vmax = float(P.max()) if vmax is None else vmax
    image = ax.imshow(P, cmap=cmap, vmin=0, vmax=vmax if vmax > 0 else 1,
                      interpolation="nearest")
    ax.set_label("P")
    ax.set_xlabel("j (cluster of Z')")
    ax.set_ylabel("i (cluster of Z)")
    step = 1 if max(P.shape) <= 12 else int(math.ceil(max(P.shape) / 10))
    ax.set_xticks(np.arange(0, k_cols, step))
    ax.set_yticks(np.arange(0, k_rows, step))
    ax.tick_params(labelsize=TICK_SIZE)
    if annotate is None:
        annotate = max(P.shape) <= 12
    if annotate:
        _annotate_cells(ax, P, ".2f", 0.6 * vmax)

    divider = make_axes_locatable(ax)
    ax_top = divider.append_axes("top", size="22%", pad=0.08, sharex=ax)
    ax_right = divider.append_axes("right", size="22%", pad=0.08, sharey=ax)
    if colorbar:
        _colorbar(fig, image, divider.append_axes("right", size="5%", pad=0.12), "P_ij")
    ax_top.bar(np.arange(k_cols), P_j, color="C1", width=0.8)
    ax_right.barh(np.arange(k_rows), P_i, color="C0", height=0.8)
    ax_top.set_label("P_j")
    ax_right.set_label("P_i")
    top = max(P_i.max(), P_j.max()) * 1.15
    ax_top.set_ylim(0, top)
    ax_right.set_xlim(0, top)
    ax_top.tick_params(labelbottom=False, labelsize=7)
    ax_right.tick_params(labelleft=False, labelsize=7)
    ax_top.set_ylabel("P_j", fontsize=9)
    ax_right.set_xlabel("P_i", fontsize=9)
    for a in (ax_top, ax_right):
        a.spines["top"].set_visible(False)
        a.spines["right"].set_visible(False)
    head = f"{title}\n" if title else ""
    ax_top.set_title(f"{head}I(Z; Z') = {mutual_information(P):.3f} nats", fontsize=10)
    return fig


def plot_joints(Ps: Mapping[str, object], ncols: int | None = None, **kwargs) -> Figure:
    """Several joint distributions next to each other, each drawn by :func:`plot_joint`.

    ``Ps``: ``{title: P}``, each P a k x k joint distribution; the titles go
    on the panels (above each I(Z; Z')). ``ncols`` panels per row (default:
    up to three in one row, four as 2 x 2, more in rows of three). Extra
    ``kwargs`` go to every :func:`plot_joint` call, e.g. ``vmax=`` for one
    colour scale or ``annotate=False``. The figure is at most
    :data:`MAX_WIDTH` inches wide. Returns the Figure.
    """
    if not Ps:
        raise ValueError("Ps is empty; pass {title: P} for at least one joint distribution")
    n = len(Ps)
    if ncols is None:
        ncols = n if n <= 3 else 2 if n == 4 else 3
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1; got {ncols}")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    width = min(3.8, MAX_WIDTH / ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(width * ncols, (width + 0.3) * nrows))
    for idx, ax in enumerate(axes.ravel()):
        if idx >= n:
            fig.delaxes(ax)
    for ax, (title, P) in zip(axes.ravel(), Ps.items()):
        plot_joint(P, ax=ax, title=str(title), **kwargs)
    fig.tight_layout()
    return fig
