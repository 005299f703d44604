"""The trained model shipped with the package, selected without labels."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import keras

from .model import create_model

__all__ = ["load_pretrained", "pretrained_info", "WEIGHTS_NAME"]

WEIGHTS_NAME = "iic_mnist.weights.h5"


def _folder() -> Path:
    return Path(str(resources.files("iic_tutorial") / "pretrained"))


def pretrained_info() -> dict:
    """Provenance of the shipped weights: command, seed, revision, hardware, accuracy.

    Read from ``iic_tutorial/pretrained/iic_mnist.json``, written by
    ``benchmarks/ship_model.py`` from a real run.
    """
    path = _folder() / "iic_mnist.json"
    if not path.is_file():
        raise FileNotFoundError(f"no provenance file at {path}; this install ships no trained model")
    return json.loads(path.read_text())


def load_pretrained() -> keras.Model:
    """The shipped IIC model (weights inside the package, a few MB).

    Returns a :func:`iic_tutorial.model.create_model` network whose BatchNorm
    statistics were recalibrated before saving, so it is meant to be used in
    inference mode: ``model(x, training=False)`` on float32 images in [0, 1]
    of shape ``(batch, 28, 28, 1)`` returns ``[Z (batch, 10), Z_over
    (batch, 50)]``. The accuracy it reaches is in :func:`pretrained_info`.
    """
    path = _folder() / WEIGHTS_NAME
    if not path.is_file():
        raise FileNotFoundError(
            f"no shipped weights at {path}; reinstall iic-tutorial, or train your own with "
            "`python -m iic_tutorial train --out DIR`"
        )
    info = pretrained_info()
    model = create_model(k=info.get("k", 10), k_over=info.get("k_over", 50))
    model.load_weights(str(path))
    return model
