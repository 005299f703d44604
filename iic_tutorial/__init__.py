"""iic_tutorial: Invariant Information Clustering (Ji, Henriques & Vedaldi, 2019) on MNIST.

The importable companion of the iic-tutorial Jupyter Book. Submodules, one concept each:

- ``information``: entropy, joint distribution, marginals, mutual information (NumPy)
- ``losses``: the IIC loss in TensorFlow
- ``augment``: batched, seeded augmentations that make the pair (x, x')
- ``model``: ``create_model(k=10, k_over=50)``
- ``data``: ``load_mnist()``, online or offline
- ``recipes``: the named recipes, each a complete run (settings, length, cadence)
- ``experiments``: every experiment by name (a recipe, its changes, its seeds)
- ``training``: settings (``TrainConfig``), the train step, ``IICTrainer``, evaluation,
  checkpoints (``train`` is its old name and still works)
- ``metrics``: Hungarian accuracy, confusion matrix, NMI
- ``plots``, ``widgets``, ``toy``: the book's figures, controls and toy problem
- ``pretrained``: ``load_pretrained()``, the shipped model, the collected results
- ``runs``: a result's provenance, atomic writes, the scoreboard and step-speed tables
- ``files``, ``cpu``: atomic writes and the processor's features, leaves that training
  and the reports both use
- ``selection``: label-free scores that choose among trained runs without labels

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
    "information", "losses", "augment", "model", "data", "train", "training", "metrics",
    "plots", "widgets", "toy", "pretrained", "runs", "selection", "segmentation", "strokes",
    "recipes", "experiments", "files", "cpu",
}


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "load_pretrained":
        return importlib.import_module(f"{__name__}.pretrained").load_pretrained
    raise AttributeError(f"module 'iic_tutorial' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES | {"load_pretrained"})


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with the C++ start-up notices (CUDA probing, oneDNN) silenced.

    TF 2.21 prints them through absl before any log level applies, straight to file
    descriptor 2, so a notebook shows them under the first cell. They are hidden by
    pointing fd 2 at /dev/null during the import only; an import error is still raised.
    """
    import sys

    if "tensorflow" in sys.modules:
        return
    try:
        sys.stderr.flush()
        saved = _os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (some embedded interpreters)
        import tensorflow  # noqa: F401

        return
    devnull = _os.open(_os.devnull, _os.O_WRONLY)
    try:
        _os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        _os.dup2(saved, 2)
        _os.close(saved)
        _os.close(devnull)


def seed_everything(seed: int = 0) -> None:
    """Seed Python's ``random``, NumPy and TensorFlow (via ``keras.utils.set_random_seed``).

    Also imports TensorFlow without its start-up notices (the book's setup cell calls this).
    """
    _import_tensorflow_quietly()
    import keras

    keras.utils.set_random_seed(seed)
