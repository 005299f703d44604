"""Every figure and animation the book shows, by topic.

Each function draws with matplotlib and returns the ``Figure`` (never calls
``plt.show()``); functions that draw a single panel take an optional ``ax`` so
figures can be combined. Joint distributions follow the paper: ``P[i, j]``
estimates Pr(Z = i, Z' = j), rows are ``Z`` (the image), columns ``Z'`` (its
augmented view), ``P_i = P.sum(axis=1)`` and ``P_j = P.sum(axis=0)``.
Entropies and mutual information are in nats and come from
:mod:`iic_tutorial.information`, so a number in a title is the number the
text computes.

The figures by chapter (every name is importable from here):

- chapters 1-4, :mod:`.information`: :func:`plot_distribution`, :func:`plot_joint`,
  :func:`plot_joints`;
- chapter 5, :mod:`.images`: :func:`image_grid`, :func:`plot_augmentations`;
- chapter 7, :mod:`.training`: :func:`plot_history`, :func:`animate_matrices`,
  :func:`plot_batchnorm_pitfall`;
- chapters 8, 10 and 13, :mod:`.clusters`: :func:`plot_confusion`, :func:`cluster_gallery`;
- chapters 9 and 11 and the introduction, :mod:`.experiments`: :func:`plot_alpha_sweep`,
  :func:`plot_runs`, :func:`plot_bars`, :func:`plot_seeds`, :func:`plot_pipeline`;
- pages without a kernel, :mod:`.static`: :func:`figure_to_png`, :func:`png_titles`,
  :func:`side_by_side`;
- the shared look, :mod:`._style`: :data:`CMAP`, :data:`TICK_SIZE`, :data:`MAX_WIDTH`.

TensorFlow is imported only by the functions that need it
(:func:`plot_augmentations`), so ``import iic_tutorial.plots`` is quick.
"""

from ._style import CMAP, MAX_WIDTH, TICK_SIZE
from ._style import _as_images as _as_images
from .clusters import cluster_gallery, plot_confusion
from .experiments import plot_alpha_sweep, plot_bars, plot_pipeline, plot_runs, plot_seeds
from .images import image_grid, plot_augmentations
from .information import plot_distribution, plot_joint, plot_joints
from .static import figure_to_png, png_titles, side_by_side
from .static import _shows as _shows
from .training import animate_matrices, plot_batchnorm_pitfall, plot_history

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
    "CMAP",
    "TICK_SIZE",
    "MAX_WIDTH",
]
