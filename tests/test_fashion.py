"""Fashion-MNIST from Debian's dataset-fashion-mnist package (scripts/setup.sh installs it)."""

import gzip
import shutil

import numpy as np
import pytest

from core.data.fashion import CLASSES, DEBIAN_DIR, SHA256, load_fashion_mnist, read_idx
from core.data.images import DataUnavailableError


def test_the_installed_package_loads_with_its_checksums():
    data = load_fashion_mnist()
    assert data.x_train.shape == (60000, 28, 28) and data.x_test.shape == (10000, 28, 28)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.uint8
    # The authors' set is balanced: 6,000 training and 1,000 test images of each class.
    assert np.bincount(data.y_train).tolist() == [6000] * 10
    assert np.bincount(data.y_test).tolist() == [1000] * 10
    assert len(CLASSES) == 10 and data.x_train.max() == 255 and data.x_train.min() == 0
    assert str(DEBIAN_DIR) in data.source and len(data.sha256) == 64
    (fit_x, _), (val_x, _), (test_x, _) = data.splits()
    assert (len(fit_x), len(val_x), len(test_x)) == (55000, 5000, 10000) and fit_x.dtype == np.float32


def test_a_missing_package_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_FASHION_MNIST", str(tmp_path))
    with pytest.raises(DataUnavailableError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist()


def test_a_damaged_file_is_named(tmp_path, monkeypatch):
    for name in SHA256:
        shutil.copy(DEBIAN_DIR / name, tmp_path / name)
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(labels.read_bytes()))
    raw[-1] = (raw[-1] + 1) % 10  # one test label changed
    labels.write_bytes(gzip.compress(bytes(raw)))
    monkeypatch.setenv("DIGITLAB_FASHION_MNIST", str(tmp_path))
    with pytest.raises(DataUnavailableError, match="t10k-labels-idx1-ubyte.gz is damaged"):
        load_fashion_mnist()


def test_idx_files_are_checked_for_their_format(tmp_path):
    bad = tmp_path / "x.gz"
    bad.write_bytes(gzip.compress(b"\x00\x00\x0d\x01" + (3).to_bytes(4, "big") + b"abc"))
    with pytest.raises(ValueError, match="not an IDX file of unsigned bytes"):
        read_idx(bad)
    short = tmp_path / "y.gz"
    short.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + (5).to_bytes(4, "big") + b"abc"))
    with pytest.raises(ValueError, match="holds 3 bytes of data for a shape"):
        read_idx(short)
