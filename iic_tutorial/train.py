"""The training code's first home, kept so that code written against it still works.

Everything now lives in :mod:`iic_tutorial.training` (one module per concern);
``from iic_tutorial.train import IICTrainer, TrainConfig, evaluate, predict,
recalibrate_batchnorm`` keeps working and gives the same objects.
"""

from .training import *  # noqa: F401,F403
from .training import __all__  # noqa: F401
