"""CIFAR-10, the course's other lab: 60,000 32x32 colour images of 10 classes
(Krizhevsky, 2009, "Learning multiple layers of features from tiny images").

It cannot be downloaded on the lab's own machine, so the loader reads a local copy of the
"CIFAR-10 python version" archive (``cifar-10-python.tar.gz``, or the folder
``cifar-10-batches-py`` it unpacks to) named by ``$DIGITLAB_CIFAR10``; without it, it
asks Keras to download the set, which works only where the network allows.

The archive's batches are Python pickles. A pickle can run code as it loads, so only the
types a CIFAR batch holds (dicts, lists, strings, numbers and numpy arrays) are accepted.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np

from core.data.images import DataUnavailableError, ImageSet, file_sha256

ENV_VAR = "DIGITLAB_CIFAR10"
FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
# The label names, in label order (batches.meta of the archive).
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"a CIFAR-10 batch holds no {module}.{name}")
        return super().find_class(module, name)


class Cifar10(ImageSet):
    """CIFAR-10 with its provenance, the fields and ``splits()`` of ``core.data.images.ImageSet``
    (the last 5,000 training images validate; images float32 in [0, 1]). ``x_train`` (N,
    32, 32, 3) and ``x_test`` (M, 32, 32, 3) uint8 RGB, 0-255; ``y_train`` (N,) and
    ``y_test`` (M,) uint8 labels 0-9 (names in ``CLASSES``). The full set has N = 50,000
    and M = 10,000. ``sha256`` is the archive's (or, for a folder, of its batch files'
    sha256s joined); None for a download."""


def _batch(raw: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch -> (n, 32, 32, 3) uint8 images, (n,) uint8 labels."""
    try:
        batch = _BatchUnpickler(io.BytesIO(raw), encoding="bytes").load()
        data, labels = np.asarray(batch[b"data"], np.uint8), np.asarray(batch[b"labels"])
    except Exception as exc:  # any malformed or foreign pickle
        raise DataUnavailableError(f"{name} is not a CIFAR-10 batch ({exc}).") from None
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data) or labels.min(initial=0) < 0 \
            or labels.max(initial=0) > 9:
        raise DataUnavailableError(f"{name} is not a CIFAR-10 batch (data {data.shape}, {len(labels)} labels).")
    # Each row holds the red, then green, then blue 32x32 plane.
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels.astype(np.uint8)


def _read(members: dict[str, bytes], source: str, sha256: str | None) -> Cifar10:
    missing = [n for n in (*TRAIN_BATCHES, TEST_BATCH) if n not in members]
    if missing:
        raise DataUnavailableError(f"{source} lacks {', '.join(missing)}: it is not the CIFAR-10 python archive.")
    train = [_batch(members[n], n) for n in TRAIN_BATCHES]
    x_test, y_test = _batch(members[TEST_BATCH], TEST_BATCH)
    return Cifar10(np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), x_test, y_test,
                   source=source, sha256=sha256)


def load_cifar10() -> Cifar10:
    """Load CIFAR-10 from ``$DIGITLAB_CIFAR10`` (the .tar.gz or its unpacked folder),
    else with ``keras.datasets.cifar10.load_data()`` (a download).

    Raises:
        DataUnavailableError: one sentence: the path is missing, the archive is not the
            CIFAR-10 python version (a batch missing or malformed, a pickle holding
            anything but arrays and labels), or the download failed.
    """
    path = os.environ.get(ENV_VAR)
    if path:
        path = Path(path)
        if path.is_dir():
            folder = path / FOLDER if (path / FOLDER).is_dir() else path
            names = [*TRAIN_BATCHES, TEST_BATCH]
            members = {n: (folder / n).read_bytes() for n in names if (folder / n).is_file()}
            digest = hashlib.sha256("".join(file_sha256(folder / n) for n in members).encode()).hexdigest()
            return _read(members, f"${ENV_VAR} = {folder}", digest)
        if path.is_file():
            try:
                with tarfile.open(path, "r:gz") as archive:
                    members = {Path(m.name).name: archive.extractfile(m).read() for m in archive.getmembers()
                               if m.isfile() and Path(m.name).parent.name == FOLDER}
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise DataUnavailableError(f"${ENV_VAR} = {path} is not a readable .tar.gz ({exc}).") from None
            return _read(members, f"${ENV_VAR} = {path}", file_sha256(path))
        raise DataUnavailableError(f"${ENV_VAR} = {path} does not exist: point it at cifar-10-python.tar.gz "
                                   "or the cifar-10-batches-py folder.")
    try:
        import keras

        (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    except Exception as exc:
        raise DataUnavailableError(
            f"CIFAR-10 could not be downloaded ({type(exc).__name__}): set ${ENV_VAR} to a local copy of "
            "cifar-10-python.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html).") from None
    return Cifar10(x_train, y_train.ravel().astype(np.uint8), x_test, y_test.ravel().astype(np.uint8),
                   source="keras.datasets.cifar10.load_data() (downloaded)", sha256=None)


def available() -> bool:
    """Whether a local copy is configured (``$DIGITLAB_CIFAR10`` names an existing path);
    the app offers CIFAR-10 only then, since this machine cannot download it."""
    path = os.environ.get(ENV_VAR)
    return bool(path) and Path(path).exists()
