"""iic_tutorial: Invariant Information Clustering (Ji, Henriques & Vedaldi, 2019) on MNIST.

The importable companion of the iic-tutorial Jupyter Book. Submodules, one concept each:

- ``information``: entropy, joint distribution, marginals, mutual information (NumPy)
- ``losses``: the IIC loss in TensorFlow
- ``augment``: batched, seeded augmentations that make the pair (x, x')
- ``model``: ``create_model(k=10, k_over=50)``
- ``data``: ``load_mnist()``, online or offline
- ``train``: recipes, the trainer, BatchNorm-aware evaluation
- ``metrics``: Hungarian accuracy, confusion matrix, NMI
- ``plots``, ``widgets``, ``toy``: the book's figures, controls and toy problem
- ``pretrained``: ``load_pretrained()``, the shipped model

Submodules load on first use (``iic_tutorial.information``), so importing the package
is quick and TensorFlow is only imported when a submodule needs it.
"""

from __future__ import annotations

import importlib
import os as _os

# TensorFlow's C++ start-up chatter is noise for readers; respect a level the user chose.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"

_SUBMODULES = {
    "information", "losses", "augment", "model", "data", "train", "metrics",
    "plots", "widgets", "toy", "pretrained",
}


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "load_pretrained":
        return importlib.import_module(f"{__name__}.pretrained").load_pretrained
    raise AttributeError(f"module 'iic_tutorial' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES | {"load_pretrained"})


def seed_everything(seed: int = 0) -> None:
    """Seed Python's ``random``, NumPy and TensorFlow (via ``keras.utils.set_random_seed``)."""
    import keras

    keras.utils.set_random_seed(seed)
