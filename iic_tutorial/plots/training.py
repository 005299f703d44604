"""A training run (chapter 7): its history, the joint distributions as they form,
BatchNorm's pitfall.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import animation
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._style import MAX_WIDTH, TICK_SIZE, _as_joint, _new_ax
from .clusters import _confusion_size, plot_confusion
from .information import plot_joint

__all__ = ["plot_history", "plot_batchnorm_pitfall", "animate_matrices"]


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
