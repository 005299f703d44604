"""Training IIC: recipes, the train step, the loop, evaluation and checkpoints.

A training *step* takes ``batch_size`` pairs (z, z'): ``batch_size // copies``
images, each paired with ``copies`` independently augmented versions of itself
(the official IIC code uses 5 copies). An *epoch* is one pass over the
training images. Labels are never used to train; when given, they only
monitor accuracy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from .augment import AugmentConfig, compose
from .information import entropy, mutual_information
from .losses import (BF16_ROW_SUM_TOLERANCE, ROW_SUM_TOLERANCE, check_probabilities,
                     iic_loss_of_joint, joint_counts, joint_from_counts)
from .metrics import cluster_accuracy, confusion_matrix, nmi
from .model import create_model, export_subheads
from .runs import atomic_write_text, cpu_flags

__all__ = [
    "TrainConfig",
    "PRECISIONS",
    "resolve_precision",
    "IICTrainer",
    "predict",
    "recalibrate_batchnorm",
    "evaluate",
]


#: The numeric modes of the train step (``TrainConfig.precision``).
PRECISIONS = ("auto", "fp32", "bf16")


def _cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AMX or AVX-512-BF16 flags, Linux)."""
    return bool({"amx_bf16", "avx512_bf16"} & cpu_flags())


def _check_precision(precision: str) -> None:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}; got {precision!r}")


def resolve_precision(precision: str) -> str:
    """The mode a setting means on this machine: ``"fp32"`` or ``"bf16"``.

    ``"auto"`` is ``"bf16"`` on a CPU with bfloat16 hardware (AMX or
    AVX-512-BF16) when no GPU is visible, and ``"fp32"`` everywhere else
    (GPUs: no mixed-precision path has been measured by this project).
    """
    _check_precision(precision)
    if precision != "auto":
        return precision
    if tf.config.list_physical_devices("GPU"):
        return "fp32"
    return "bf16" if _cpu_has_bf16() else "fp32"


@contextlib.contextmanager
def _onednn_bf16(on: bool):
    """Run the tf.function calls inside with TensorFlow's oneDNN bfloat16 graph rewrite on/off.

    The rewrite (grappler's ``auto_mixed_precision_onednn_bfloat16``) runs
    matmuls, convolutions, BatchNorm, pooling and the softmax in bfloat16
    (measured: softmax rows then sum to 1 within ~3e-3) and keeps the
    weights, their updates, and reductions such as the loss's sums in
    float32; the train step moves P, its logarithms and the loss to float64,
    out of its reach. TensorFlow only offers it process-wide, so it is
    switched on around each call of a bf16 step and restored afterwards: other
    functions in the same process (an fp32 trainer, a notebook's own code)
    stay fp32. Instantiations are cached per setting, so the switch is free.
    """
    key = "auto_mixed_precision_onednn_bfloat16"
    if not on:
        yield
        return
    old = bool(tf.config.optimizer.get_experimental_options().get(key, False))
    tf.config.optimizer.set_experimental_options({key: True})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({key: old})


def _fault_point(where: str, directory: Path) -> None:
    """Fault-injection hook for the tests: with ``IIC_TEST_PAUSE=<where>:<seconds>`` set, touch
    ``directory/.paused-<where>`` and sleep here, so a test can kill the process at this point."""
    spec = os.environ.get("IIC_TEST_PAUSE", "")
    if spec.partition(":")[0] == where:
        (Path(directory) / f".paused-{where}").touch()
        time.sleep(float(spec.partition(":")[2] or 1))


class _FolderLock:
    """An exclusive lock on a checkpoint folder (``.lock``, ``fcntl.flock``) while a fit writes it.

    The operating system releases it when the process ends, however it ends,
    so a killed run never leaves a stale lock. (No locking where fcntl is
    missing, i.e. on Windows.)
    """

    def __init__(self, directory: Path):
        self.path = Path(directory) / ".lock"
        self.file = None

    def __enter__(self) -> "_FolderLock":
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


#: Values of fields that runs saved before the field existed were made with.
_LEGACY_DEFAULTS = {"precision": "fp32", "fused_batchnorm": False}


@dataclass
class TrainConfig:
    """Every setting of a training run (saved with each checkpoint and result).

    alpha: weight of the marginal entropies in :func:`iic_loss` (1 = paper).
    alpha_over: the same weight for the over-clustering head (None: alpha).
    lr: Adam learning rate. batch_size: pairs per step. copies: augmented
    versions per image in a step (images per step = batch_size // copies).
    view: the augmentation that makes x'. view_x: the augmentation applied to
    x itself, or None to use x unchanged (then its forward pass runs once per
    image, not once per copy). over_clustering: train the k_over head too
    (loss = mean of both heads' losses) or only the k head. alpha_warmup:
    number of steps over which the weight grows linearly from 1 to alpha
    (0: alpha from the first step). num_subheads: independent copies of each
    head on the shared trunk (the official code uses 5); their losses are
    averaged, and evaluation uses the sub-head with the lowest recent loss,
    chosen without labels. lr_drop_step: from this step on the learning
    rate is lr / 10 (0: constant lr). seed: weights, sampling and
    augmentation all derive from it. precision: the numerics of the train
    step, ``"fp32"``, ``"bf16"`` (the network in oneDNN bfloat16; P, its
    logs and the loss computed in float64 from its outputs) or ``"auto"``
    (the default: :func:`resolve_precision`; bf16 reached the accuracy of
    fp32 over 3 seeds, chapter 9). fused_batchnorm: BatchNorm's training pass
    through TensorFlow's fused kernel (same maths, faster; False: Keras's own
    layer, as runs saved before this setting existed were trained).
    validate_inputs: check inside the step that every z row is a
    probability vector (``iic_loss(validate=True)``); off by default, since the
    heads end in softmax and a NaN shows in the loss, which ``fit`` checks.
    """

    alpha: float = 1.0
    alpha_over: float | None = None
    lr: float = 1e-4
    batch_size: int = 1000
    copies: int = 1
    view: AugmentConfig = field(default_factory=AugmentConfig.article)
    view_x: AugmentConfig | None = None
    over_clustering: bool = True
    alpha_warmup: int = 0
    num_subheads: int = 1
    lr_drop_step: int = 0
    k: int = 10
    k_over: int = 50
    seed: int = 0
    precision: str = "auto"
    fused_batchnorm: bool = True
    validate_inputs: bool = False

    def __post_init__(self) -> None:
        _check_precision(self.precision)
        if self.alpha < 0 or (self.alpha_over is not None and self.alpha_over < 0):
            raise ValueError(f"alpha and alpha_over must be >= 0; got {self.alpha}, {self.alpha_over}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0; got {self.lr}")
        if self.lr_drop_step < 0:
            raise ValueError(f"lr_drop_step must be a step number >= 0; got {self.lr_drop_step}")
        if self.alpha_warmup < 0:
            raise ValueError(f"alpha_warmup must be a number of steps >= 0; got {self.alpha_warmup}")
        if self.copies < 1 or self.batch_size < self.copies or self.batch_size % self.copies:
            raise ValueError(
                f"batch_size ({self.batch_size}) must be a positive multiple of copies ({self.copies})"
            )
        if isinstance(self.view, dict):
            self.view = AugmentConfig.from_dict(self.view)
        if isinstance(self.view_x, dict):
            self.view_x = AugmentConfig.from_dict(self.view_x)

    @property
    def images_per_step(self) -> int:
        """Distinct images in one step: batch_size // copies."""
        return self.batch_size // self.copies

    def alpha_at(self, step: int, over: bool = False) -> float:
        """The marginal-entropy weight used at a step: 1 -> alpha over alpha_warmup steps.

        ``over=True`` gives the over-clustering head's weight (alpha_over, or alpha).
        """
        target = self.alpha if not over or self.alpha_over is None else self.alpha_over
        if self.alpha_warmup <= 0 or step >= self.alpha_warmup:
            return float(target)
        return 1.0 + (target - 1.0) * step / self.alpha_warmup

    @classmethod
    def article(cls, alpha: float = 1.0, seed: int = 0) -> "TrainConfig":
        """The article's recipe: Adam 1e-4, 1000 pairs (x, aug(x)) per step, four transforms."""
        return cls(alpha=alpha, lr=1e-4, batch_size=1000, copies=1,
                   view=AugmentConfig.article(), view_x=None, seed=seed)

    @classmethod
    def fast(cls, alpha: float = 2.0, seed: int = 0, alpha_over: float | None = 1.0,
             erase_p: float = 0.0) -> "TrainConfig":
        """This project's fast recipe for a laptop CPU.

        200 images x 5 copies = 1000 pairs per step (as the official code
        pairs each image with 5 augmentations), Adam 4e-4, x' from a strong
        view (rotation, zoom, shift, intensity jitter) and x unchanged, so
        the forward pass of x runs once per image (1200 instead of 2000
        images through the network per step). alpha = 2 on the 10-cluster
        head keeps every cluster alive; the 50-cluster head keeps alpha = 1,
        since with 50 clusters alpha = 2 already holds it at the uniform
        solution (chapter 9 of the book has the runs). ``erase_p = 0.5`` adds
        random erasing to the view: the recipe of the shipped model (with 1600
        steps and ``lr_drop_step = 900``).
        """
        return cls(alpha=alpha, alpha_over=alpha_over, lr=4e-4, batch_size=1000, copies=5,
                   view=AugmentConfig(erase_p=erase_p), view_x=None, seed=seed)

    def to_dict(self) -> dict:
        """Plain-JSON form."""
        d = dataclasses.asdict(self)
        d["view"] = self.view.to_dict()
        d["view_x"] = None if self.view_x is None else self.view_x.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Inverse of :meth:`to_dict`.

        A field missing from ``d`` (a run saved before the field existed)
        takes the value such runs were trained with, not today's default.
        """
        return cls(**{**_LEGACY_DEFAULTS, **d})


def _as_images(x: np.ndarray) -> np.ndarray:
    """uint8 (n, 28, 28[, 1]) or float images -> float32 (n, 28, 28, 1) in [0, 1]."""
    x = np.asarray(x)
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] != 1:
        raise ValueError(f"images must have shape (n, 28, 28) or (n, 28, 28, 1); got {x.shape}")
    x = x.astype(np.float32, copy=False)
    if len(x) == 0:
        raise ValueError("no images: x is empty")
    finite = np.isfinite(x)
    if not finite.all():
        raise ValueError(f"images hold NaN or Inf ({int((~finite).sum())} pixels, first in image "
                         f"{int(np.argmax(~finite.reshape(len(x), -1).all(axis=1)))}); clean the data first")
    if x.min() < 0 or x.max() > 1:
        raise ValueError(f"float images must lie in [0, 1]; got [{x.min():.3g}, {x.max():.3g}]")
    return x


def _batchnorm_layers(model: keras.Model) -> list:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]


def predict(
    model: keras.Model, x: np.ndarray, batch_size: int = 1000, bn: str = "inference"
) -> list[np.ndarray]:
    """Softmax outputs of every head for images x, in batches.

    x: (n, 28, 28[, 1]) uint8 or float in [0, 1]. ``bn="inference"`` uses
    BatchNorm's moving averages (``training=False``); ``bn="batch"`` uses the
    statistics of each batch, as the official IIC code evaluates, and leaves
    the moving averages untouched. Returns ``[Z (n, k), Z_over (n, k_over)]``.
    """
    if bn not in ("inference", "batch"):
        raise ValueError(f"bn must be 'inference' or 'batch'; got {bn!r}")
    x = _as_images(x)
    batch = bn == "batch"  # training-mode calls update the moving averages: save them first
    saved = [[v.numpy() for v in layer.non_trainable_weights]
             for layer in _batchnorm_layers(model)] if batch else []
    outs: list[list[np.ndarray]] = []
    for start in range(0, len(x), batch_size):
        heads = model(x[start:start + batch_size], training=batch)
        outs.append([np.asarray(h) for h in heads])
    if batch:
        for layer, values in zip(_batchnorm_layers(model), saved):
            for v, value in zip(layer.non_trainable_weights, values):
                v.assign(value)
    return [np.concatenate(parts) for parts in zip(*outs)]


def recalibrate_batchnorm(model: keras.Model, x: np.ndarray, batch_size: int = 1000) -> None:
    """Set every BatchNorm layer's moving mean/variance to its average batch statistics over x.

    Early in training the moving averages (momentum 0.99) lag far behind the
    weights, and inference-mode accuracy collapses to ~11 % even when the
    clusters are good. This runs x (unlabelled images, e.g. the training set)
    through the model in training mode with the momentum of batch b set to
    b / (b + 1), i.e. an exact running average, then restores the momentum.
    Afterwards ``model(x, training=False)`` matches batch-statistics outputs.
    """
    x = _as_images(x)
    layers = _batchnorm_layers(model)
    momenta = [layer.momentum for layer in layers]
    try:
        for b, start in enumerate(range(0, len(x), batch_size)):
            for layer in layers:
                layer.momentum = b / (b + 1.0)
            model(x[start:start + batch_size], training=True)
    finally:
        for layer, m in zip(layers, momenta):
            layer.momentum = m


def evaluate(
    model: keras.Model, x: np.ndarray, y: np.ndarray, bn: str = "inference", batch_size: int = 1000
) -> dict:
    """Accuracy of both heads against labels y (for monitoring only).

    Returns ``{"acc", "nmi", "acc_over", "confusion"}``: Hungarian accuracy
    and NMI of the k head, many-to-one accuracy of the over-clustering head,
    and the confusion matrix (classes x clusters, matched order), as lists.
    """
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"y must hold one label per image: {len(x)} images but labels of shape {y.shape}")
    z, z_over = predict(model, x, batch_size, bn)[:2]
    y = y.astype(np.int64)
    pred, pred_over = z.argmax(1), z_over.argmax(1)
    return {
        "acc": cluster_accuracy(y, pred),
        "nmi": nmi(y, pred),
        "acc_over": cluster_accuracy(y, pred_over, many_to_one=True),
        "confusion": confusion_matrix(y, pred, k=z.shape[1]).tolist(),
    }


Callback = Callable[["IICTrainer", dict], None]


class IICTrainer:
    """Trains a :func:`create_model` network with the IIC loss.

    >>> trainer = IICTrainer(TrainConfig.fast(seed=1))
    >>> trainer.fit(x_train, num_steps=500, x_eval=x_test, y_eval=y_test)

    ``history`` holds per-step losses (``loss``, ``loss_k``, ``loss_over``)
    and one record per evaluation in ``history["evals"]`` (step, epoch, wall
    time, the joint P of the k head of the last step and its mutual
    information ``mi`` in nats -- a label-free score comparable across alpha
    -- and accuracy/NMI/confusion when labels were given). ``save``/``restore``
    write and read a checkpoint folder; a restored trainer continues where it
    stopped.

    ``strategy``: any ``tf.distribute.Strategy`` (MirroredStrategy for the
    GPUs of one machine, ...); the model and optimizer are built in its scope
    and each step splits the batch over its replicas, with the IIC loss of
    the global batch (:meth:`_distributed_step_fn`). Default: one device.
    ``tests/test_distributed.py`` checks on logical CPU devices that the
    distributed step equals the single-device step.
    """

    def __init__(self, config: TrainConfig | None = None, model: keras.Model | None = None,
                 strategy: tf.distribute.Strategy | None = None):
        self.config = config or TrainConfig()
        c = self.config
        self.strategy = strategy or tf.distribute.get_strategy()
        with self.strategy.scope():  # a model passed in must have been built in this scope too
            self.model = model or create_model(c.k, c.k_over, seed=c.seed, num_subheads=c.num_subheads,
                                               fused_batchnorm=c.fused_batchnorm)
            lr = c.lr
            if c.lr_drop_step:  # counted by the optimizer's own step counter, so resumes keep it
                lr = keras.optimizers.schedules.PiecewiseConstantDecay([c.lr_drop_step], [c.lr, c.lr / 10])
            self.optimizer = keras.optimizers.Adam(learning_rate=lr)
            self.optimizer.build(self.model.trainable_variables)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.precision = resolve_precision(c.precision)  # what "auto" means on this machine
        replicas = self.strategy.num_replicas_in_sync
        if replicas > 1 and c.images_per_step % replicas:
            raise ValueError(f"images per step ({c.images_per_step}) must be a multiple of the "
                             f"{replicas} replicas of the strategy")
        self.history: dict = {"step": [], "loss": [], "loss_k": [], "loss_over": [], "evals": []}
        self.interrupted = False  # whether the last fit stopped early on Ctrl-C (SIGINT)
        self.wall_time = 0.0  # seconds spent training in fit, summed over resumed runs
        self.eval_time = 0.0  # seconds spent evaluating and checkpointing in fit (not in wall_time)
        step_fn = self._step_fn if replicas == 1 else self._distributed_step_fn
        self._train_step = tf.function(step_fn, reduce_retracing=True)

    # ----------------------------------------------------------------- step
    def _views(self, x: tf.Tensor, seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """(x_view, x_prime) for a step's images x (m, 28, 28, 1), made in the graph.

        x_prime: ``copies`` views of each image (m * copies, image-major);
        x_view: x itself when ``view_x`` is None (its forward pass then runs
        once per image), else ``copies`` views of x by ``view_x``.
        """
        c = self.config
        seeds = tf.random.experimental.stateless_split(seed, num=2)
        x_rep = tf.repeat(x, c.copies, axis=0)
        x_prime = compose(x_rep, c.view, seeds[1])
        x_view = x if c.view_x is None else compose(x_rep, c.view_x, seeds[0])
        return x_view, x_prime

    def _losses(self, x_view: tf.Tensor, x_prime: tf.Tensor, alpha: tf.Tensor,
                alpha_over: tf.Tensor, reduce_counts: Callable[[tf.Tensor], tf.Tensor]):
        """Both heads' outputs and IIC losses for a batch of views (inside a GradientTape).

        The (k, k) counts sum_b outer(z_b, z'_b) of every (sub-)head pass through
        ``reduce_counts`` before they become P: the identity on one device, an
        all-reduce (sum) over the replicas of a strategy, so that P -- and the
        loss -- are those of the global batch. Returns ``(loss, loss_k,
        loss_over, losses, joints)``: the loss to minimise (mean of the two
        heads' losses, or the k head's alone), each head's mean over its
        sub-heads, every sub-head's loss (2 h,) and their joints P.
        """
        c = self.config
        h = c.num_subheads
        if c.view_x is None:
            z_all = [tf.repeat(z, c.copies, axis=0) for z in self.model(x_view, training=True)]
        else:
            z_all = self.model(x_view, training=True)
        z_prime_all = self.model(x_prime, training=True)
        tolerance = ROW_SUM_TOLERANCE
        if self.precision == "bf16":
            # the bf16 rewrite would round the matmul inside P to bfloat16 (0.4 %
            # off, measured); it leaves float64 alone, so P and the loss go there.
            # (The softmax itself runs in bfloat16: rows sum to 1 within ~3e-3.)
            z_all = [tf.cast(z, tf.float64) for z in z_all]
            z_prime_all = [tf.cast(z, tf.float64) for z in z_prime_all]
            tolerance = BF16_ROW_SUM_TOLERANCE
        if c.validate_inputs:
            for z, z_prime in zip(z_all, z_prime_all):
                check_probabilities(z, "z", tolerance)
                check_probabilities(z_prime, "z_prime", tolerance)
        joints = [joint_from_counts(reduce_counts(joint_counts(z, zp)))
                  for z, zp in zip(z_all, z_prime_all)]
        weights = [alpha] * h + [alpha_over] * h
        losses = tf.stack([tf.cast(iic_loss_of_joint(P, a), tf.float32)
                           for P, a in zip(joints, weights)])
        loss_k, loss_over = tf.reduce_mean(losses[:h]), tf.reduce_mean(losses[h:])
        loss = (loss_k + loss_over) / 2.0 if c.over_clustering else loss_k
        return loss, loss_k, loss_over, losses, joints

    def _apply(self, tape: tf.GradientTape, objective: tf.Tensor, loss: tf.Tensor) -> tf.Tensor:
        """One Adam update along the gradient of ``objective``; returns whether all is finite.

        A NaN can hide from the loss (ReLU and max-pooling drop it) but not
        from the weights, so the flag checks the loss and every weight.
        """
        variables = self.model.trainable_variables
        grads = tape.gradient(objective, variables)
        self.optimizer.apply_gradients([(g, v) for g, v in zip(grads, variables) if g is not None])
        return tf.reduce_all([tf.reduce_all(tf.math.is_finite(v)) for v in variables]
                             + [tf.math.is_finite(loss)])

    def _step_fn(self, x: tf.Tensor, seed: tf.Tensor, alpha: tf.Tensor, alpha_over: tf.Tensor):
        """The train step on one device: views, both heads, the IIC losses, one Adam update.

        Returns ``(loss, loss_k, loss_over, losses, P, P_over, finite)``; P and
        P_over stack the sub-heads' joints, (h, k, k) and (h, k_over, k_over).
        """
        h = self.config.num_subheads
        x_view, x_prime = self._views(x, seed)
        with tf.GradientTape() as tape:
            loss, loss_k, loss_over, losses, joints = self._losses(
                x_view, x_prime, alpha, alpha_over, reduce_counts=lambda C: C)
        finite = self._apply(tape, loss, loss)
        return loss, loss_k, loss_over, losses, tf.stack(joints[:h]), tf.stack(joints[h:]), finite

    def _distributed_step_fn(self, x: tf.Tensor, seed: tf.Tensor, alpha: tf.Tensor,
                             alpha_over: tf.Tensor):
        """:meth:`_step_fn` on the replicas of a strategy, with the loss of the GLOBAL batch.

        The views are made for the whole batch, exactly as on one device; then
        replica r takes its r-th share of the images and of their views. IIC's
        loss is not a mean over examples -- P is a statistic of the whole
        batch -- so each replica computes its (k, k) counts
        sum_b outer(z_b, z'_b), the counts are all-reduced (summed) across
        replicas BEFORE symmetrising, normalising and taking logs, and every
        replica then holds the loss of the global batch. The gradient of the
        all-reduce is an all-reduce of the gradients, so each replica
        differentiates loss / replicas, and the optimizer's sum over replicas
        gives the single-device gradient. (BatchNorm uses each replica's own
        batch statistics unless the model was built with
        ``create_model(synchronized_batchnorm=True)``.)
        """
        strategy, h = self.strategy, self.config.num_subheads
        n = strategy.num_replicas_in_sync
        x_view, x_prime = self._views(x, seed)

        def replica(x_view, x_prime, alpha, alpha_over):
            ctx = tf.distribute.get_replica_context()
            r = ctx.replica_id_in_sync_group

            def share(t):
                m = tf.shape(t)[0] // n
                return t[r * m:(r + 1) * m]

            with tf.GradientTape() as tape:
                loss, loss_k, loss_over, losses, joints = self._losses(
                    share(x_view), share(x_prime), alpha, alpha_over,
                    reduce_counts=lambda C: ctx.all_reduce(tf.distribute.ReduceOp.SUM, C))
                objective = loss / n  # inside the tape: it is what gets differentiated
            finite = self._apply(tape, objective, loss)
            return loss, loss_k, loss_over, losses, tf.stack(joints[:h]), tf.stack(joints[h:]), finite

        out = strategy.run(replica, args=(x_view, x_prime, alpha, alpha_over))
        first = [strategy.experimental_local_results(t)[0] for t in out[:-1]]  # all replicas agree
        finite = tf.reduce_all(tf.stack(strategy.experimental_local_results(out[-1])))
        return (*first, finite)

    def train_step(self, x: np.ndarray) -> dict:
        """One optimisation step on images x (images_per_step of them). Returns the losses and P.

        Raises FloatingPointError when the loss or any weight is no longer finite.
        """
        step = int(self.step.numpy())
        seed = tf.constant([self.config.seed, step], dtype=tf.int64)
        alpha = tf.constant(self.config.alpha_at(step), dtype=tf.float32)
        alpha_over = tf.constant(self.config.alpha_at(step, over=True), dtype=tf.float32)
        with _onednn_bf16(self.precision == "bf16"):
            loss, loss_k, loss_over, losses, P, P_over, finite = self._train_step(
                tf.convert_to_tensor(x), seed, alpha, alpha_over)
        self.step.assign_add(1)
        out = {"loss": float(loss), "loss_k": float(loss_k), "loss_over": float(loss_over)}
        if not bool(finite):
            raise FloatingPointError(self._diverged_message(out["loss"], step + 1))
        self.history["step"].append(int(self.step.numpy()))
        for key, value in out.items():
            self.history[key].append(value)
        if self.config.num_subheads > 1:
            self.history.setdefault("subhead_losses", []).append(np.round(losses.numpy(), 5).tolist())
        out["P"] = P.numpy()  # (num_subheads, k, k), float32 (float64 in bf16 mode)
        out["P_over"] = P_over.numpy()  # (num_subheads, k_over, k_over)
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
        steps_per_epoch = max(1, n // per)
        epoch, i = divmod(step, steps_per_epoch)
        order = np.random.default_rng([self.config.seed, epoch]).permutation(n)
        return order[i * per:(i + 1) * per]

    # ------------------------------------------------------------------ fit
    def steps_per_epoch(self, n: int) -> int:
        """Steps in one pass over n images."""
        return max(1, n // self.config.images_per_step)

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
        checkpoint_dir: str | os.PathLike | None = None,
        callbacks: Sequence[Callback] = (),
        progress: bool = True,
        verbose: bool = True,
    ) -> dict:
        """Train on unlabelled images x until ``num_steps`` (total) or ``num_epochs`` more.

        x: (n, 28, 28[, 1]) uint8 or float in [0, 1]. Every ``eval_every``
        steps (default: once per epoch) and at the end, BatchNorm statistics
        are recalibrated on ``recalibrate_on`` training images
        (:func:`recalibrate_batchnorm`) and an evaluation record is added to
        ``history["evals"]`` -- with accuracy when ``y_eval`` is given (and,
        with ``track_raw_bn``, the accuracy before recalibration too). Each
        callback is then called as ``callback(trainer, record)``; with
        ``checkpoint_dir`` the trainer is saved there. A trainer that already
        ran continues from its current step. Returns the history.
        """
        x = _as_images(x)
        per_epoch = self.steps_per_epoch(len(x))
        start = int(self.step.numpy())
        if num_steps is None:
            if num_epochs is None:
                raise ValueError("give num_epochs or num_steps")
            num_steps = start + int(math.ceil(num_epochs * per_epoch))
        if num_steps < start:
            raise ValueError(f"num_steps ({num_steps}) is below the steps already done ({start})")
        eval_every = eval_every or per_epoch
        if y_eval is not None and x_eval is None:
            raise ValueError("y_eval needs x_eval: the images whose labels they are")
        from tqdm.auto import tqdm

        lock = _FolderLock(Path(checkpoint_dir)) if checkpoint_dir is not None else contextlib.nullcontext()
        with lock, _deferred_sigint() as interrupted:
            self.interrupted = False
            bar = tqdm(total=num_steps, initial=start, disable=not progress, unit="step",
                       dynamic_ncols=True, leave=True)
            t0 = time.perf_counter() - self.wall_time
            try:
                for step in range(start, num_steps):
                    try:
                        last = self.train_step(x[self._batch_indices(len(x), step)])
                    except FloatingPointError as e:
                        if checkpoint_dir is not None and IICTrainer.exists(checkpoint_dir):
                            raise FloatingPointError(
                                f"{e}; the last good checkpoint in {checkpoint_dir} is kept") from None
                        raise
                    bar.update(1)
                    bar.set_postfix(loss=f"{last['loss']:.3f}")
                    done = step + 1
                    self.wall_time = time.perf_counter() - t0
                    if done % eval_every == 0 or done == num_steps:
                        t_eval = time.perf_counter()
                        record = self._evaluate(x, x_eval, y_eval, last, per_epoch,
                                                recalibrate_on, track_raw_bn)
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

    def _diverged_message(self, loss: float, step: int) -> str:
        return (f"training diverged at step {step} (loss {loss}, weights or loss not finite): "
                "stopped before saving these weights, which are no longer usable. Check the "
                f"images for NaN/Inf or lower the learning rate (lr = {self.config.lr:g})")

    def _evaluate(self, x, x_eval, y_eval, last, per_epoch, recalibrate_on, track_raw_bn) -> dict:
        step = int(self.step.numpy())
        i, j = self.best_subheads()
        P = np.asarray(last["P"][i], dtype=np.float64)
        P_over = np.asarray(last["P_over"][j], dtype=np.float64)
        P, P_over = P / P.sum(), P_over / P_over.sum()
        record: dict = {
            "step": step,
            "subheads": [i, j],
            "epoch": step / per_epoch,
            "wall_time": round(self.wall_time, 3),
            "loss": self.history["loss"][-1],
            "loss_k": self.history["loss_k"][-1],
            "loss_over": self.history["loss_over"][-1],
            "alpha": self.config.alpha_at(step - 1),
            "mi": mutual_information(P),  # I(Z; Z') of the last batch, nats
            "mi_over": mutual_information(P_over),
            "H": entropy(P.sum(1)),  # H(Z): entropy of the marginal P_i, nats (max ln k)
            "H_over": entropy(P_over.sum(1)),
            "P": np.round(P, 6).tolist(),
        }
        if y_eval is not None and track_raw_bn:
            record["acc_raw_bn"] = evaluate(self.export_model(), x_eval, y_eval)["acc"]
        rng = np.random.default_rng([self.config.seed, step, 1])
        subset = rng.choice(len(x), size=min(recalibrate_on, len(x)), replace=False)
        recalibrate_batchnorm(self.model, x[np.sort(subset)])
        if y_eval is not None:
            record.update(evaluate(self.export_model(), x_eval, y_eval))
        self.history["evals"].append(record)
        return record

    def summary(self) -> str:
        """One short line: step, epochs, wall time, last loss and (if tracked) accuracy."""
        r = self.history["evals"][-1]
        text = (f"step {r['step']} ({r['epoch']:.2f} epochs, {r['wall_time'] / 60:.1f} min): "
                f"loss {r['loss']:.3f}")
        if "acc" in r:
            text += f", accuracy {100 * r['acc']:.1f} %, NMI {r['nmi']:.3f}"
        return text

    # ---------------------------------------------------------- checkpoints
    def _checkpoint(self) -> tf.train.Checkpoint:
        return tf.train.Checkpoint(model=self.model, optimizer=self.optimizer, step=self.step)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write weights, optimizer state, step, config and history to a folder.

        Safe against a kill at any moment: the checkpoint files get a new name
        (``ckpt-STEP-ID.*``), then ``state.json``, which names them, is
        replaced atomically, and only then are older checkpoint files removed.
        So the folder always holds one complete, consistent checkpoint. A
        folder that cannot be written raises ``OSError`` naming it.
        """
        directory = Path(directory)
        step = int(self.step.numpy())
        name = f"ckpt-{step}-{time.time_ns() % 10**12:012d}"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self._checkpoint().write(str(directory / name))
            _fault_point("save", directory)
            state = {"format": 2, "checkpoint": name, "step": step,
                     "config": self.config.to_dict(), "history": self.history,
                     "wall_time": self.wall_time, "eval_time": self.eval_time}
            atomic_write_text(directory / "state.json", json.dumps(state))
        except OSError as e:
            raise OSError(e.errno, f"could not write a checkpoint to {directory}: "
                          f"{e.strerror or e}. Free some space or choose another folder; the "
                          "previous checkpoint there, if any, is intact") from e
        for old in directory.glob("ckpt*"):
            if not old.name.startswith(name + "."):
                old.unlink(missing_ok=True)
        return directory

    @classmethod
    def restore(cls, directory: str | os.PathLike,
                strategy: tf.distribute.Strategy | None = None) -> "IICTrainer":
        """A trainer rebuilt from :meth:`save`'s folder; ``fit`` continues from its step.

        ``strategy``: train on under this tf.distribute strategy (a checkpoint
        does not depend on the strategy it was written under).

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
            state = json.loads(state_file.read_text())
            config = TrainConfig.from_dict(state["config"])
            history = state["history"]
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{state_file} is not a readable training state ({type(e).__name__}: "
                             f"{e}); the folder is damaged: delete it or choose another folder") from e
        name = state.get("checkpoint", "ckpt")  # "ckpt": folders written before format 2
        prefix = directory / name
        if not Path(f"{prefix}.index").is_file():
            raise ValueError(f"{state_file} names checkpoint {name!r}, but {prefix}.index is missing: "
                             "the folder is incomplete or mixed from two runs")
        trainer = cls(config, strategy=strategy)
        try:
            trainer._checkpoint().read(str(prefix)).assert_consumed()
        except Exception as e:  # OpError, IndexError ("read less bytes"), AssertionError, ...
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ValueError(f"checkpoint {prefix} could not be read ({type(e).__name__}: {first[:200]}); "
                             "it is truncated, damaged or of another network") from e
        expected = state.get("step", history["step"][-1] if history.get("step") else 0)
        if int(trainer.step.numpy()) != expected:
            raise ValueError(f"{directory} mixes two saves: state.json is at step {expected} but "
                             f"checkpoint {name!r} at step {int(trainer.step.numpy())}")
        trainer.history = history
        trainer.wall_time = state.get("wall_time", 0.0)
        trainer.eval_time = state.get("eval_time", 0.0)
        return trainer

    @staticmethod
    def exists(directory: str | os.PathLike) -> bool:
        """Whether ``directory`` holds a checkpoint written by :meth:`save`."""
        return (Path(directory) / "state.json").is_file()

