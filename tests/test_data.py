import numpy as np
import pytest

from core import data as data_mod

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_shapes_dtypes_and_class_counts(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == TEST_COUNTS
    assert x_train.max() == 255 and x_train.min() == 0


def test_bundled_file_checksum():
    assert data_mod.file_sha256(data_mod.BUNDLED_PATH) == data_mod.BUNDLED_SHA256


def test_env_var_source_is_used_first(tmp_path, monkeypatch, mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    path = tmp_path / "other.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    monkeypatch.setenv(data_mod.ENV_VAR, str(path))
    data_mod.load_mnist()
    assert data_mod.last_source["source"].startswith(f"${data_mod.ENV_VAR}")


def test_corrupt_bundled_file_is_rejected_and_all_sources_named(tmp_path, monkeypatch):
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(b"not mnist")
    monkeypatch.setenv(data_mod.ENV_VAR, str(tmp_path / "missing.npz"))
    monkeypatch.setattr(data_mod, "BUNDLED_PATH", bad)
    import keras

    def offline():
        raise OSError("no network")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(data_mod.DataUnavailableError) as info:
        data_mod.load_mnist()
    message = str(info.value)
    assert data_mod.ENV_VAR in message
    assert "sha256" in message and "git checkout data/mnist.npz" in message
    assert "keras.datasets.mnist.load_data()" in message and "network" in message


def test_to_float_range_and_dtype(mnist):
    _, (x_test, _) = mnist
    x = data_mod.to_float(x_test[:10])
    assert x.dtype == np.float32 and x.shape == (10, 28, 28)
    assert x.min() == 0.0 and x.max() == 1.0
