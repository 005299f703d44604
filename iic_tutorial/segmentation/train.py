"""Training IIC for segmentation on the toy scenes: config, views, step, trainer, checkpoints.

One step: draw ``batch_size`` training scenes x; make each view x' = jitter(warp(x,
A_12)) (a random rotation, scale and flip, then brightness, contrast and noise); run
the network on both; warp the view's maps back with A_21 and take the uncollapsed
segmentation loss of each head over a (2T+1)^2 window, with the mask of the pixels the
view saw; Adam on the mean of the two heads' losses. All randomness of step s comes
from ``np.random.default_rng([seed, s])``, so a resumed run draws what it would have.

A run's folder (``SegTrainer.fit(out=...)``) holds ``state.json`` (config, step,
history, times; replaced atomically) and the ``ckpt-STEP-ID.*`` files it names (model,
optimizer, step), written before ``state.json`` names them: killed at any moment, the
folder holds one complete checkpoint, and the same command resumes from it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

from ..runs import atomic_write_text, git_revision
from ..training.checkpoint import FolderLock
from .evaluation import predict_maps, scores
from .losses import iic_segmentation_loss
from .model import create_segmentation_model
from .scenes import Scenes, make_scenes
from .warp import random_affine, valid_mask, warp

__all__ = ["SegConfig", "SegTrainer", "make_view", "scene_sets", "EVAL_SEED"]

#: Seed of the evaluation scenes (from MNIST test digits): the same for every run.
EVAL_SEED = 1000


def _setting(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass
class SegConfig:
    """Every setting of a segmentation run, with its help line (the CLI's options)."""

    k: int = _setting(2, "clusters of the main head (2: background / stroke)")
    k_over: int = _setting(11, "clusters of the second head (0: none; 11 = background + 10 digits)")
    width: int = _setting(32, "channels of the network's trunk")
    T: int = _setting(1, "displacement window (2T+1) x (2T+1) of the loss")
    alpha: float = _setting(1.0, "weight of the marginal entropies (official lamb; 1: -I)")
    collapsed: bool = _setting(False, "sum the displacements' joints before the loss")
    steps: int = _setting(800, "optimisation steps")
    batch_size: int = _setting(16, "scenes per step")
    lr: float = _setting(1e-3, "Adam learning rate")
    num_scenes: int = _setting(4000, "training scenes (from MNIST training digits)")
    eval_scenes: int = _setting(200, "evaluation scenes (from MNIST test digits)")
    eval_every: int = _setting(100, "steps between evaluations and checkpoints")
    max_degrees: float = _setting(180.0, "view: rotation up to this many degrees")
    scale_low: float = _setting(0.9, "view: smallest zoom")
    scale_high: float = _setting(1.1, "view: largest zoom")
    flip_p: float = _setting(0.5, "view: probability of a left-right flip")
    contrast: float = _setting(0.4, "view: contrast factor in 1 +- this")
    brightness: float = _setting(0.2, "view: brightness shift in +- this")
    noise: float = _setting(0.05, "view: standard deviation of pixel noise")
    invert_p: float = _setting(0.5, "view: probability of inverting the brightness")
    seed: int = _setting(0, "seed of the network, the training scenes and every view")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "SegConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown segmentation settings {sorted(unknown)}")
        return cls(**d)

    @classmethod
    def smoke(cls, **changes) -> "SegConfig":
        """Tiny settings that run in seconds (CI)."""
        return dataclasses.replace(cls(steps=4, batch_size=4, num_scenes=16, eval_scenes=8,
                                       eval_every=2, width=8), **changes)


def scene_sets(config: SegConfig, mnist=None) -> tuple[Scenes, Scenes]:
    """(training scenes from MNIST training digits, evaluation scenes from test digits)."""
    from ..data import load_mnist

    (x_train, y_train), (x_test, y_test) = mnist if mnist is not None else load_mnist()
    train = make_scenes(x_train, y_train, config.num_scenes, seed=config.seed)
    test = make_scenes(x_test, y_test, config.eval_scenes, seed=EVAL_SEED)
    return train, test


def make_view(x: np.ndarray, config: SegConfig, rng: np.random.Generator):
    """(x', A_12, A_21, mask): the view of scenes x (n, H, W, 1) and how to bring it back.

    x' = clip((warp(x, A_12) - 0.5) c + 0.5 + b + noise, 0, 1) per image, c ~
    U(1 - contrast, 1 + contrast), b ~ U(-brightness, brightness), then
    inverted (1 - x') with probability ``invert_p``; mask: the
    pixels of x that the view saw whole (:func:`~.warp.valid_mask`).
    """
    n, H, W = x.shape[:3]
    A12, A21 = random_affine(rng, n, config.max_degrees, (config.scale_low, config.scale_high),
                             flip_p=config.flip_p)
    c = rng.uniform(1 - config.contrast, 1 + config.contrast, (n, 1, 1, 1))
    b = rng.uniform(-config.brightness, config.brightness, (n, 1, 1, 1))
    noise = rng.normal(0, config.noise, x.shape) if config.noise > 0 else 0.0
    warped = warp(tf.constant(x, tf.float32), A12).numpy()
    x_view = np.clip((warped - 0.5) * c + 0.5 + b + noise, 0, 1)
    flip = rng.uniform(size=(n, 1, 1, 1)) < config.invert_p
    x_view = np.where(flip, 1.0 - x_view, x_view).astype(np.float32)
    return x_view, A12.astype(np.float32), A21.astype(np.float32), valid_mask(A21, H, W).numpy()


class SegTrainer:
    """Train the segmentation network of ``config`` on scenes; checkpoints in ``out``.

    ``fit(train, test, out)`` trains to ``config.steps``, evaluating on ``test``
    every ``eval_every`` steps (labels only score) and checkpointing ``out``;
    :meth:`restore` continues a folder. ``history``: one record per evaluation.
    """

    def __init__(self, config: SegConfig):
        self.config = config
        tf.keras.utils.set_random_seed(config.seed)
        self.model = create_segmentation_model(config.k, config.k_over or None, config.width)
        self.optimizer = tf.keras.optimizers.Adam(config.lr)
        self.optimizer.build(self.model.trainable_variables)  # its slots exist to be restored
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.history: list[dict] = []
        self.revisions: list[str] = []
        self.wall_time = 0.0
        self._train_step = tf.function(self._step, reduce_retracing=True)

    # ------------------------------------------------------------ the step

    def heads(self, outputs) -> list:
        return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]

    def _step(self, x, x_view, A21, mask):
        c = self.config
        with tf.GradientTape() as tape:
            z = self.heads(self.model(x, training=True))
            z_prime = self.heads(self.model(x_view, training=True))
            losses = [iic_segmentation_loss(a, b, T=c.T, alpha=c.alpha, mask=mask, affine_21=A21,
                                            collapsed=c.collapsed, validate=False)
                      for a, b in zip(z, z_prime)]
            loss = tf.add_n(losses) / len(losses)
        grads = tape.gradient(loss, self.model.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables))
        self.step.assign_add(1)
        return loss, losses

    def batch(self, train: Scenes, step: int):
        """The step's scenes and views, drawn from ``default_rng([seed, step])``."""
        rng = np.random.default_rng([self.config.seed, step])
        x = train.x[rng.choice(len(train), self.config.batch_size, replace=False)]
        x_view, _, A21, mask = make_view(x, self.config, rng)
        return x, x_view, A21, mask

    # ------------------------------------------------------------ evaluation

    def evaluate(self, test: Scenes) -> dict:
        """Scores of each head on ``test``: main head vs strokes, second head vs digits."""
        maps = predict_maps(self.model, test.x)
        out = {}
        main = scores(test.stroke, maps[0], 2)
        out.update(pixel_accuracy=main["pixel_accuracy"], miou=main["miou"],
                   iou=main["iou"], mapping=main["mapping"],
                   stroke_fraction_predicted=float(np.mean(
                       np.array([main["mapping"].get(j, -1) for j in range(self.config.k)])
                       [maps[0]] == 1)))
        if len(maps) > 1:
            over = scores(test.digit, maps[1], 11)
            out.update(digit_pixel_accuracy=over["pixel_accuracy"], digit_miou=over["miou"])
        return out

    # ------------------------------------------------------------ fit

    def fit(self, train: Scenes, test: Scenes, out: str | os.PathLike | None = None,
            log=print) -> list[dict]:
        """Train to ``config.steps``; evaluate and checkpoint every ``eval_every`` steps."""
        c = self.config
        self.revisions.append(git_revision())
        lock = FolderLock(out) if out is not None else None
        if lock:
            lock.__enter__()
        try:
            losses = []
            while int(self.step.numpy()) < c.steps:
                s = int(self.step.numpy())
                x, x_view, A21, mask = self.batch(train, s)
                start = time.perf_counter()
                loss, parts = self._train_step(x, x_view, A21, mask)
                self.wall_time += time.perf_counter() - start
                losses.append([float(loss)] + [float(p) for p in parts])
                s += 1
                if s % c.eval_every == 0 or s == c.steps:
                    record = {"step": s, "wall_time": round(self.wall_time, 3),
                              "loss": float(np.mean([v[0] for v in losses])),
                              "loss_heads": [float(np.mean([v[i] for v in losses]))
                                             for i in range(1, len(losses[0]))],
                              **self.evaluate(test)}
                    losses = []
                    self.history.append(record)
                    if log:
                        log(f"step {s:5d}  loss {record['loss']:+.4f}  pixel acc "
                            f"{100 * record['pixel_accuracy']:.1f} %  mIoU "
                            f"{100 * record['miou']:.1f} %  ({self.wall_time / 60:.1f} min)")
                    if out is not None:
                        self.save(out)
        finally:
            if lock:
                lock.__exit__(None, None, None)
        return self.history

    # ------------------------------------------------------------ checkpoints

    def _checkpoint(self) -> tf.train.Checkpoint:
        return tf.train.Checkpoint(model=self.model, optimizer=self.optimizer, step=self.step)

    def save(self, out: str | os.PathLike) -> Path:
        """Checkpoint files first, then ``state.json`` naming them (atomic), then old files go."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        name = f"ckpt-{int(self.step.numpy())}-{time.time_ns() % 10**12:012d}"
        self._checkpoint().write(str(out / name))
        state = {"checkpoint": name, "step": int(self.step.numpy()), "config": self.config.to_dict(),
                 "history": self.history, "wall_time": self.wall_time, "revisions": self.revisions}
        atomic_write_text(out / "state.json", json.dumps(state))
        for old in out.glob("ckpt*"):
            if not old.name.startswith(name + "."):
                old.unlink(missing_ok=True)
        return out

    @classmethod
    def restore(cls, out: str | os.PathLike) -> "SegTrainer":
        """The trainer of a folder written by :meth:`save`; ``fit`` continues from its step.

        FileNotFoundError without a checkpoint; ValueError for a damaged one.
        """
        out = Path(out)
        state_file = out / "state.json"
        if not state_file.is_file():
            raise FileNotFoundError(f"no checkpoint in {out} (missing state.json)")
        try:
            state = json.loads(state_file.read_text())
            trainer = cls(SegConfig.from_dict(state["config"]))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{state_file} is not a readable training state ({e}); delete the "
                             "folder or choose another") from e
        try:
            trainer._checkpoint().read(str(out / state["checkpoint"])).assert_consumed()
        except Exception as e:  # noqa: BLE001 - any failure to read means a damaged folder
            raise ValueError(f"checkpoint {out / state['checkpoint']} could not be read "
                             f"({type(e).__name__}); the folder is damaged") from e
        trainer.history = state["history"]
        trainer.wall_time = state["wall_time"]
        trainer.revisions = state.get("revisions", [])
        return trainer
