"""The clustering network: a conv + BatchNorm trunk with two softmax heads."""

from __future__ import annotations

import random
from contextlib import contextmanager
from typing import Iterator

import keras
from keras import layers

__all__ = ["create_model", "POOLINGS", "pooling_of", "cluster_head", "export_subheads", "load_weights",
           "head_names", "BatchNormalization", "INPUT_SHAPE"]

#: How the trunk's last feature map becomes the heads' input (``create_model(pooling=)``).
POOLINGS = ("gap", "flatten")

#: Images are float32 in [0, 1] with one channel.
INPUT_SHAPE = (28, 28, 1)


@keras.saving.register_keras_serializable(package="iic_tutorial")
class BatchNormalization(layers.BatchNormalization):
    """Keras ``BatchNormalization`` whose training pass runs TensorFlow's fused kernel.

    (It keeps the Keras class name on purpose: ``.weights.h5`` files address
    layers by class name, so weights saved from either layer load into the
    other.)

    The same layer, the same four weights (gamma, beta, moving mean and
    variance) and the same maths: in training mode
    ``y = gamma * (x - mean_B) / sqrt(var_B + epsilon) + beta`` with the batch
    mean and the (biased) batch variance over every axis but the channels,
    and ``moving <- momentum * moving + (1 - momentum) * batch``. Keras 3
    computes this from separate moments and elementwise ops; TensorFlow's
    ``FusedBatchNormV3`` (oneDNN on a CPU, cuDNN on a GPU) does it in one
    pass forwards and one backwards, which makes a whole training step of
    :func:`create_model` about 1.5x faster on a CPU (``benchmarks/step_speed.py``).
    Results agree with ``keras.layers.BatchNormalization`` to float32
    round-off (``tests/test_model.py``). Inference mode, masks, renorm and
    synchronised (cross-replica) statistics use the Keras code unchanged.
    """

    def call(self, inputs, training=None, mask=None):
        # renorm (Keras >= 3.14) and synchronized are read only where this Keras has them:
        # a release without the feature cannot have it switched on
        fusable = (training and self.trainable and mask is None
                   and not getattr(self, "renorm", False)
                   and not getattr(self, "synchronized", False) and self.scale and self.center
                   and keras.backend.backend() == "tensorflow"
                   and len(inputs.shape) == 4 and self.axis in (-1, 3))
        if not fusable:
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        x = tf.cast(inputs, "float32")
        y, mean, var = tf.compat.v1.nn.fused_batch_norm(
            x, tf.cast(self.gamma, "float32"), tf.cast(self.beta, "float32"),
            epsilon=self.epsilon, is_training=True)
        # the kernel returns the unbiased variance (n - 1 in the denominator);
        # Keras keeps the biased one in its moving average
        n = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), var.dtype)
        var = var * (n - 1.0) / n
        m = self.momentum
        self.moving_mean.assign(self.moving_mean * m + tf.cast(mean, self.moving_mean.dtype) * (1.0 - m))
        self.moving_variance.assign(
            self.moving_variance * m + tf.cast(var, self.moving_variance.dtype) * (1.0 - m))
        return tf.cast(y, self.compute_dtype)


def cluster_head(h: keras.KerasTensor, k: int, name: str) -> keras.KerasTensor:
    """A clustering head on features h (batch, d): Dense 128 -> 64 -> k with ReLU, then softmax.

    Returns (batch, k) probabilities over the k clusters; its layers are named
    ``{name}_dense1``, ``{name}_dense2`` and ``name``.
    """
    h = layers.Dense(128, activation="relu", name=f"{name}_dense1")(h)
    h = layers.Dense(64, activation="relu", name=f"{name}_dense2")(h)
    return layers.Dense(k, activation="softmax", name=name)(h)


def create_model(
    k: int = 10, k_over: int = 50, seed: int | None = None, num_subheads: int = 1,
    fused_batchnorm: bool = True, synchronized_batchnorm: bool = False, pooling: str = "gap",
) -> keras.Model:
    """The article's network with a k-cluster head and a k_over over-clustering head.

    Trunk: four 3x3 convolutions with 32, 64, 128 and 256 filters (same
    padding), each followed by BatchNorm and ReLU; 2x2 max-pooling after the
    first three (28 -> 14 -> 7 -> 3 pixels); global average pooling to a
    256-vector. Two separate heads on that shared vector, each Dense 128 ->
    64 -> softmax: ``Z`` with ``k`` clusters and ``Z_over`` with ``k_over``.

    Input: float32 images in [0, 1], shape ``(batch, 28, 28, 1)``.
    Output: ``[Z, Z_over]`` of shapes ``(batch, k)`` and ``(batch, k_over)``,
    each row a probability vector. ``seed`` makes the initial weights
    reproducible and leaves the process's random state as it was
    (:func:`_initial_weights_seeded`); a training run's network for seed s is
    ``create_model(..., seed=s)``.

    ``num_subheads = h > 1`` gives each head h independent copies (sub-heads,
    as in the official IIC code), all on the same trunk; the output is then
    ``[Z_1, ..., Z_h, Z_over_1, ..., Z_over_h]``. Training averages their
    losses; :func:`export_subheads` turns the chosen pair back into the
    two-output model above.

    ``fused_batchnorm`` (default True) builds the BatchNorm layers as
    :class:`BatchNormalization` of this module -- the same layer with a faster training
    pass; False gives plain ``keras.layers.BatchNormalization``, as the
    article's code has. Weights load into either. ``synchronized_batchnorm``
    makes BatchNorm use the statistics of the global batch when training
    under a ``tf.distribute`` strategy with several replicas (Keras's
    ``synchronized=True``; an all-reduce per layer), instead of each replica's
    own share of the batch.

    ``pooling`` is how the trunk's last map (batch, 3, 3, 256) becomes the
    heads' input: ``"gap"`` (the article's) averages it to 256 numbers, so the
    heads cannot tell *where* a stroke is; ``"flatten"`` keeps all 3 x 3 x 256
    = 2304, as the official IIC network (ClusterNet6c) does -- a crossed 7
    and a 2 differ mainly in where their horizontal stroke sits.
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}; got {pooling!r}")
    if not isinstance(num_subheads, int) or num_subheads < 1:
        raise ValueError(f"num_subheads must be an integer >= 1; got {num_subheads!r}")
    for name, value in (("k", k), ("k_over", k_over)):
        if not isinstance(value, int) or value < 2:
            raise ValueError(f"{name} must be an integer >= 2 (number of clusters); got {value!r}")
    with _initial_weights_seeded(seed):
        return _build(k, k_over, num_subheads, fused_batchnorm, synchronized_batchnorm, pooling)


@contextmanager
def _initial_weights_seeded(seed: int | None) -> Iterator[None]:
    """Layers built inside get the initial weights of ``seed``; afterwards Python's
    ``random`` is as it was, and nothing else was touched.

    Keras draws the seed of every initializer given none from Python's
    ``random`` (``keras.random.make_default_seed``), so seeding that alone fixes
    the weights -- the same weights ``keras.utils.set_random_seed(seed)`` gives,
    without also reseeding NumPy, TensorFlow and Keras's global generator for
    the rest of the program (``tests/test_model.py`` checks both on each stack).
    None: the weights of the process's current state, which advances.
    """
    if seed is None:
        yield
        return
    saved = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(saved)


def _build(k: int, k_over: int, num_subheads: int, fused_batchnorm: bool,
           synchronized_batchnorm: bool, pooling: str) -> keras.Model:
    """:func:`create_model`'s layers (its arguments already checked)."""
    batchnorm = BatchNormalization if fused_batchnorm else layers.BatchNormalization
    x = keras.Input(shape=INPUT_SHAPE, name="image")
    h = x
    for i, filters in enumerate((32, 64, 128, 256)):
        h = layers.Conv2D(filters, 3, padding="same", name=f"conv{i + 1}")(h)
        h = batchnorm(name=f"bn{i + 1}", synchronized=synchronized_batchnorm)(h)
        h = layers.ReLU(name=f"relu{i + 1}")(h)
        if i < 3:
            h = layers.MaxPooling2D(2, name=f"pool{i + 1}")(h)
    if pooling == "gap":
        h = layers.GlobalAveragePooling2D(name="gap")(h)
    else:
        h = layers.Flatten(name="flatten")(h)
    if num_subheads == 1:
        return keras.Model(x, [cluster_head(h, k, "Z"), cluster_head(h, k_over, "Z_over")], name="iic")
    heads = [cluster_head(h, k, f"Z_{i + 1}") for i in range(num_subheads)]
    heads += [cluster_head(h, k_over, f"Z_over_{i + 1}") for i in range(num_subheads)]
    return keras.Model(x, heads, name="iic")


def head_names(model: keras.Model) -> tuple[str, str]:
    """The names of the two outputs a network is scored by: its k-cluster and its over-clustering head.

    A :func:`create_model` network names its outputs after their layers:
    ``("Z", "Z_over")``, or with sub-heads the first of each, ``("Z_1",
    "Z_over_1")`` (:func:`export_subheads` makes the chosen pair a
    two-output network). Reading heads by name instead of by position keeps
    ``outputs[:2]`` from being two 10-cluster sub-heads. ValueError, naming
    the outputs, for a network without such heads.
    """
    names = list(model.output_names)
    for pair in (("Z", "Z_over"), ("Z_1", "Z_over_1")):
        if set(pair) <= set(names):
            return pair
    raise ValueError(f"expected a create_model network, whose outputs are named Z and Z_over (or "
                     f"Z_1..Z_h and Z_over_1..Z_over_h with sub-heads); got outputs {names}")


def pooling_of(model: keras.Model) -> str:
    """The ``pooling`` a :func:`create_model` network was built with: "flatten" or "gap"."""
    return "flatten" if any(layer.name == "flatten" for layer in model.layers) else "gap"


def export_subheads(model: keras.Model, i: int, j: int) -> keras.Model:
    """A two-output :func:`create_model` network holding model's trunk and sub-heads i and j.

    ``model`` has h sub-heads per head (outputs ``Z_1..Z_h, Z_over_1..Z_over_h``);
    ``i`` picks the k-cluster sub-head and ``j`` the over-clustering one
    (0-based). Weights are copied, so the result is independent of ``model``.
    """
    h = len(model.outputs) // 2
    if not (0 <= i < h and 0 <= j < h):
        raise ValueError(f"sub-head indices must lie in [0, {h}); got i={i}, j={j}")
    k, k_over = model.outputs[0].shape[-1], model.outputs[h].shape[-1]
    out = create_model(k, k_over, pooling=pooling_of(model))
    rename = {} if h == 1 else {"Z": f"Z_{i + 1}", "Z_over": f"Z_over_{j + 1}"}
    for layer in out.layers:
        if not layer.weights:
            continue
        name = layer.name
        for prefix in ("Z_over", "Z"):  # longest first: "Z_over_dense1" starts with "Z"
            if name == prefix or name.startswith(prefix + "_dense"):
                name = rename.get(prefix, prefix) + name[len(prefix):]
                break
        layer.set_weights(model.get_layer(name).get_weights())
    return out


def load_weights(model: keras.Model, path) -> keras.Model:
    """Load a ``.weights.h5`` file into ``model``, or raise a ValueError that says what is wrong.

    Keras alone answers a file that is not HDF5 with a raw h5py ``OSError``
    and weights of another architecture with a list of layer names; here
    both become one message naming the file and what was expected (a
    ``.weights.h5`` file saved from :func:`create_model` with the same ``k``,
    ``k_over`` and sub-heads). A missing file raises FileNotFoundError.
    Returns ``model``.
    """
    import os
    import warnings

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no weights file at {path}")
    expected = (f"a .weights.h5 file saved from a network like this one "
                f"({len(model.layers)} layers, outputs {[tuple(o.shape[1:]) for o in model.outputs]})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # Keras warns, then half-loads, on some mismatches
            model.load_weights(path)
    except OSError as e:
        raise ValueError(f"{path} is not a Keras weights file ({str(e).splitlines()[0]}); expected "
                         f"{expected}") from e
    except (ValueError, KeyError, UserWarning) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(f"{path} holds weights of another network ({first[:200]}); expected "
                         f"{expected}") from e
    return model
