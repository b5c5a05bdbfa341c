"""CIFAR-10 from a local copy of its python archive, tested on a small archive of the same
layout made here (the real one cannot be downloaded on this machine)."""

import io
import pickle
import tarfile

import numpy as np
import pytest

from core.data.cifar import CLASSES, available, load_cifar10
from core.data.images import DataUnavailableError


def batch(rng, n: int) -> tuple[bytes, np.ndarray, np.ndarray]:
    """A pickled batch as the archive holds it: bytes keys, (n, 3072) uint8 rows of the
    red, green and blue planes, labels as a list; protocol 2 as the Python 2 original."""
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, n)
    rows = images.transpose(0, 3, 1, 2).reshape(n, 3072)
    payload = {b"batch_label": b"test", b"labels": labels.tolist(), b"data": rows,
               b"filenames": [b"x.png"] * n}
    return pickle.dumps(payload, protocol=2), images, labels


@pytest.fixture
def archive(tmp_path):
    """cifar-10-python.tar.gz with five training batches of 6 images and a test batch of 4."""
    rng = np.random.default_rng(0)
    parts = {f"data_batch_{i}": batch(rng, 6) for i in range(1, 6)} | {"test_batch": batch(rng, 4)}
    path = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, (raw, _, _) in parts.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return path, parts


def test_the_archive_and_its_folder_read_the_same(archive, tmp_path, monkeypatch):
    path, parts = archive
    monkeypatch.setenv("DIGITLAB_CIFAR10", str(path))
    assert available()
    data = load_cifar10()
    assert data.x_train.shape == (30, 32, 32, 3) and data.x_test.shape == (4, 32, 32, 3)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.uint8
    # The rows' colour planes come back as (32, 32, 3) images, in batch order.
    np.testing.assert_array_equal(data.x_train[:6], parts["data_batch_1"][1])
    np.testing.assert_array_equal(data.x_test, parts["test_batch"][1])
    np.testing.assert_array_equal(data.y_train[-6:], parts["data_batch_5"][2])
    assert len(data.sha256) == 64 and str(path) in data.source and len(CLASSES) == 10

    with tarfile.open(path) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    monkeypatch.setenv("DIGITLAB_CIFAR10", str(tmp_path / "unpacked"))
    folder = load_cifar10()
    np.testing.assert_array_equal(folder.x_train, data.x_train)
    np.testing.assert_array_equal(folder.y_test, data.y_test)


def test_a_missing_path_says_what_to_point_at(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_CIFAR10", str(tmp_path / "nowhere.tar.gz"))
    assert not available()
    with pytest.raises(DataUnavailableError, match="cifar-10-python.tar.gz"):
        load_cifar10()


def test_an_archive_without_its_batches_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "other.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/readme.html")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    monkeypatch.setenv("DIGITLAB_CIFAR10", str(path))
    with pytest.raises(DataUnavailableError, match="lacks data_batch_1"):
        load_cifar10()


class Boom:
    def __reduce__(self):
        import os
        return (os.system, ("echo pwned > /dev/null",))


def test_a_pickle_holding_anything_but_arrays_is_refused(archive, tmp_path, monkeypatch):
    _, parts = archive
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name, (raw, _, _) in parts.items():
        (folder / name).write_bytes(raw)
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": Boom(), b"labels": []}, protocol=2))
    monkeypatch.setenv("DIGITLAB_CIFAR10", str(tmp_path))
    with pytest.raises(DataUnavailableError, match="test_batch is not a CIFAR-10 batch .*no posix.system"):
        load_cifar10()


def test_your_own_network_trains_on_a_cifar_archive_end_to_end(tmp_path, monkeypatch):
    """CIFAR-10 appears in the lab only with its data: then a custom stack trains on
    32x32x3 images through the one training path. 1,040 images per training batch, so
    the last 5,000 still validate and 200 train."""
    from core.data import registry as datasets
    from core.config import TrainConfig
    from core.training.run import train

    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name, n in [*((f"data_batch_{i}", 1040) for i in range(1, 6)), ("test_batch", 50)]:
        (folder / name).write_bytes(batch(rng, n)[0])
    monkeypatch.delenv("DIGITLAB_CIFAR10", raising=False)
    assert not datasets.available("cifar10")
    monkeypatch.setenv("DIGITLAB_CIFAR10", str(folder))
    assert datasets.available("cifar10")
    config = TrainConfig("custom", epochs=1, batch_size=50, train_size=200, dataset="cifar10",
                         layers=(("conv2d", 4, 3, "relu"), ("maxpool",), ("dense", 8, "relu")))
    config.validate()
    result = train(config)
    assert result.model.input_shape == (None, 32, 32, 3)
    assert result.metrics["dataset"] == "cifar10" and len(result.history["val_accuracy"]) == 1
    assert 0.0 <= result.metrics["test_accuracy"] <= 1.0
