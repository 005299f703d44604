"""Training IIC: the recipes, the train step, the loop, evaluation and checkpoints.

One module per concern:

- ``config``: :class:`TrainConfig` (every setting, one field each; the named
  recipes ``article()`` and ``fast()``; the command line is generated from it)
- ``step``: :class:`IICStep`, the train step, on one device or a strategy's replicas
- ``state``: :class:`TrainState`, what a run carries from step to step (network,
  optimizer, step, history, clocks): what checkpoints save and evaluations read
- ``loop``: :class:`IICTrainer` (it holds a ``TrainState``) and its ``fit``
- ``evaluation``: ``predict``, ``recalibrate_batchnorm``, ``evaluate`` and the
  evaluation ``fit`` runs
- ``checkpoint``: ``save`` / ``restore`` of a ``TrainState`` in a training folder
- ``restarts``: seed restarts (``TrainConfig.restarts``): the candidates' seeds,
  their training and the choice by the lowest loss, which ``IICTrainer.fit`` runs

Everything a reader needs is importable from here::

    from iic_tutorial.training import IICTrainer, TrainConfig, evaluate
"""

from .checkpoint import FolderLock, exists, restore, save
from .config import PRECISIONS, RECIPE_STEPS, RECIPES, TrainConfig
from .evaluation import Evaluation, evaluate, predict, recalibrate_batchnorm
from .loop import Callback, IICTrainer
from .state import TrainState
from .step import IICStep, StepResult, head_losses, make_views, resolve_precision

__all__ = [
    "TrainConfig", "TrainState", "PRECISIONS", "RECIPES", "RECIPE_STEPS", "IICTrainer", "Callback",
    "IICStep", "StepResult",
    "make_views", "head_losses", "resolve_precision", "predict", "recalibrate_batchnorm",
    "evaluate", "Evaluation", "save", "restore", "exists", "FolderLock",
]
