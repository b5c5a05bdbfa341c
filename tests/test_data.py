import numpy as np
import pytest

from core.data import images, mnist as data_mod

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_shapes_dtypes_and_class_counts(mnist):
    x_train, y_train, x_test, y_test = mnist.x_train, mnist.y_train, mnist.x_test, mnist.y_test
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == TEST_COUNTS
    assert x_train.max() == 255 and x_train.min() == 0


def test_bundled_file_checksum():
    assert images.file_sha256(data_mod.BUNDLED_PATH) == data_mod.BUNDLED_SHA256


def test_bundled_source_travels_with_the_data(mnist):
    assert mnist.source == "bundled data/mnist.npz" and mnist.sha256 == data_mod.BUNDLED_SHA256


def test_env_var_source_is_used_first(tmp_path, monkeypatch, mnist):
    path = tmp_path / "other.npz"
    np.savez(path, x_train=mnist.x_train, y_train=mnist.y_train, x_test=mnist.x_test[::-1], y_test=mnist.y_test[::-1])
    monkeypatch.setenv(data_mod.ENV_VAR, str(path))
    loaded = data_mod.load_mnist()
    assert loaded.source == f"${data_mod.ENV_VAR} = {path}"
    assert loaded.sha256 == images.file_sha256(path) != data_mod.BUNDLED_SHA256
    assert np.array_equal(loaded.x_test, mnist.x_test[::-1])


def test_splits_are_55000_5000_10000_in_order(mnist):
    (x_fit, y_fit), (x_val, y_val), (x_test, y_test) = mnist.splits()
    assert (len(x_fit), len(x_val), len(x_test)) == (55000, 5000, 10000)
    assert x_fit.dtype == x_val.dtype == x_test.dtype == np.float32 and x_val.max() == 1.0
    assert np.array_equal(y_val, mnist.y_train[55000:]) and np.array_equal(y_test, mnist.y_test)
    assert np.array_equal(x_fit[0] * 255, mnist.x_train[0])


def test_corrupt_bundled_file_is_rejected_and_all_sources_named(tmp_path, monkeypatch):
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(b"not mnist")
    monkeypatch.setenv(data_mod.ENV_VAR, str(tmp_path / "missing.npz"))
    monkeypatch.setattr(data_mod, "BUNDLED_PATH", bad)
    import keras

    def offline():
        raise OSError("no network")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(images.DataUnavailableError) as info:
        data_mod.load_mnist()
    message = str(info.value)
    assert data_mod.ENV_VAR in message
    assert "sha256" in message and "git checkout data/mnist.npz" in message
    assert "keras.datasets.mnist.load_data()" in message and "network" in message


def test_to_float_range_and_dtype(mnist):
    x = images.to_float(mnist.x_test[:10])
    assert x.dtype == np.float32 and x.shape == (10, 28, 28)
    assert x.min() == 0.0 and x.max() == 1.0
