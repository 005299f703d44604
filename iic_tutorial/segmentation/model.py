"""A small fully convolutional network with per-pixel softmax heads.

    x (64 x 64) -> conv 3x3, 16            64 x 64
                -> conv 3x3 stride 2, 32   32 x 32
                -> conv 3x3, 32, dilation 1, 2, 4, 1
                -> two 1x1 heads (k and k_over logits), bilinear x2 -> 64 x 64 -> softmax

Every conv is followed by BatchNorm and ReLU. No pooling: the only step below the input
resolution is the stride-2 conv, and the heads' logits are upsampled back, as the
official segmentation networks do (``F.interpolate`` of their output to the input size).
The dilated convs give each output pixel of the trunk a receptive field of 37 x 37 input
pixels (:data:`RECEPTIVE_FIELD`), enough to see a stroke's neighbourhood without pooling.
"""

from __future__ import annotations

import keras
from keras import layers

__all__ = ["create_segmentation_model", "RECEPTIVE_FIELD"]

#: Side of the input window one trunk output sees: 3 (c1), + 2 (c2, stride 2), then each
#: 3x3 conv of dilation d at stride 2 adds 2 * 2 * d: 5 + 4 * (1 + 2 + 4 + 1) = 37.
RECEPTIVE_FIELD = 3 + 2 + 4 * (1 + 2 + 4 + 1)


def _conv(x, filters: int, stride: int = 1, dilation: int = 1, name: str = ""):
    x = layers.Conv2D(filters, 3, strides=stride, dilation_rate=dilation, padding="same",
                      use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def create_segmentation_model(k: int = 2, k_over: int | None = 11, width: int = 32,
                              input_shape: tuple = (None, None, 1)) -> keras.Model:
    """A Keras model x (batch, H, W, 1) -> [z (batch, H, W, k), z_over (batch, H, W, k_over)].

    Per-pixel softmax outputs (each pixel's k values sum to 1). ``k_over=None``
    leaves out the second head (the model then returns one map). ``width``:
    channels of the trunk (the first conv has half). H and W must be even.
    """
    if k < 2 or (k_over is not None and k_over < 2):
        raise ValueError(f"a head needs at least 2 clusters; got k={k}, k_over={k_over}")
    x_in = keras.Input(shape=input_shape, name="x")
    h = _conv(x_in, width // 2, name="c1")
    h = _conv(h, width, stride=2, name="c2")
    for i, d in enumerate((1, 2, 4, 1)):
        h = _conv(h, width, dilation=d, name=f"d{i}")
    outputs = []
    for name, n in (("z", k), ("z_over", k_over)):
        if n is None:
            continue
        logits = layers.Conv2D(n, 1, name=f"{name}_logits")(h)
        logits = layers.UpSampling2D(2, interpolation="bilinear", name=f"{name}_up")(logits)
        outputs.append(layers.Softmax(axis=-1, name=name, dtype="float32")(logits))
    return keras.Model(x_in, outputs if len(outputs) > 1 else outputs[0], name="iic_seg")
