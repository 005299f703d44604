"""Checkpoints: a training folder that survives a kill at any moment, and its lock.

A checkpoint is a :class:`~iic_tutorial.training.state.TrainState` on disk. A folder
holds ``state.json`` (format 2: config, history, step, times, and the name of the
checkpoint files) and ``ckpt-STEP-ID.*`` (weights, optimizer
state, step counter; ``tf.train.Checkpoint``). :func:`save` writes new files,
then replaces ``state.json`` atomically, then removes the old files, so the
folder always holds one complete, consistent checkpoint.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import tensorflow as tf

from ..files import atomic_write_text
from .config import TrainConfig
from .state import TrainState

__all__ = ["save", "restore", "exists", "FolderLock"]


class FolderLock:
    """An exclusive lock on a checkpoint folder (``.lock``, ``fcntl.flock``) while a fit writes it.

    The operating system releases it when the process ends, however it ends,
    so a killed run never leaves a stale lock. (No locking where fcntl is
    missing, i.e. on Windows.) A second holder gets RuntimeError naming the
    process that has it.
    """

    def __init__(self, directory: str | os.PathLike):
        self.path = Path(directory) / ".lock"
        self.file = None

    def __enter__(self) -> "FolderLock":
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(self.path, "a+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            owner = self.file.read().strip() or "unknown"
            self.file.close()
            self.file = None
            raise RuntimeError(f"{self.path.parent} is in use by another training (pid {owner}); "
                               "wait for it to finish or choose another folder") from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(str(os.getpid()))
        self.file.flush()
        return self

    def __exit__(self, *exc) -> None:
        if self.file is not None:
            self.file.close()  # closing releases the flock
            self.file = None


_FolderLock = FolderLock  # the name before the training package


def _tf_checkpoint(state: TrainState) -> tf.train.Checkpoint:
    return tf.train.Checkpoint(model=state.model, optimizer=state.optimizer, step=state.step)


def save(state: TrainState, directory: str | os.PathLike) -> Path:
    """Write a run's weights, optimizer state, step, config, history and clocks to a folder.

    Safe against a kill at any moment: the checkpoint files get a new name
    (``ckpt-STEP-ID.*``), then ``state.json``, which names them, is
    replaced atomically, and only then are older checkpoint files removed.
    A folder that cannot be written raises ``OSError`` naming it. Under a
    multi-worker strategy every worker calls this (the collective ops need
    all of them) and only the chief's folder is the run's.
    """
    directory = Path(directory)
    step = state.steps_done
    name = f"ckpt-{step}-{time.time_ns() % 10**12:012d}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _tf_checkpoint(state).write(str(directory / name))
        record = {"format": 2, "checkpoint": name, "step": step,
                  "config": state.config.to_dict(), "history": state.history,
                  "wall_time": state.wall_time, "eval_time": state.eval_time}
        atomic_write_text(directory / "state.json", json.dumps(record))
    except OSError as e:
        raise OSError(e.errno, f"could not write a checkpoint to {directory}: "
                      f"{e.strerror or e}. Free some space or choose another folder; the "
                      "previous checkpoint there, if any, is intact") from e
    for old in directory.glob("ckpt*"):
        if not old.name.startswith(name + "."):
            old.unlink(missing_ok=True)
    return directory


def restore(directory: str | os.PathLike, strategy: tf.distribute.Strategy | None = None) -> TrainState:
    """The state :func:`save` wrote to a folder, rebuilt; a trainer holding it continues from its step.

    ``strategy``: the tf.distribute strategy whose scope the network is built
    in (a checkpoint does not depend on the strategy it was written under).
    (:meth:`IICTrainer.restore <iic_tutorial.training.IICTrainer.restore>`
    gives a trainer holding this state.)

    Raises FileNotFoundError for a folder without a checkpoint and
    ValueError (naming the file and the problem) for a damaged one: a
    ``state.json`` that does not parse, checkpoint files that are missing,
    truncated or of another network, or a step that does not match the
    state (files mixed from two runs) -- never a half-loaded model.
    """
    directory = Path(directory)
    state_file = directory / "state.json"
    if not state_file.is_file():
        raise FileNotFoundError(f"no checkpoint in {directory} (missing state.json); train with checkpoint_dir first")
    try:
        record = json.loads(state_file.read_text())
        config = TrainConfig.from_dict(record["config"])
        history = record["history"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{state_file} is not a readable training state ({type(e).__name__}: "
                         f"{e}); the folder is damaged: delete it or choose another folder") from e
    name = record.get("checkpoint", "ckpt")  # "ckpt": folders written before format 2
    prefix = directory / name
    if not Path(f"{prefix}.index").is_file():
        raise ValueError(f"{state_file} names checkpoint {name!r}, but {prefix}.index is missing: "
                         "the folder is incomplete or mixed from two runs")
    state = TrainState.create(config, strategy=strategy)
    try:
        _tf_checkpoint(state).read(str(prefix)).assert_consumed()
    except Exception as e:  # OpError, IndexError ("read less bytes"), AssertionError, ...
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(f"checkpoint {prefix} could not be read ({type(e).__name__}: {first[:200]}); "
                         "it is truncated, damaged or of another network") from e
    expected = record.get("step", history["step"][-1] if history.get("step") else 0)
    if state.steps_done != expected:
        raise ValueError(f"{directory} mixes two saves: state.json is at step {expected} but "
                         f"checkpoint {name!r} at step {state.steps_done}")
    state.history = history
    state.wall_time = record.get("wall_time", 0.0)
    state.eval_time = record.get("eval_time", 0.0)
    return state


def exists(directory: str | os.PathLike) -> bool:
    """Whether ``directory`` holds a checkpoint written by :func:`save`."""
    return (Path(directory) / "state.json").is_file()
