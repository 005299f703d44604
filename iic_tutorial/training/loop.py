"""The trainer: ``IICTrainer.fit``, the loop and its callbacks, top to bottom.

A training *step* takes ``batch_size`` pairs (z, z'): ``batch_size // copies``
images, each paired with ``copies`` independently augmented versions of itself
(the official IIC code uses 5 copies). An *epoch* is one pass over the
training images. Labels are never used to train; when given, they only
monitor accuracy.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from pathlib import Path
from typing import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from ..data import as_images
from ..model import create_model, export_subheads
from . import checkpoint
from .config import TrainConfig
from .evaluation import Evaluation
from .step import IICStep

__all__ = ["IICTrainer", "Callback"]

#: ``callback(trainer, record)``: called after each evaluation, before the checkpoint.
Callback = Callable[["IICTrainer", dict], None]


@contextlib.contextmanager
def _deferred_sigint():
    """Turn Ctrl-C (SIGINT) into a flag that ``fit`` checks between steps.

    Yields a list that becomes non-empty on SIGINT, so the running step ends,
    a checkpoint is written and ``fit`` returns, instead of a
    KeyboardInterrupt in the middle of a step. A second Ctrl-C interrupts at
    once. Outside the main thread (where signals cannot be caught) nothing
    changes.
    """
    import signal
    import threading

    flag: list = []
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        if flag:
            raise KeyboardInterrupt
        flag.append(signum)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


class IICTrainer:
    """Trains a :func:`create_model` network with the IIC loss.

    >>> trainer = IICTrainer(TrainConfig.fast(seed=1))
    >>> trainer.fit(x_train, num_steps=500, x_eval=x_test, y_eval=y_test)

    ``history`` holds per-step losses (``loss``, ``loss_k``, ``loss_over``)
    and one record per evaluation in ``history["evals"]``
    (:class:`~iic_tutorial.training.evaluation.Evaluation`: step, epoch, wall
    time, the joint P of the 10-cluster head of the last step and its mutual
    information ``mi`` in nats -- a label-free score comparable across alpha
    -- and accuracy/NMI/confusion when labels were given). ``save``/``restore``
    write and read a checkpoint folder; a restored trainer continues where it
    stopped.

    ``strategy``: any ``tf.distribute.Strategy`` (MirroredStrategy for the
    GPUs of one machine, MultiWorkerMirroredStrategy for several machines);
    the model and optimizer are built in its scope and each step splits the
    batch over its replicas, with the IIC loss of the global batch
    (:meth:`IICStep.distributed`). Default: one device.
    ``tests/test_distributed.py`` checks on logical CPU devices that the
    distributed step equals the single-device step.
    """

    def __init__(self, config: TrainConfig | None = None, model: keras.Model | None = None,
                 strategy: tf.distribute.Strategy | None = None):
        self.config = config or TrainConfig()
        c = self.config
        if c.restarts > 1:
            raise ValueError(
                f"IICTrainer trains one run, and restarts={c.restarts} asks for a choice among "
                f"{c.restarts} runs: use the command line (python -m iic_tutorial train --restarts "
                f"{c.restarts} ...), or train each of restarts.candidate_config(config, seed) for "
                f"seed in restarts.candidate_seeds(config) and pick with restarts.decide")
        self.strategy = strategy or tf.distribute.get_strategy()
        with self.strategy.scope():  # a model passed in must have been built in this scope too
            self.model = model or create_model(c.k, c.k_over, seed=c.seed, num_subheads=c.num_subheads,
                                               fused_batchnorm=c.fused_batchnorm,
                                               synchronized_batchnorm=c.synchronized_batchnorm,
                                               pooling=c.pooling)
            lr = c.lr
            if c.lr_drop_step:  # counted by the optimizer's own step counter, so resumes keep it
                lr = keras.optimizers.schedules.PiecewiseConstantDecay([c.lr_drop_step], [c.lr, c.lr / 10])
            self.optimizer = keras.optimizers.Adam(learning_rate=lr)
            self.optimizer.build(self.model.trainable_variables)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.step_fn = IICStep(c, self.model, self.optimizer, self.strategy)
        self.precision = self.step_fn.precision  # what "auto" means on this machine
        self.history: dict = {"step": [], "loss": [], "loss_k": [], "loss_over": [], "evals": []}
        self.interrupted = False  # whether the last fit stopped early on Ctrl-C (SIGINT)
        self.wall_time = 0.0  # seconds spent training in fit, summed over resumed runs
        self.eval_time = 0.0  # seconds spent evaluating and checkpointing in fit (not in wall_time)

    # ----------------------------------------------------------------- step
    def train_step(self, x: np.ndarray) -> dict:
        """One optimisation step on images x (images_per_step of them). Returns the losses and P.

        Raises FloatingPointError when the loss or any weight is no longer finite.
        """
        step = int(self.step.numpy())
        result = self.step_fn(x, step)
        self.step.assign_add(1)
        out = {"loss": float(result.loss), "loss_k": float(result.loss_k),
               "loss_over": float(result.loss_over)}
        if not bool(result.finite):
            raise FloatingPointError(self._diverged_message(out["loss"], step + 1))
        self.history["step"].append(int(self.step.numpy()))
        for key, value in out.items():
            self.history[key].append(value)
        if self.config.num_subheads > 1:
            self.history.setdefault("subhead_losses", []).append(
                np.round(result.losses.numpy(), 5).tolist())
        out["P"] = result.P.numpy()  # (num_subheads, k, k), float32 (float64 in bf16 mode)
        out["P_over"] = result.P_over.numpy()  # (num_subheads, k_over, k_over)
        return out

    def best_subheads(self, window: int = 50) -> tuple[int, int]:
        """(i, j): the k and k_over sub-heads with the lowest mean loss over the last steps.

        Chosen without labels. With one sub-head per head this is (0, 0).
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

    def _batch_indices(self, n: int, step: int) -> np.ndarray:
        """Images for a step: epoch e's permutation (seeded by (seed, e)), sliced by the step."""
        per = self.config.images_per_step
        epoch, i = divmod(step, self.steps_per_epoch(n))
        order = np.random.default_rng([self.config.seed, epoch]).permutation(n)
        return order[i * per:(i + 1) * per]

    def steps_per_epoch(self, n: int) -> int:
        """Steps in one pass over n images (:meth:`TrainConfig.steps_per_epoch`)."""
        return self.config.steps_per_epoch(n)

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        x: np.ndarray,
        num_epochs: float | None = None,
        num_steps: int | None = None,
        x_eval: np.ndarray | None = None,
        y_eval: np.ndarray | None = None,
        eval_every: int | None = None,
        recalibrate_on: int = 5000,
        track_raw_bn: bool = False,
        dev: tuple[np.ndarray, np.ndarray] | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        callbacks: Sequence[Callback] = (),
        progress: bool = True,
        verbose: bool = True,
    ) -> dict:
        """Train on unlabelled images x until ``num_steps`` (total) or ``num_epochs`` more.

        x: (n, 28, 28[, 1]) uint8 or float in [0, 1]. Every ``eval_every``
        steps (default: once per epoch) and at the end, an
        :class:`~iic_tutorial.training.evaluation.Evaluation` recalibrates
        BatchNorm on ``recalibrate_on`` training images and adds a record to
        ``history["evals"]`` -- with accuracy when ``y_eval`` is given (and,
        with ``track_raw_bn``, the accuracy before recalibration too; with
        ``dev = (x_dev, y_dev)``, the dev split's accuracy ``dev_acc``). Each
        callback is then called as ``callback(trainer, record)``; with
        ``checkpoint_dir`` the trainer is saved there (the folder is locked
        while fit runs). Ctrl-C ends the running step, saves and returns
        (``trainer.interrupted``). A trainer that already ran continues from
        its current step. Returns the history.
        """
        x = as_images(x)
        per_epoch = self.steps_per_epoch(len(x))
        start = int(self.step.numpy())
        if num_steps is None:
            if num_epochs is None:
                raise ValueError("give num_epochs or num_steps")
            num_steps = start + int(math.ceil(num_epochs * per_epoch))
        if num_steps < start:
            raise ValueError(f"num_steps ({num_steps}) is below the steps already done ({start})")
        eval_every = eval_every or per_epoch
        evaluation = Evaluation(x, per_epoch, None if x_eval is None else as_images(x_eval),
                                y_eval, recalibrate_on, track_raw_bn,
                                None if dev is None else (as_images(dev[0]), dev[1]))
        from tqdm.auto import tqdm

        lock = checkpoint.FolderLock(checkpoint_dir) if checkpoint_dir is not None else contextlib.nullcontext()
        with lock, _deferred_sigint() as interrupted:
            self.interrupted = False
            bar = tqdm(total=num_steps, initial=start, disable=not progress, unit="step",
                       dynamic_ncols=True, leave=True)
            t0 = time.perf_counter() - self.wall_time
            try:
                for step in range(start, num_steps):
                    last = self._guarded_step(x[self._batch_indices(len(x), step)], checkpoint_dir)
                    bar.update(1)
                    bar.set_postfix(loss=f"{last['loss']:.3f}")
                    done = step + 1
                    self.wall_time = time.perf_counter() - t0
                    if done % eval_every == 0 or done == num_steps:
                        t_eval = time.perf_counter()
                        record = evaluation(self, last)
                        if "acc" in record:
                            bar.set_postfix(loss=f"{last['loss']:.3f}", acc=f"{record['acc']:.3f}")
                        for callback in callbacks:
                            callback(self, record)
                        if checkpoint_dir is not None:
                            self.save(checkpoint_dir)
                        self.eval_time += time.perf_counter() - t_eval
                        t0 = time.perf_counter() - self.wall_time  # evaluation is not training time
                    if interrupted and done < num_steps:
                        self.interrupted = True
                        break
            finally:
                bar.close()
            if self.interrupted:
                where = ""
                if checkpoint_dir is not None:
                    self.save(checkpoint_dir)
                    where = f"; checkpoint saved in {checkpoint_dir}"
                print(f"Interrupted at step {int(self.step.numpy())}{where}. "
                      "Call fit again (or run the same command) to continue.")
                return self.history
        if verbose and self.history["evals"]:
            print(self.summary())
        return self.history

    def _guarded_step(self, x: np.ndarray, checkpoint_dir) -> dict:
        """:meth:`train_step`, saying on divergence that the last good checkpoint is kept."""
        try:
            return self.train_step(x)
        except FloatingPointError as e:
            if checkpoint_dir is not None and checkpoint.exists(checkpoint_dir):
                raise FloatingPointError(f"{e}; the last good checkpoint in {checkpoint_dir} is kept") from None
            raise

    def _diverged_message(self, loss: float, step: int) -> str:
        return (f"training diverged at step {step} (loss {loss}, weights or loss not finite): "
                "stopped before saving these weights, which are no longer usable. Check the "
                f"images for NaN/Inf or lower the learning rate (lr = {self.config.lr:g})")

    def summary(self) -> str:
        """One short line: step, epochs, wall time, last loss and (if tracked) accuracy."""
        r = self.history["evals"][-1]
        text = (f"step {r['step']} ({r['epoch']:.2f} epochs, {r['wall_time'] / 60:.1f} min): "
                f"loss {r['loss']:.3f}")
        if "acc" in r:
            text += f", accuracy {100 * r['acc']:.1f} %, NMI {r['nmi']:.3f}"
        return text

    # ---------------------------------------------------------- checkpoints
    def save(self, directory: str | os.PathLike) -> Path:
        """Write this trainer to a folder (:func:`iic_tutorial.training.checkpoint.save`)."""
        return checkpoint.save(self, directory)

    @classmethod
    def restore(cls, directory: str | os.PathLike,
                strategy: tf.distribute.Strategy | None = None) -> "IICTrainer":
        """A trainer rebuilt from a folder (:func:`iic_tutorial.training.checkpoint.restore`)."""
        return checkpoint.restore(directory, strategy=strategy, trainer_class=cls)

    @staticmethod
    def exists(directory: str | os.PathLike) -> bool:
        """Whether ``directory`` holds a checkpoint written by :meth:`save`."""
        return checkpoint.exists(directory)
