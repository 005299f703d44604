"""The state of a training run: the network, its optimizer, the step, the history and the clocks.

Everything a run has to carry from one step to the next, and nothing that only
drives it: a checkpoint (:mod:`.checkpoint`) writes and reads a :class:`TrainState`,
an evaluation (:class:`~iic_tutorial.training.evaluation.Evaluation`) reads one, and
:class:`~iic_tutorial.training.IICTrainer` holds one and advances it. So saving,
restoring and scoring a run need no trainer (nanoGPT's "a checkpoint is one dict",
typed).
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from ..model import create_model, export_subheads
from .config import TrainConfig

__all__ = ["TrainState", "new_history"]


def new_history() -> dict:
    """An empty history: per-step losses (``step``, ``loss``, ``loss_k``, ``loss_over``) and ``evals``."""
    return {"step": [], "loss": [], "loss_k": [], "loss_over": [], "evals": []}


@dataclasses.dataclass(eq=False)
class TrainState:
    """One run's state: what a checkpoint holds and an evaluation reads.

    ``config``: the settings this network trains with (a restart candidate's
    own seed included); ``model``, ``optimizer``: the network and its Adam,
    built in one ``tf.distribute`` strategy's scope; ``step``: a tf.Variable
    (int64), the steps done, saved with the weights so that a damaged folder
    that mixes two saves is detected; ``history``: per-step losses and one
    record per evaluation (``history["evals"]``); ``wall_time``: seconds spent
    training, summed over resumed runs; ``eval_time``: seconds spent evaluating
    and checkpointing (not in ``wall_time``).
    """

    config: TrainConfig
    model: keras.Model
    optimizer: keras.optimizers.Optimizer
    step: tf.Variable
    history: dict = dataclasses.field(default_factory=new_history)
    wall_time: float = 0.0
    eval_time: float = 0.0

    @classmethod
    def create(cls, config: TrainConfig, model: keras.Model | None = None,
               strategy: tf.distribute.Strategy | None = None) -> "TrainState":
        """A fresh state for ``config``: its network (or ``model``), Adam with its schedule, step 0.

        Built in ``strategy``'s scope (default: one device); a model passed in
        must have been built in that scope too. The learning-rate drop
        (``lr_drop_step``) is counted by the optimizer's own step counter, so a
        resumed run keeps it.
        """
        c = config
        strategy = strategy or tf.distribute.get_strategy()
        with strategy.scope():
            model = model or create_model(c.k, c.k_over, seed=c.seed, num_subheads=c.num_subheads,
                                          fused_batchnorm=c.fused_batchnorm,
                                          synchronized_batchnorm=c.synchronized_batchnorm,
                                          pooling=c.pooling)
            lr = c.lr
            if c.lr_drop_step:
                lr = keras.optimizers.schedules.PiecewiseConstantDecay([c.lr_drop_step], [c.lr, c.lr / 10])
            optimizer = keras.optimizers.Adam(learning_rate=lr)
            optimizer.build(model.trainable_variables)
            step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        return cls(config, model, optimizer, step)

    @property
    def steps_done(self) -> int:
        """The steps trained so far, as a Python int."""
        return int(self.step.numpy())

    def best_subheads(self, window: int = 50) -> tuple[int, int]:
        """(i, j): the k and k_over sub-heads with the lowest mean loss over the last ``window`` steps.

        Chosen without labels, from ``history["subhead_losses"]``. With one
        sub-head per head this is (0, 0).
        """
        h = self.config.num_subheads
        recent = self.history.get("subhead_losses", [])[-window:]
        if h == 1 or not recent:
            return 0, 0
        mean = np.mean(recent, axis=0)
        return int(np.argmin(mean[:h])), int(np.argmin(mean[h:]))

    def export_model(self) -> keras.Model:
        """The trained network as a two-output create_model() (best sub-heads, copied weights)."""
        if self.config.num_subheads == 1:
            return self.model
        return export_subheads(self.model, *self.best_subheads())
