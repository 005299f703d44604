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
from typing import Any, Callable, Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf

from .. import recipes
from ..data import as_images
from . import checkpoint
from . import restarts as _restarts
from .config import TrainConfig
from .evaluation import Evaluation
from .state import TrainState
from .step import IICStep, resolve_precision

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


def _of_state(name: str, doc: str) -> property:
    """A trainer attribute that is its state's: ``trainer.history`` is ``trainer.state.history``."""
    return property(lambda self: getattr(self._held(), name),
                    lambda self, value: setattr(self._held(), name, value), doc=doc)


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

    The trainer holds the run's :class:`~iic_tutorial.training.state.TrainState`
    (``trainer.state``: network, optimizer, step, history, clocks; ``model``,
    ``step``, ``history``, ... are its attributes) and what drives it: the
    step function, the strategy, the settings asked for (``config``). With
    ``config.restarts > 1``, :meth:`fit` trains the candidates first and the
    trainer then holds the one it chose (``state.config`` has its seed;
    ``choice`` records the comparison). Without a config (and no state) it
    trains the recipe of a run that names none, :data:`iic_tutorial.recipes.DEFAULT`,
    as the command line does.

    ``strategy``: any ``tf.distribute.Strategy`` (MirroredStrategy for the
    GPUs of one machine, MultiWorkerMirroredStrategy for several machines);
    the model and optimizer are built in its scope and each step splits the
    batch over its replicas, with the IIC loss of the global batch
    (:meth:`IICStep.distributed`). Default: one device.
    ``tests/test_distributed.py`` checks on logical CPU devices that the
    distributed step equals the single-device step.
    """

    def __init__(self, config: TrainConfig | None = None, model: keras.Model | None = None,
                 strategy: tf.distribute.Strategy | None = None, state: TrainState | None = None):
        if config is None:  # the state's, or the recipe of a run that names none
            config = state.config if state is not None else TrainConfig.named(recipes.DEFAULT)
        self.config = config
        self.strategy = strategy or tf.distribute.get_strategy()
        self.interrupted = False  # whether the last fit stopped early on Ctrl-C (SIGINT)
        #: restarts.json's record of the candidates' comparison, once fit has made it (restarts > 1)
        self.choice: dict | None = None
        #: what open() records in each new run's history and checks on a resume; the revision it appends
        self.notes: dict[str, Any] = {}
        self.revision: str | None = None
        self.state: TrainState | None = None
        if self.config.restarts > 1:  # the candidates' networks are built by fit, one after another
            if model is not None or state is not None:
                raise ValueError(f"a run with restarts={self.config.restarts} builds its candidates' "
                                 "networks itself; pass no model or state (or train one candidate: "
                                 "restarts.candidate_config(config, seed))")
            self.precision = resolve_precision(self.config.precision)
            return
        self._hold(state or TrainState.create(self.config, model, self.strategy))

    def _hold(self, state: TrainState, step_fn: IICStep | None = None) -> None:
        """Train ``state`` from now on (with ``step_fn``, or a new step for it)."""
        self.state = state
        self.step_fn = step_fn or IICStep(state.config, state.model, state.optimizer, self.strategy)
        self.precision = self.step_fn.precision  # what "auto" means on this machine

    def _held(self) -> TrainState:
        if self.state is None:
            raise RuntimeError(f"this run has restarts={self.config.restarts}: it has no network until "
                               "fit has trained its candidates and chosen one")
        return self.state

    # The run's state, as the trainer's attributes (the names they have always had)
    model = _of_state("model", "The network being trained.")
    optimizer = _of_state("optimizer", "Its Adam optimizer.")
    step = _of_state("step", "Steps done (a tf.Variable, int64).")
    history = _of_state("history", "Per-step losses and ``history['evals']`` (:class:`TrainState`).")
    wall_time = _of_state("wall_time", "Seconds spent training in fit, summed over resumed runs.")
    eval_time = _of_state("eval_time", "Seconds spent evaluating and checkpointing in fit (not in wall_time).")

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
        """(i, j): the sub-heads chosen without labels (:meth:`TrainState.best_subheads`)."""
        return self._held().best_subheads(window)

    def export_model(self) -> keras.Model:
        """The trained network as a two-output create_model() (best sub-heads, copied weights)."""
        return self._held().export_model()

    def _batch_indices(self, n: int, step: int) -> np.ndarray:
        """Images for a step: epoch e's permutation (seeded by (seed, e)), sliced by the step."""
        per = self.config.images_per_step
        epoch, i = divmod(step, self.steps_per_epoch(n))
        order = np.random.default_rng([self._held().config.seed, epoch]).permutation(n)
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

        With ``config.restarts = n > 1`` the run first trains n candidates
        (:mod:`.restarts`: seeds ``seed * n + i``, ``restart_steps`` steps
        each, in ``checkpoint_dir/candidate_seedS`` when a folder is given,
        each resumable), keeps the one with the lowest loss (``self.choice``,
        also written to ``checkpoint_dir/restarts.json``) and trains it on to
        ``num_steps``; a run no longer than its candidates raises ValueError.
        """
        x = as_images(x)
        if self.config.restarts > 1:
            if num_steps is None and self.choice is None:  # the run starts at step 0
                if num_epochs is None:
                    raise ValueError("give num_epochs or num_steps")
                num_steps = int(math.ceil(num_epochs * self.steps_per_epoch(len(x))))
            if self.choice is None:
                options = dict(x_eval=x_eval, y_eval=y_eval, eval_every=eval_every,
                               recalibrate_on=recalibrate_on, track_raw_bn=track_raw_bn, dev=dev,
                               callbacks=callbacks, progress=progress, verbose=verbose)
                chosen = _restarts.train_candidates(self, x, num_steps, checkpoint_dir, options)
                if chosen is None:  # a candidate was interrupted: it said where its checkpoint is
                    self.interrupted = True
                    return {}
                self._hold(chosen.state, chosen.step_fn)
            if checkpoint_dir is not None:
                checkpoint_dir = Path(checkpoint_dir) / _restarts.candidate_folder(self.choice["chosen"])
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
                        record = evaluation(self.state, last)
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
        """Write this run's state to a folder (:func:`iic_tutorial.training.checkpoint.save`)."""
        return checkpoint.save(self._held(), directory)

    @classmethod
    def restore(cls, directory: str | os.PathLike,
                strategy: tf.distribute.Strategy | None = None) -> "IICTrainer":
        """A trainer holding the state a folder holds (:func:`iic_tutorial.training.checkpoint.restore`)."""
        state = checkpoint.restore(directory, strategy=strategy)
        return cls(state.config, strategy=strategy, state=state)

    @classmethod
    def open(cls, folder: str | os.PathLike, config: TrainConfig,
             strategy: tf.distribute.Strategy | None = None, notes: Mapping[str, Any] | None = None,
             revision: str | None = None) -> "IICTrainer":
        """The run of ``config`` in ``folder``: resumed from its checkpoint, or a new one.

        ``notes``: facts a resume must share that the settings do not hold
        (the command line's ``{"train_on": "all"}``): written into a new run's
        history; a resumed run whose history says otherwise raises ValueError,
        as does a checkpoint of other settings (a history older than a note is
        taken to agree). ``revision``: the code's revision, appended to
        ``history["revisions"]`` at every start, since the code that trains is
        the code of now. With ``config.restarts > 1`` nothing is opened yet:
        :meth:`fit` opens each candidate in its sub-folder the same way.
        """
        notes = dict(notes or {})
        if config.restarts > 1:
            trainer = cls(config, strategy=strategy)
        elif not checkpoint.exists(folder):
            trainer = cls(config, strategy=strategy)
            trainer.history.update(notes)
        else:
            trainer = cls.restore(folder, strategy=strategy)
            if trainer.config != config:
                raise ValueError(f"{folder} holds a run with other settings; choose another folder")
            for key, value in notes.items():
                if trainer.history.get(key, value) != value:
                    raise ValueError(f"{folder} holds a run with {key} = {trainer.history[key]!r}, "
                                     f"not {value!r}; choose another folder")
            print(f"Resuming {folder} at step {int(trainer.step.numpy())}")
        trainer.notes, trainer.revision = notes, revision
        if revision is not None and trainer.state is not None:
            trainer.history.setdefault("revisions", []).append(revision)
        return trainer

    @staticmethod
    def exists(directory: str | os.PathLike) -> bool:
        """Whether ``directory`` holds a checkpoint written by :meth:`save`."""
        return checkpoint.exists(directory)
