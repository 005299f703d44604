"""Many runs side by side (chapters 9, 11 and the introduction): sweeps, curves, bars, a
dot per seed, the pipeline.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..metrics import CurveKey, curve_keys
from ._style import TICK_SIZE, _new_ax

__all__ = ["plot_runs", "plot_bars", "plot_seeds", "plot_pipeline", "plot_alpha_sweep"]


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


def _curve_key(key: str) -> CurveKey:
    """What curve key ``key`` is (:func:`~iic_tutorial.metrics.curve_keys`); ValueError if none."""
    keys = curve_keys()
    if key not in keys:
        raise ValueError(f"{key!r} is not a key of a training curve; choose one of {tuple(keys)}")
    return keys[key]


def plot_runs(
    runs: Sequence[Mapping],
    labels: Sequence[str] | None = None,
    y: str | Sequence[str] = "acc",
    x: str = "minutes",
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Curves of several training runs (``iic_tutorial.pretrained.experiment_results()`` items).

    Each run's ``curve`` holds one record per evaluation; ``y`` is the record
    key to draw, a key of :func:`~iic_tutorial.metrics.curve_keys`, which names it on
    the axis (accuracies in %, others as they are, e.g. ``"loss_k"`` or ``"mi"`` in
    nats), against training ``x``: ``"minutes"`` of wall time, ``"step"`` or
    ``"epoch"``. Several keys of one kind (``y=("acc", "acc_over")``: both
    heads) draw a line each per run. Returns the Figure.
    """
    if x not in ("minutes", "step", "epoch"):
        raise ValueError(f"x must be 'minutes', 'step' or 'epoch'; got {x!r}")
    keys = (y,) if isinstance(y, str) else tuple(y)
    if not keys or len({_curve_key(k).percent for k in keys}) > 1:
        raise ValueError(f"y must be one curve key or several of one kind (all accuracies, or "
                         f"none); got {y!r}")
    fig, ax = _new_ax(ax, (6.0, 3.6))
    labels = list(labels) if labels is not None else [r.get("name", str(i)) for i, r in enumerate(runs)]
    if len(labels) != len(runs):
        raise ValueError(f"got {len(labels)} labels for {len(runs)} runs")
    scale = 100.0 if _curve_key(keys[0]).percent else 1.0
    for i, (run, label) in enumerate(zip(runs, labels)):
        for j, key in enumerate(keys):
            curve = [p for p in run["curve"] if p.get(key) is not None]
            xs = [p["wall_time"] / 60 if x == "minutes" else p[x] for p in curve]
            name = label if len(keys) == 1 else (
                _curve_key(key).axis if len(runs) == 1 else f"{label}: {_curve_key(key).axis}")
            ax.plot(xs, [scale * p[key] for p in curve], marker=".",
                    color=f"C{(i * len(keys) + j) % 10}", label=name)
    xlabels = {"minutes": "training time (min)", "step": "training step", "epoch": "epoch"}
    ax.set_xlabel(xlabels[x], fontsize=TICK_SIZE + 1)
    ax.set_ylabel(_curve_key(keys[0]).axis if len(keys) == 1 else ("accuracy (%)" if scale == 100.0
                                                              else "nats"),
                  fontsize=TICK_SIZE + 1)
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
