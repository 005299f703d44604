"""An IIC train step written from the paper and Keras alone, to check the package's step against.

It shares with ``iic_tutorial.training.step`` only the views (``make_views``, tested on
their own in ``test_augment.py``) and the network's layers: the loss is the official
``IID_loss`` formula in float64, written out here, the heads and sub-heads are paired and
averaged by hand, the weight alpha and the learning rate follow the config's schedule, and
the network is a plain Keras-BatchNorm copy of the trainer's (``fused_batchnorm=False``),
updated by its own Adam. Agreement is at float tolerance, so it holds on any CPU.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from iic_tutorial.model import create_model
from iic_tutorial.training.step import make_views

EPS = float(np.finfo(np.float64).eps)  # the official code's clamp (sys.float_info.epsilon)


def iid_loss(z: tf.Tensor, z_prime: tf.Tensor, lamb: float) -> tf.Tensor:
    """The official IID_loss: -sum P (ln P - lamb ln P_j - lamb ln P_i), P symmetrised, float64."""
    z, z_prime = tf.cast(z, tf.float64), tf.cast(z_prime, tf.float64)
    P = tf.reduce_sum(z[:, :, None] * z_prime[:, None, :], axis=0)
    P = (P + tf.transpose(P)) / 2.0
    P = P / tf.reduce_sum(P)
    k = P.shape[0]
    P_i = tf.broadcast_to(tf.reduce_sum(P, axis=1)[:, None], (k, k))
    P_j = tf.broadcast_to(tf.reduce_sum(P, axis=0)[None, :], (k, k))
    P, P_i, P_j = (tf.maximum(t, EPS) for t in (P, P_i, P_j))
    return -tf.reduce_sum(P * (tf.math.log(P) - lamb * tf.math.log(P_j) - lamb * tf.math.log(P_i)))


class ReferenceStep:
    """The steps of ``config`` on a Keras-BatchNorm copy of ``model`` (same weights at the start)."""

    def __init__(self, config, model: keras.Model):
        self.config = config
        self.model = create_model(config.k, config.k_over, num_subheads=config.num_subheads,
                                  fused_batchnorm=False, pooling=config.pooling)
        self.model.set_weights(model.get_weights())
        self.optimizer = keras.optimizers.Adam(learning_rate=config.lr)
        self.optimizer.build(self.model.trainable_variables)

    def lr_at(self, step: int) -> float:
        """The rate of step ``step`` (0-based): lr, and lr / 10 after ``lr_drop_step`` steps."""
        c = self.config
        return c.lr / 10 if c.lr_drop_step and step > c.lr_drop_step else c.lr

    def __call__(self, x: np.ndarray, step: int) -> float:
        """One step on images x; returns the minimised loss (float64)."""
        c, h = self.config, self.config.num_subheads
        x_view, x_prime = make_views(c, tf.constant(x), tf.constant([c.seed, step], tf.int64))
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            outs = self.model(x_view, training=True)
            if c.view_x is None:  # x ran once per image: each output stands for its copies
                outs = [tf.repeat(o, c.copies, axis=0) for o in outs]
            outs_prime = self.model(x_prime, training=True)
            alpha, alpha_over = c.alpha_at(step), c.alpha_at(step, over=True)
            loss_k = tf.add_n([iid_loss(outs[i], outs_prime[i], alpha) for i in range(h)]) / h
            loss_over = tf.add_n([iid_loss(outs[h + i], outs_prime[h + i], alpha_over)
                                  for i in range(h)]) / h
            loss = (loss_k + loss_over) / 2.0 if c.over_clustering else loss_k
        grads = tape.gradient(loss, variables)
        self.optimizer.learning_rate.assign(self.lr_at(step))
        self.optimizer.apply_gradients([(g, v) for g, v in zip(grads, variables) if g is not None])
        return float(loss)


def compare(trainer, x: np.ndarray, steps: int, loss_atol: float, update_rtol: float) -> dict:
    """Run ``steps`` steps of ``trainer`` and of its :class:`ReferenceStep` side by side.

    Asserts every loss within ``loss_atol`` nats and the change of the
    weights within ``update_rtol`` of the reference's change (norm of the
    difference / norm of the change, over all trainable weights). Returns the
    largest differences found.
    """
    reference = ReferenceStep(trainer.config, trainer.model)
    start = [v.numpy().astype(np.float64) for v in trainer.model.trainable_variables]
    per = trainer.config.images_per_step
    worst = 0.0
    for s in range(steps):
        batch = x[s * per:(s + 1) * per]
        ours = trainer.train_step(batch)["loss"]
        theirs = reference(batch, s)
        worst = max(worst, abs(ours - theirs))
        assert abs(ours - theirs) <= loss_atol, (s, ours, theirs)
    ours_change = np.concatenate([(v.numpy() - w).ravel()
                                  for v, w in zip(trainer.model.trainable_variables, start)])
    ref_change = np.concatenate([(v.numpy() - w).ravel()
                                 for v, w in zip(reference.model.trainable_variables, start)])
    gap = float(np.linalg.norm(ours_change - ref_change) / np.linalg.norm(ref_change))
    assert gap <= update_rtol, gap
    return {"loss": worst, "update_rel": gap}
