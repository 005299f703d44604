"""The figures of the segmentation chapter: scenes, joints per displacement, maps, curves."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from ..information import mutual_information
from ..runs import mean_std

__all__ = ["plot_scenes", "plot_images", "plot_mi_window", "plot_maps", "plot_curves", "mi_per_displacement",
           "matched", "results_dir", "load_results", "results_table", "DIGIT_CMAP"]

#: Background black, the ten digits in ten colours (for the 11-class truth and head).
DIGIT_CMAP = ListedColormap(["black"] + [plt.get_cmap("tab10")(i) for i in range(10)])
_STROKE_CMAP = ListedColormap(["black", "white"])


def _image(ax, img, title: str = "", **kw) -> None:
    ax.imshow(img, **kw)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_scenes(scenes, n: int = 6) -> Figure:
    """``n`` scenes (top), their stroke truth (middle) and their digit truth (bottom)."""
    fig, axes = plt.subplots(3, n, figsize=(1.3 * n, 4.1), squeeze=False)
    for i in range(n):
        _image(axes[0, i], scenes.x[i, ..., 0], "scene" if i == 0 else "", cmap="gray",
               vmin=0, vmax=1)
        _image(axes[1, i], scenes.stroke[i], "stroke truth" if i == 0 else "",
               cmap=_STROKE_CMAP, vmin=0, vmax=1)
        _image(axes[2, i], scenes.digit[i], "digit truth" if i == 0 else "", cmap=DIGIT_CMAP,
               vmin=0, vmax=10, interpolation="nearest")
    fig.tight_layout()
    return fig


def plot_images(panels: dict) -> Figure:
    """One row of grey images in [0, 1], ``{title: (H, W) array}``."""
    fig, axes = plt.subplots(1, len(panels), figsize=(1.6 * len(panels), 1.9), squeeze=False)
    for ax, (title, img) in zip(axes[0], panels.items()):
        _image(ax, np.asarray(img), title, cmap="gray", vmin=0, vmax=1)
    fig.tight_layout()
    return fig


def mi_per_displacement(P: np.ndarray) -> np.ndarray:
    """I(Z; Z') (nats) of each joint P (2T+1, 2T+1, k, k) -> (2T+1, 2T+1)."""
    P = np.asarray(P, dtype=np.float64)
    return np.array([[mutual_information(P[u, v] / P[u, v].sum()) for v in range(P.shape[1])]
                     for u in range(P.shape[0])])


def plot_mi_window(P: np.ndarray, T_max: int | None = None, title: str = "",
                   vmax: float | None = None) -> Figure:
    """Heatmap of I(Z; Z') per displacement t = (u - T, v - T) of joints P (2T+1, 2T+1, k, k).

    With ``T_max`` larger than P's T the window is drawn inside the larger grid
    (grey outside), so frames for several T share one frame of reference.
    """
    mi = mi_per_displacement(P)
    T = (len(mi) - 1) // 2
    T_max = T if T_max is None else T_max
    grid = np.full((2 * T_max + 1, 2 * T_max + 1), np.nan)
    grid[T_max - T:T_max + T + 1, T_max - T:T_max + T + 1] = mi
    fig, ax = plt.subplots(figsize=(3.6, 3.2))
    image = ax.imshow(grid, cmap="viridis", vmin=0, vmax=vmax or np.nanmax(grid),
                      extent=(-T_max - 0.5, T_max + 0.5, T_max + 0.5, -T_max - 0.5))
    ax.set_facecolor("0.85")
    ax.set_xlabel("displacement t, x (pixels)")
    ax.set_ylabel("displacement t, y (pixels)")
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, label="I(Z; Z') of P_t (nats)")
    fig.tight_layout()
    return fig


def matched(clusters: np.ndarray, mapping: dict) -> np.ndarray:
    """Cluster ids turned into the classes they were matched to (-1: unmatched)."""
    clusters = np.asarray(clusters)
    lookup = np.full(max([int(clusters.max()) + 1] + [int(j) + 1 for j in mapping]), -1)
    for j, c in mapping.items():
        lookup[int(j)] = c
    return lookup[clusters]


def plot_maps(scenes, rows: dict, n: int = 6, digits: bool = False) -> Figure:
    """The scenes, then one row per entry of ``rows`` ({label: (n, H, W) class maps}).

    Maps hold matched classes (:func:`matched`): 0/1 for strokes, 0-10 with
    ``digits=True``; -1 (unmatched) is drawn grey.
    """
    fig, axes = plt.subplots(1 + len(rows), n, figsize=(1.3 * n, 1.35 * (1 + len(rows))),
                             squeeze=False)
    cmap = DIGIT_CMAP if digits else _STROKE_CMAP
    cmap = cmap.with_extremes(under="0.5")
    for i in range(n):
        _image(axes[0, i], scenes.x[i, ..., 0], "scene" if i == 0 else "", cmap="gray",
               vmin=0, vmax=1)
        for r, (label, maps) in enumerate(rows.items(), start=1):
            _image(axes[r, i], maps[i], label if i == 0 else "", cmap=cmap, vmin=0,
                   vmax=10 if digits else 1, interpolation="nearest")
    fig.tight_layout()
    return fig


def results_dir() -> Path:
    """The segmentation runs' results, shipped inside the package (so Colab's install has them)."""
    return Path(__file__).resolve().parent / "results"


def load_results(folder: str | Path | None = None) -> tuple[list[dict], dict]:
    """(the runs' result.json files ``seg_s*.json``, sorted by seed; ``baselines.json``)."""
    folder = Path(folder) if folder is not None else results_dir()
    runs = [json.loads(p.read_text()) for p in sorted(folder.glob("seg_s*.json"))]
    if not runs:
        raise FileNotFoundError(f"no seg_s*.json in {folder}: train the runs with python "
                                "benchmarks/run.py seg --pin 0, then copy their results here "
                                "with python benchmarks/run.py seg --publish")
    baselines = json.loads((folder / "baselines.json").read_text())
    return sorted(runs, key=lambda r: r["config"]["seed"]), baselines


def results_table(runs: list[dict], baselines: dict) -> str:
    """Markdown: pixel accuracy and mIoU (mean ± std over seeds) of IIC and each baseline."""
    rows = ["| segmentation (2 classes: background, stroke) | seeds | pixel accuracy | mIoU |",
            "|---|---|---|---|"]
    for m in baselines["methods"]:
        rs = m["runs"]
        rows.append(f"| {m['name']} | {len(rs) if rs[0]['seed'] is not None else '—'} | "
                    f"{mean_std([r['pixel_accuracy'] for r in rs], 1)} | "
                    f"{mean_std([r['miou'] for r in rs], 1)} |")
    rows.append(f"| IIC, k = 2, {runs[0]['steps']} steps | {len(runs)} | "
                f"{mean_std([r['pixel_accuracy'] for r in runs], 1)} | "
                f"{mean_std([r['miou'] for r in runs], 1)} |")
    return "\n".join(rows)


def plot_curves(runs: list[dict], baselines: dict | None = None, key: str = "miou") -> Figure:
    """``key`` (miou or pixel_accuracy, %) against the step for each run, baselines dashed."""
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for r in runs:
        curve = r["curve"]
        ax.plot([p["step"] for p in curve], [100 * p[key] for p in curve], marker="o", ms=3,
                label=f"IIC, seed {r['config']['seed']}")
    for m, style in zip((baselines or {}).get("methods", []), (":", "--", "-.", (0, (1, 3)))):
        value = 100 * np.mean([x[key] for x in m["runs"]])
        ax.axhline(value, color="0.4", ls=style, lw=1, label=m["name"])
    ax.set_xlabel("step")
    ax.set_ylabel(f"{'mIoU' if key == 'miou' else 'pixel accuracy'} (%)")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
