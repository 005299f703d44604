"""Shared fixtures. Tests never touch the network: MNIST comes from the offline copy."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import importlib.util
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def read_pyproject() -> dict:
    """The checkout's pyproject.toml as a dict (tomllib from Python 3.11; tomli, pytest's own
    dependency, on 3.10)."""
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())


def load_benchmark(name: str):
    """benchmarks/NAME.py as a module (the benchmarks are scripts, not part of the package)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def mnist():
    """The real MNIST, as load_mnist returns it (cached after the first load)."""
    from iic_tutorial.data import load_mnist

    return load_mnist()


@pytest.fixture(scope="session")
def digits(mnist):
    """2000 test images as float32 (n, 28, 28, 1) in [0, 1] and their labels."""
    from iic_tutorial.data import to_float

    _, (x_test, y_test) = mnist
    return to_float(x_test[:2000]), y_test[:2000].astype(np.int64)
