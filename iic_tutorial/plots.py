"""Every figure and animation the book shows.

Each function draws with matplotlib and returns the ``Figure`` (never calls
``plt.show()``); functions that draw a single panel take an optional ``ax`` so
figures can be combined. Joint distributions follow the paper: ``P[i, j]``
estimates Pr(Z = i, Z' = j), rows are ``Z`` (the image), columns ``Z'`` (its
augmented view), ``P_i = P.sum(axis=1)`` and ``P_j = P.sum(axis=0)``.
Entropies and mutual information are in nats and come from
:mod:`iic_tutorial.information`, so a number in a title is the number the
text computes.

TensorFlow is imported only by the functions that need it
(:func:`plot_augmentations`), so ``import iic_tutorial.plots`` is quick.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import animation
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .data import as_images
from .information import entropy, mutual_information

__all__ = [
    "plot_distribution",
    "plot_joint",
    "plot_joints",
    "plot_confusion",
    "image_grid",
    "plot_augmentations",
    "plot_history",
    "plot_batchnorm_pitfall",
    "plot_runs",
    "plot_bars",
    "plot_seeds",
    "plot_pipeline",
    "animate_matrices",
    "cluster_gallery",
    "plot_alpha_sweep",
    "figure_to_png",
    "png_titles",
    "side_by_side",
]

#: Default colour map for probabilities (light = small, dark = large).
CMAP = "Blues"
#: Tick label size used throughout.
TICK_SIZE = 9
#: Widest figure (inches, at 100 dpi) that the composite figures draw: the book's text
#: column is about 7 inches (700 px) wide, and a wider figure is shrunk to fit, labels
#: and all.
MAX_WIDTH = 8.0


# ----------------------------------------------------------------- helpers


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


# ----------------------------------------------------------------- distributions


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


# ----------------------------------------------------------------- images


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


def plot_augmentations(x, configs: Mapping[str, object], seed: int = 0, n: int = 8) -> Figure:
    """Rows = augmentation settings, columns = the same n digits; the original row first.

    ``x``: digits as (m, 28, 28) or (m, 28, 28, 1), uint8 or float in
    [0, 1]; the first ``n`` are shown. ``configs``: ``{row name:
    AugmentConfig}``, each applied with
    ``iic_tutorial.augment.compose(x, config, seed)`` (so every row of one
    call uses the same seed). Returns the Figure with (1 + len(configs)) * n axes.
    """
    from .augment import compose

    images = _as_images(x)[:n]
    if len(images) == 0:
        raise ValueError("x is empty; pass at least one digit")
    if not configs:
        raise ValueError("configs is empty; pass e.g. {'article': AugmentConfig.article()}")
    batch = images[..., None].astype(np.float32)
    rows = [images] + [np.asarray(compose(batch, cfg, seed))[..., 0] for cfg in configs.values()]
    return image_grid(np.concatenate(rows), ncols=len(images),
                      row_labels=["original", *[str(name) for name in configs]])


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


# ----------------------------------------------------------------- training


def _moving_average(y: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(y) < window:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    out = (c[window:] - c[:-window]) / window
    return np.concatenate([np.full(window - 1, np.nan), out])


def plot_history(history: Mapping, ax: Axes | None = None, smooth: int | None = None) -> Figure:
    """Loss of the 10-cluster head and the over-clustering head vs step, and test accuracy.

    ``history``: :attr:`iic_tutorial.training.IICTrainer.history` (or a saved
    state with a ``"history"`` key): per-step lists ``step``, ``loss_k``,
    ``loss_over`` and ``evals`` records. Losses are drawn faint and as a
    moving average over ``smooth`` steps (default: 1 % of the run). When the
    evals hold ``acc`` the accuracy (and ``acc_over``, many-to-one) is drawn
    against step: in a second panel when ``ax`` is None, otherwise on a twin
    y axis of ``ax``. Returns the Figure.
    """
    if "history" in history and "step" not in history:
        history = history["history"]
    missing = [key for key in ("step", "loss_k", "loss_over") if key not in history]
    if missing:
        raise ValueError(
            f"history lacks {missing}; pass trainer.history (keys step, loss_k, loss_over, evals)"
        )
    steps = np.asarray(history["step"], dtype=np.float64)
    evals = [e for e in history.get("evals", []) if "acc" in e]
    if ax is None:
        ncols = 2 if evals else 1
        fig, axes = plt.subplots(1, ncols, figsize=(5.2 if ncols == 1 else MAX_WIDTH, 3.4),
                                 squeeze=False)
        ax_loss, ax_acc = axes[0, 0], (axes[0, 1] if evals else None)
    else:
        fig, ax_loss = ax.figure, ax
        ax_acc = ax.twinx() if evals else None
    window = smooth if smooth is not None else max(1, len(steps) // 100)
    curves = (("loss_k", "C0", "10-cluster head"), ("loss_over", "C1", "over-clustering head"))
    for key, color, label in curves:
        y = np.asarray(history[key], dtype=np.float64)
        if window > 1:
            ax_loss.plot(steps, y, color=color, alpha=0.25, lw=0.8)
        ax_loss.plot(steps, _moving_average(y, window), color=color, lw=1.5, label=label)
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("IIC loss (nats)")
    ax_loss.tick_params(labelsize=TICK_SIZE)
    ax_loss.legend(fontsize=8, loc="upper right")
    ax_loss.set_label("loss")
    if ax_acc is not None:
        e_steps = [e["step"] for e in evals]
        ax_acc.plot(e_steps, [100 * e["acc"] for e in evals], "o-", color="C2", ms=3,
                    label="accuracy (10-cluster head)")
        if all("acc_over" in e for e in evals):
            ax_acc.plot(e_steps, [100 * e["acc_over"] for e in evals], "s--", color="C3", ms=3,
                        label="accuracy (over-clustering, many-to-one)")
        ax_acc.set_ylabel("test accuracy (%)")
        ax_acc.set_ylim(0, 100)
        ax_acc.set_xlabel("step")
        ax_acc.tick_params(labelsize=TICK_SIZE)
        ax_acc.legend(fontsize=8, loc="lower right")
        ax_acc.set_label("accuracy")
    fig.tight_layout()
    return fig


def animate_matrices(
    matrices: Sequence,
    titles: Sequence[str] | None = None,
    path: str | Path | None = None,
    kind: str = "joint",
    fps: float = 2,
    figsize: tuple[float, float] | None = None,
    dpi: int = 80,
    **kwargs,
):
    """Animate a sequence of matrices (e.g. P or the confusion matrix per epoch).

    ``matrices``: T arrays (or nested lists, as in ``history["evals"]``);
    ``kind="joint"`` draws each with :func:`plot_joint` (same colour scale
    for all frames), ``kind="confusion"`` with :func:`plot_confusion`; extra
    ``kwargs`` go to that function. ``titles``: one per frame (e.g. "epoch 3").
    With ``path`` the animation is written as a GIF (matplotlib's
    PillowWriter, ``fps`` frames per second) and the path is returned;
    otherwise the ``FuncAnimation`` (show it with
    ``IPython.display.HTML(anim.to_jshtml())``). Either way the figure is
    closed, so a notebook does not also show a static copy. Note that GIF
    writers merge frames that are pixel-identical.
    """
    if kind not in ("joint", "confusion"):
        raise ValueError(f"kind must be 'joint' or 'confusion'; got {kind!r}")
    mats = [np.asarray(m, dtype=np.float64) for m in matrices]
    if not mats:
        raise ValueError("matrices is empty; pass at least one matrix")
    if titles is not None and len(titles) != len(mats):
        raise ValueError(f"titles needs one string per matrix ({len(mats)}); got {len(titles)}")
    if fps <= 0:
        raise ValueError(f"fps must be > 0; got {fps}")
    if kind == "joint":
        kwargs.setdefault("vmax", max(float(_as_joint(m).max()) for m in mats))
        size = figsize or (4.6, 4.8)
    else:
        k = mats[0].shape[1]
        size = figsize or _confusion_size(mats[0].shape[0], k)
    fig = plt.figure(figsize=size, dpi=dpi)

    def draw(t: int):
        fig.clear()
        ax = fig.add_subplot(1, 1, 1)
        title = titles[t] if titles is not None else None
        if kind == "joint":
            plot_joint(mats[t], ax=ax, title=title, **kwargs)
        else:
            plot_confusion(mats[t], ax=ax, title=title, **kwargs)
        return []

    anim = animation.FuncAnimation(fig, draw, frames=len(mats), interval=1000 / fps,
                                   repeat=True, blit=False)
    plt.close(fig)
    if path is None:
        return anim
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    anim.save(path, writer=animation.PillowWriter(fps=fps), dpi=dpi)
    return path


# ----------------------------------------------------------------- experiments


def plot_alpha_sweep(
    alphas: Sequence[float],
    values: Sequence[Sequence[float]],
    ax: Axes | None = None,
    ylabel: str = "accuracy",
    label: str | None = None,
    color: str | None = None,
    show_points: bool = True,
) -> Figure:
    """A metric vs alpha as mean +- standard deviation over seeds.

    ``values[a]`` holds the metric of every seed run with ``alphas[a]``
    (lists may differ in length; a single number is one seed). The error
    bars are the sample standard deviation (ddof = 1; 0 for one seed), the
    single seeds are drawn as faint dots. Call it again with the same ``ax``
    and another ``label`` to compare curves. Returns the Figure.
    """
    alphas = np.asarray(alphas, dtype=np.float64)
    if alphas.ndim != 1 or len(alphas) != len(values):
        raise ValueError(
            f"alphas and values must have the same length (one list of seeds per alpha); "
            f"got {alphas.shape} and {len(values)}"
        )
    groups = [np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in values]
    if any(g.size == 0 for g in groups):
        raise ValueError("every alpha needs at least one value")
    mean = np.array([g.mean() for g in groups])
    std = np.array([g.std(ddof=1) if g.size > 1 else 0.0 for g in groups])
    fig, ax = _new_ax(ax, (4.5, 3.2))
    line = ax.errorbar(alphas, mean, yerr=std, fmt="o-", capsize=3, label=label, color=color)
    if show_points:
        c = line[0].get_color()
        for a, g in zip(alphas, groups):
            ax.scatter(np.full(g.size, a), g, s=10, color=c, alpha=0.35, linewidths=0)
    ax.set_xlabel("alpha")
    ax.set_ylabel(ylabel)
    ax.tick_params(labelsize=TICK_SIZE)
    if label is not None:
        ax.legend(fontsize=8)
    return fig


# ----------------------------------------------------------------- composition


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


def plot_batchnorm_pitfall(history: Mapping, ax: Axes | None = None) -> Figure:
    """Test accuracy with stale vs recalibrated BatchNorm statistics over training.

    ``history``: a trainer history whose ``evals`` hold ``acc`` (after
    :func:`iic_tutorial.training.recalibrate_batchnorm`) and ``acc_raw_bn``
    (``training=False`` with the moving averages as training left them).
    Returns the Figure.
    """
    evals = [e for e in history.get("evals", []) if "acc" in e and "acc_raw_bn" in e]
    if not evals:
        raise ValueError("history has no evaluations with both acc and acc_raw_bn; "
                         "train with fit(..., track_raw_bn=True) and labels for monitoring")
    fig, ax = _new_ax(ax, (6.0, 3.4))
    steps = [e["step"] for e in evals]
    ax.plot(steps, [100 * e["acc_raw_bn"] for e in evals], marker=".", color="C3",
            label="moving averages as training left them")
    ax.plot(steps, [100 * e["acc"] for e in evals], marker=".", color="C0",
            label="statistics recalibrated on training images")
    ax.axhline(100 * 1135 / 10000, color="0.5", ls=":", lw=1, label="one cluster for everything")
    ax.set_xlabel("training step", fontsize=TICK_SIZE + 1)
    ax.set_ylabel("test accuracy (%)", fontsize=TICK_SIZE + 1)
    ax.set_ylim(0, 100)
    ax.tick_params(labelsize=TICK_SIZE)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=TICK_SIZE - 1, loc="lower right")
    ax.set_title("BatchNorm in inference mode", fontsize=TICK_SIZE + 2)
    fig.tight_layout()
    return fig


def plot_runs(
    runs: Sequence[Mapping],
    labels: Sequence[str] | None = None,
    y: str = "acc",
    x: str = "minutes",
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Curves of several training runs (``iic_tutorial.pretrained.experiment_results()`` items).

    Each run's ``curve`` holds one record per evaluation; ``y`` is the record
    key to draw (``"acc"`` and ``"acc_over"`` are shown in %, others as they
    are, e.g. ``"loss_k"`` or ``"mi"`` in nats) against training ``x``:
    ``"minutes"`` of wall time, ``"step"`` or ``"epoch"``. Returns the Figure.
    """
    if x not in ("minutes", "step", "epoch"):
        raise ValueError(f"x must be 'minutes', 'step' or 'epoch'; got {x!r}")
    fig, ax = _new_ax(ax, (6.0, 3.6))
    labels = list(labels) if labels is not None else [r.get("name", str(i)) for i, r in enumerate(runs)]
    if len(labels) != len(runs):
        raise ValueError(f"got {len(labels)} labels for {len(runs)} runs")
    scale = 100.0 if y in ("acc", "acc_over", "acc_raw_bn") else 1.0
    for i, (run, label) in enumerate(zip(runs, labels)):
        curve = [p for p in run["curve"] if p.get(y) is not None]
        xs = [p["wall_time"] / 60 if x == "minutes" else p[x] for p in curve]
        ax.plot(xs, [scale * p[y] for p in curve], marker=".", color=f"C{i % 10}", label=label)
    xlabels = {"minutes": "training time (min)", "step": "training step", "epoch": "epoch"}
    ax.set_xlabel(xlabels[x], fontsize=TICK_SIZE + 1)
    names = {"acc": "test accuracy (%)", "acc_over": "over-clusters, many-to-one (%)",
             "mi": "I(Z; Z') (nats)",
             "loss_k": "loss of the 10-cluster head (nats)",
             "mi_over": "I(Z; Z') of the 50-cluster head (nats)", "H": "H(Z) (nats)",
             "H_over": "H(Z) of the 50-cluster head (nats)"}
    ax.set_ylabel(names.get(y, y), fontsize=TICK_SIZE + 1)
    if scale == 100.0:
        ax.set_ylim(0, 100)
    ax.tick_params(labelsize=TICK_SIZE)
    ax.grid(alpha=0.3)
    if runs:
        ax.legend(fontsize=TICK_SIZE - 1, loc="best")
    if title:
        ax.set_title(title, fontsize=TICK_SIZE + 2)
    fig.tight_layout()
    return fig


def plot_bars(
    values: Mapping[str, float | Sequence[float]],
    ylabel: str = "test accuracy (%)",
    ax: Axes | None = None,
    title: str | None = None,
    percent: bool = True,
    bottom: float | str | None = "auto",
) -> Figure:
    """A bar per setting, with its value written on top (mean ± std when given several).

    ``values``: {label: value or list of values (e.g. one per seed)}; with
    ``percent`` values in [0, 1] are shown in %. ``bottom`` is where the value
    axis starts: a number, ``None`` for 0, or ``"auto"``: 0, unless every bar
    and its error bar lie above 50 % and within 20 points of each other (say
    accuracies around 97 % that differ by tenths). Then the axis starts at a
    whole number just below the lowest bar, so the differences can be seen,
    and the cut is said twice: the y label ends "axis starts at N %", and a
    break mark (two slashes) sits at the foot of the axis. Returns the Figure.
    """
    if bottom != "auto" and bottom is not None and not isinstance(bottom, (int, float)):
        raise ValueError(f"bottom must be 'auto', None or a number; got {bottom!r}")
    fig, ax = _new_ax(ax, (max(4.0, 1.0 * len(values) + 1.5), 3.4))
    scale = 100.0 if percent else 1.0
    bars = []
    for label, v in values.items():
        v = scale * np.atleast_1d(np.asarray(v, dtype=np.float64))
        bars.append((v.mean(), v.std(ddof=1) if len(v) > 1 else None))
    lows = [mean - (err or 0) for mean, err in bars]
    highs = [mean + (err or 0) for mean, err in bars]
    if bottom == "auto":
        lo, hi = (min(lows), max(highs)) if bars else (0.0, 0.0)
        zoom = percent and bars and lo > 50 and hi - lo < 20
        bottom = float(math.floor(lo - max(0.5, 0.3 * (hi - lo)))) if zoom else 0.0
    bottom = 0.0 if bottom is None else float(bottom)
    if percent and bottom == 0:
        top = 105.0
    else:
        top = max(highs, default=1.0) + 0.2 * (max(highs, default=1.0) - bottom)
    step = 0.015 * (top - bottom)
    for i, (mean, err) in enumerate(bars):
        ax.bar(i, mean - bottom, bottom=bottom, yerr=err, color=f"C{i % 10}", alpha=0.8,
               capsize=4)
        text = f"{mean:.1f}" if err is None else f"{mean:.1f}±{err:.1f}"
        ax.text(i, mean + (err or 0) + step, text, ha="center", fontsize=TICK_SIZE)
    ax.set_xticks(range(len(values)), list(values), fontsize=TICK_SIZE, rotation=20, ha="right")
    ax.set_ylim(bottom, top)
    if bottom != 0:
        unit = " %" if percent else ""
        ylabel = f"{ylabel}\naxis starts at {bottom:g}{unit}"
        d = 0.02  # the break mark: two short slashes across the foot of the y axis
        for y in (0.015, 0.045):
            ax.plot([-d, d], [y - d, y + d], transform=ax.transAxes, color="k", lw=1,
                    clip_on=False)
    return _finish_value_axis(fig, ax, ylabel, title)


def _finish_value_axis(fig: Figure, ax: Axes, ylabel: str, title: str | None) -> Figure:
    """The y label, ticks, horizontal grid and title of a chart of values per setting."""
    ax.set_ylabel(ylabel, fontsize=TICK_SIZE + 1)
    ax.tick_params(labelsize=TICK_SIZE)
    ax.grid(alpha=0.3, axis="y")
    if title:
        ax.set_title(title, fontsize=TICK_SIZE + 2)
    fig.tight_layout()
    return fig


def plot_seeds(
    values: Mapping[str, Sequence[float]],
    ylabel: str = "test accuracy (%)",
    ax: Axes | None = None,
    title: str | None = None,
    percent: bool = True,
) -> Figure:
    """One column per setting, one dot per seed and a bar at their mean.

    ``values``: {label: one value per seed}; with ``percent`` values in [0, 1]
    are shown in %. Unlike :func:`plot_bars` it hides no seed behind a mean ±
    std: a run that got stuck shows as the dot far below the others. The axis
    spans the dots (never past 100 %). Returns the Figure.
    """
    fig, ax = _new_ax(ax, (max(4.0, 0.9 * len(values) + 1.8), 3.4))
    scale = 100.0 if percent else 1.0
    every = []
    for i, (label, v) in enumerate(values.items()):
        v = scale * np.atleast_1d(np.asarray(v, dtype=np.float64))
        every.extend(v)
        jitter = np.linspace(-0.12, 0.12, len(v)) if len(v) > 1 else np.zeros(1)
        ax.scatter(i + jitter, v, s=28, color=f"C{i % 10}", zorder=3)
        ax.hlines(v.mean(), i - 0.28, i + 0.28, color=f"C{i % 10}", lw=2, zorder=2)
    ax.set_xticks(range(len(values)), list(values), fontsize=TICK_SIZE, rotation=20, ha="right")
    if every:
        lo, hi = min(every), max(every)
        pad = max(0.2, 0.08 * (hi - lo))
        ax.set_ylim(lo - pad, min(hi + pad, 100.0 + pad / 4) if percent else hi + pad)
    return _finish_value_axis(fig, ax, ylabel, title)


def plot_pipeline(ax: Axes | None = None) -> Figure:
    """The IIC pipeline: x -> Phi -> z and x' -> Phi -> z', their joint P, and I(Z; Z').

    One network Phi (the same weights) maps an image x and a transformed copy x'
    of it to cluster probabilities z and z'; the batch mean of z z'^T is the
    joint distribution P, and the loss is -I(Z; Z') computed from P. The book's
    introduction shows it (``book/images/pipeline.svg``). Returns the Figure.
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    fig, ax = _new_ax(ax, (7.6, 2.6))
    ax.set_xlim(0, 10.6)
    ax.set_ylim(0, 3.4)
    ax.axis("off")

    def box(x, y, text, colour, w=1.5, h=0.75):
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05",
                                    facecolor=colour, edgecolor="0.3"))
        ax.text(x, y, text, ha="center", va="center", fontsize=TICK_SIZE + 2)

    def arrow(a, b, text=None):
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=14, color="0.3"))
        if text:  # beside a vertical arrow
            ax.text(a[0] + 0.1, (a[1] + b[1]) / 2, text, ha="left", va="center",
                    fontsize=TICK_SIZE)

    top, bottom, mid = 2.6, 0.8, 1.7
    box(0.8, top, "image $x$", "#e8eef7")
    box(0.8, bottom, "view $x'$", "#e8eef7")
    arrow((0.8, top - 0.4), (0.8, bottom + 0.4), "transform")
    for y, z in ((top, "$z$"), (bottom, "$z'$")):
        box(3.2, y, r"network $\Phi$", "#fdf0d5")
        arrow((1.6, y), (2.4, y))
        box(5.5, y, z + ": k probabilities", "#e3f1e3", w=2.2)
        arrow((4.0, y), (4.4, y))
    ax.text(3.2, mid, "same weights", ha="center", va="center", fontsize=TICK_SIZE,
            style="italic", color="0.35")
    box(7.9, mid, "$P$ = mean of $z\\,z'^{\\top}$\n(k × k joint)", "#efe3f3", w=2.1, h=1.0)
    arrow((6.6, top), (7.3, mid + 0.5))
    arrow((6.6, bottom), (7.3, mid - 0.5))
    box(9.9, mid, "$I(Z; Z')$", "#f7e1e1", w=1.1)
    arrow((8.85, mid), (9.35, mid))
    ax.text(9.9, mid - 0.75, "maximise", ha="center", fontsize=TICK_SIZE, color="0.35")
    fig.tight_layout()
    return fig
