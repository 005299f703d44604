"""The IIC train step: views in the graph, both heads, P of the global batch, one Adam update.

One step, written once, used by the trainer (:class:`~iic_tutorial.training.IICTrainer`),
by ``benchmarks/head_restarts.py`` (fresh heads on a frozen trunk: :func:`make_views` and
:func:`head_losses`) and, through :meth:`IICStep.distributed`, on the replicas of any
``tf.distribute.Strategy``.
"""

from __future__ import annotations

import contextlib
import functools
import os
from typing import Callable, NamedTuple, Sequence

import keras
import numpy as np
import tensorflow as tf

from ..augment import compose
from ..losses import (BF16_ROW_SUM_TOLERANCE, ROW_SUM_TOLERANCE, check_probabilities,
                      iic_loss_of_joint, joint_counts, joint_from_counts, self_label_loss)
from ..cpu import BF16_FLAGS, cpu_flags
from .config import TrainConfig, _check_precision

__all__ = ["IICStep", "StepResult", "make_views", "head_losses", "resolve_precision",
           "bf16_runs_here", "onednn_bf16"]


def _isa_cap() -> str:
    """What ``ONEDNN_MAX_CPU_ISA`` lets oneDNN use: "bf16", "avx512" or "below-avx512" ("" if unset).

    The variable makes oneDNN behave like a lower CPU (``AVX2``, ``AVX512_CORE``,
    ``AVX512_CORE_BF16``, ...); the checks below follow it, so a test run with it
    on a higher CPU takes the lower CPU's path.
    """
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper()
    if isa in ("", "ALL", "DEFAULT"):
        return ""
    if any(word in isa for word in ("BF16", "AMX", "FP16", "AVX10")):
        return "bf16"
    return "avx512" if "AVX512" in isa else "below-avx512"


def _cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AMX or AVX-512-BF16 flags, Linux).

    False when ``ONEDNN_MAX_CPU_ISA`` caps oneDNN below the bfloat16 instructions.
    """
    return bool(BF16_FLAGS.keys() & cpu_flags()) and _isa_cap() in ("", "bf16")


@functools.lru_cache(maxsize=None)
def bf16_runs_here() -> bool:
    """Whether the oneDNN bfloat16 rewrite (:func:`onednn_bf16`) really changes the numerics here.

    A feature test, not a version or flag test: a 64 x 64 float32 matmul in a
    fresh ``tf.function`` under the rewrite is compared with the same matmul
    without it. bfloat16 keeps 8 significant bits, so where the rewrite ran
    the two differ by ~1e-3 relative; where TensorFlow leaves the graph alone
    (no oneDNN, ``TF_ENABLE_ONEDNN_OPTS=0``, a CPU without AVX-512, a GPU)
    they are equal. Measured once per process.
    """
    if tf.config.list_physical_devices("GPU"):
        return False  # the rewrite is oneDNN's, for CPUs; a GPU step would not take it
    flags = cpu_flags()
    if (flags and "avx512f" not in flags) or _isa_cap() == "below-avx512":
        # TensorFlow rewrites only on AVX-512 CPUs; under an emulated lower ISA it would
        # rewrite (it reads the real CPU) and oneDNN would then abort the process
        return False
    rng = np.random.default_rng(0)
    a = tf.constant(rng.normal(size=(64, 64)).astype(np.float32))
    b = tf.constant(rng.normal(size=(64, 64)).astype(np.float32))
    exact = (a.numpy().astype(np.float64) @ b.numpy().astype(np.float64))
    with onednn_bf16(True):
        rewritten = tf.function(lambda a, b: tf.matmul(a, b))(a, b).numpy()
    return bool(np.abs(rewritten - exact).max() > 1e-4 * np.abs(exact).max())


def resolve_precision(precision: str) -> str:
    """The mode a setting means on this machine, ``"fp32"`` or ``"bf16"`` -- what will run.

    ``"auto"`` is ``"bf16"`` on a CPU with bfloat16 hardware (AMX or
    AVX-512-BF16) where the oneDNN rewrite really runs (:func:`bf16_runs_here`)
    and no GPU is visible, and ``"fp32"`` everywhere else (GPUs: no
    mixed-precision path has been measured by this project). ``"bf16"`` where
    the rewrite would not run raises ValueError: the step would run fp32 and
    its result would record a setting that did not happen.
    """
    _check_precision(precision)
    if precision == "fp32":
        return precision
    if tf.config.list_physical_devices("GPU"):
        if precision == "bf16":
            raise ValueError("precision='bf16' is oneDNN's bfloat16 rewrite for CPUs; on a GPU "
                             "this project trains in fp32: use precision='fp32' or 'auto'")
        return "fp32"
    if precision == "bf16":
        if not bf16_runs_here():
            raise ValueError("precision='bf16' does not run on this machine: TensorFlow's oneDNN "
                             "bfloat16 rewrite leaves the graph in float32 here (it needs a CPU "
                             "with AVX-512 and TF_ENABLE_ONEDNN_OPTS not 0), so the run would be "
                             "fp32 recorded as bf16; use precision='fp32' or 'auto'")
        return precision
    return "bf16" if _cpu_has_bf16() and bf16_runs_here() else "fp32"


@contextlib.contextmanager
def onednn_bf16(on: bool):
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


_onednn_bf16 = onednn_bf16  # the name before the training package


def make_views(config: TrainConfig, x: tf.Tensor, seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(x_view, x_prime) for a step's images x (m, 28, 28, 1), made in the graph.

    x_prime: ``config.copies`` views of each image by ``config.view`` (m *
    copies, image-major); x_view: x itself when ``config.view_x`` is None
    (its forward pass then runs once per image), else ``copies`` views of x
    by ``view_x``. ``seed``: a stateless (2,) int64 seed; the step's is
    ``(config.seed, step)``.
    """
    seeds = tf.random.experimental.stateless_split(seed, num=2)
    x_rep = tf.repeat(x, config.copies, axis=0)
    x_prime = compose(x_rep, config.view, seeds[1])
    x_view = x if config.view_x is None else compose(x_rep, config.view_x, seeds[0])
    return x_view, x_prime


def head_losses(z_all: Sequence[tf.Tensor], z_prime_all: Sequence[tf.Tensor],
                alphas: Sequence[tf.Tensor | float], precision: str = "fp32",
                validate: bool = False,
                reduce_counts: Callable[[tf.Tensor], tf.Tensor] = lambda C: C,
                ) -> tuple[tf.Tensor, list[tf.Tensor]]:
    """The IIC loss of every head from its outputs: ``(losses (heads,) float32, joints)``.

    z_all[h], z_prime_all[h]: (n, k_h) softmax outputs of head h for the
    pairs (x, x'), row b of one paired with row b of the other; alphas[h]:
    its marginal-entropy weight. Head h's (k_h, k_h) counts
    ``sum_b outer(z_b, z'_b)`` pass through ``reduce_counts`` before they
    become P (symmetrised, normalised): the identity on one device, an
    all-reduce (sum) over a strategy's replicas, so P -- and the loss -- are
    those of the global batch. ``precision="bf16"``: the outputs came from the
    bf16 network, P and the loss are taken in float64 (the graph rewrite would
    round the matmul inside P to bfloat16, 0.4 % off, measured; it leaves
    float64 alone) and ``validate`` allows rows to sum to 1 within 1e-2.
    """
    tolerance = ROW_SUM_TOLERANCE
    if precision == "bf16":
        z_all = [tf.cast(z, tf.float64) for z in z_all]
        z_prime_all = [tf.cast(z, tf.float64) for z in z_prime_all]
        tolerance = BF16_ROW_SUM_TOLERANCE
    if validate:
        for z, z_prime in zip(z_all, z_prime_all):
            check_probabilities(z, "z", tolerance)
            check_probabilities(z_prime, "z_prime", tolerance)
    joints = [joint_from_counts(reduce_counts(joint_counts(z, zp)))
              for z, zp in zip(z_all, z_prime_all)]
    losses = tf.stack([tf.cast(iic_loss_of_joint(P, a), tf.float32)
                       for P, a in zip(joints, alphas)])
    return losses, joints


class StepResult(NamedTuple):
    """What one train step returns (tensors).

    loss: the minimised loss (mean of both heads' losses, or the 10-cluster head's; with
    self-labelling on, plus its weighted cross-entropy);
    loss_k, loss_over: each head's loss, the mean over its sub-heads;
    losses: every sub-head's loss (2 h,), 10-cluster heads first; P, P_over: the
    sub-heads' joints, (h, k, k) and (h, k_over, k_over); finite: whether
    the loss and every weight are still finite after the update.
    """

    loss: tf.Tensor
    loss_k: tf.Tensor
    loss_over: tf.Tensor
    losses: tf.Tensor
    P: tf.Tensor
    P_over: tf.Tensor
    finite: tf.Tensor


class IICStep:
    """The train step of a :class:`TrainConfig` for a model and its optimizer.

    ``step(x, s)`` runs step number s on images x (images_per_step of them,
    float32 (m, 28, 28, 1)) and returns a :class:`StepResult`: the views of
    step s (seeded by ``(config.seed, s)``), both heads, their IIC losses
    with the weights ``config.alpha_at(s)``, one Adam update. On a strategy
    with more than one replica :meth:`distributed` runs instead of
    :meth:`single_device`; both give the same loss and update (tested).
    """

    def __init__(self, config: TrainConfig, model: keras.Model, optimizer: keras.optimizers.Optimizer,
                 strategy: tf.distribute.Strategy | None = None):
        self.config, self.model, self.optimizer = config, model, optimizer
        self.strategy = strategy or tf.distribute.get_strategy()
        self.precision = resolve_precision(config.precision)  # what "auto" means on this machine
        replicas = self.strategy.num_replicas_in_sync
        if replicas > 1 and config.images_per_step % replicas:
            raise ValueError(f"images per step ({config.images_per_step}) must be a multiple of the "
                             f"{replicas} replicas of the strategy")
        fn = self.single_device if replicas == 1 else self.distributed
        self._compiled = tf.function(fn, reduce_retracing=True)

    def __call__(self, x, step: int) -> StepResult:
        c = self.config
        seed = tf.constant([c.seed, step], dtype=tf.int64)
        alpha = tf.constant(c.alpha_at(step), dtype=tf.float32)
        alpha_over = tf.constant(c.alpha_at(step, over=True), dtype=tf.float32)
        with onednn_bf16(self.precision == "bf16"):
            return StepResult(*self._compiled(tf.convert_to_tensor(x), seed, alpha, alpha_over))

    # ------------------------------------------------------------ pieces
    def losses(self, x_view: tf.Tensor, x_prime: tf.Tensor, alpha: tf.Tensor,
               alpha_over: tf.Tensor, reduce_counts: Callable[[tf.Tensor], tf.Tensor] = lambda C: C,
               p_float64: bool | None = None):
        """Both heads' outputs and IIC losses for a batch of views (inside a GradientTape).

        Returns ``(loss, loss_k, loss_over, losses, joints)``: the loss to
        minimise (mean of the two heads' losses, or the 10-cluster head's alone; with
        ``config.self_label`` > 0 plus that weight times self-labelling's cross-entropy,
        :func:`~iic_tutorial.losses.self_label_loss`, the mean over the 10-cluster
        sub-heads, the outputs for x labelling those for its views; under a strategy each
        replica's mean over its own sure images, which is the global batch's when the
        replicas hold as many), each
        head's mean over its sub-heads, every sub-head's loss (2 h,) and their
        joints P (:func:`head_losses`). ``p_float64``: take P and the loss in
        float64; None (training) does so exactly when the step runs in bf16. The
        other choice is for measuring what P's precision changes
        (``benchmarks/precision_gradients.py``).
        """
        c = self.config
        h = c.num_subheads
        if c.view_x is None:  # x ran once per image: repeat its outputs to pair them with x'
            z_all = [tf.repeat(z, c.copies, axis=0) for z in self.model(x_view, training=True)]
        else:
            z_all = self.model(x_view, training=True)
        z_prime_all = self.model(x_prime, training=True)
        precision = self.precision if p_float64 is None else ("bf16" if p_float64 else "fp32")
        losses, joints = head_losses(z_all, z_prime_all, [alpha] * h + [alpha_over] * h,
                                     precision, c.validate_inputs, reduce_counts)
        loss_k, loss_over = tf.reduce_mean(losses[:h]), tf.reduce_mean(losses[h:])
        loss = (loss_k + loss_over) / 2.0 if c.over_clustering else loss_k
        if c.self_label > 0:  # SCAN's last step, on each 10-cluster sub-head: (x, x') as (weak, strong)
            wide = tf.float64 if precision == "bf16" else tf.float32
            labelled = [self_label_loss(tf.cast(z, wide), tf.cast(zp, wide), c.self_label_threshold)
                        for z, zp in zip(z_all[:h], z_prime_all[:h])]
            loss += c.self_label * tf.cast(tf.reduce_mean(tf.stack(labelled)), loss.dtype)
        return loss, loss_k, loss_over, losses, joints

    def apply(self, tape: tf.GradientTape, objective: tf.Tensor, loss: tf.Tensor) -> tf.Tensor:
        """One Adam update along the gradient of ``objective``; returns whether all is finite.

        A NaN can hide from the loss (ReLU and max-pooling drop it) but not
        from the weights, so the flag checks the loss and every weight.
        """
        variables = self.model.trainable_variables
        grads = tape.gradient(objective, variables)
        self.optimizer.apply_gradients([(g, v) for g, v in zip(grads, variables) if g is not None])
        return tf.reduce_all([tf.reduce_all(tf.math.is_finite(v)) for v in variables]
                             + [tf.math.is_finite(loss)])

    # ------------------------------------------------------------- steps
    def single_device(self, x: tf.Tensor, seed: tf.Tensor, alpha: tf.Tensor,
                      alpha_over: tf.Tensor):
        """The train step on one device: the views x', both heads, the IIC losses, one Adam update."""
        h = self.config.num_subheads
        x_view, x_prime = make_views(self.config, x, seed)
        with tf.GradientTape() as tape:
            loss, loss_k, loss_over, losses, joints = self.losses(
                x_view, x_prime, alpha, alpha_over, reduce_counts=lambda C: C)
        finite = self.apply(tape, loss, loss)
        return loss, loss_k, loss_over, losses, tf.stack(joints[:h]), tf.stack(joints[h:]), finite

    def distributed(self, x: tf.Tensor, seed: tf.Tensor, alpha: tf.Tensor, alpha_over: tf.Tensor):
        """:meth:`single_device` on the replicas of a strategy, with the loss of the GLOBAL batch.

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
        batch statistics unless ``config.synchronized_batchnorm`` is on.)
        """
        strategy, h = self.strategy, self.config.num_subheads
        n = strategy.num_replicas_in_sync
        x_view, x_prime = make_views(self.config, x, seed)

        def replica(x_view, x_prime, alpha, alpha_over):
            ctx = tf.distribute.get_replica_context()
            r = ctx.replica_id_in_sync_group

            def share(t):
                m = tf.shape(t)[0] // n
                return t[r * m:(r + 1) * m]

            with tf.GradientTape() as tape:
                loss, loss_k, loss_over, losses, joints = self.losses(
                    share(x_view), share(x_prime), alpha, alpha_over,
                    reduce_counts=lambda C: ctx.all_reduce(tf.distribute.ReduceOp.SUM, C))
                objective = loss / n  # inside the tape: it is what gets differentiated
            finite = self.apply(tape, objective, loss)
            return loss, loss_k, loss_over, losses, tf.stack(joints[:h]), tf.stack(joints[h:]), finite

        out = strategy.run(replica, args=(x_view, x_prime, alpha, alpha_over))
        first = [strategy.experimental_local_results(t)[0] for t in out[:-1]]  # all replicas agree
        finite = tf.reduce_all(tf.stack(strategy.experimental_local_results(out[-1])))
        return (*first, finite)
