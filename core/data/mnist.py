"""MNIST loading: one place that knows where the digits come from.

MNIST (Yann LeCun, Corinna Cortes, Christopher J.C. Burges) is available under
CC BY-SA 3.0. The repository ships a copy in ``data/mnist.npz`` so a fresh clone
runs offline.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.paths import ROOT

BUNDLED_PATH = ROOT / "data" / "mnist.npz"
ENV_VAR = "DIGITLAB_MNIST"
# sha256 of the bundled file, from ../shared/data/README.md (not Keras' own file hash:
# the bytes differ although every pixel and label agrees).
BUNDLED_SHA256 = "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"

_SHAPES = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}

class DataUnavailableError(RuntimeError):
    """No MNIST source worked; the message names every source tried and its fix."""


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Mnist:
    """MNIST with its provenance: where the arrays were read and the file's sha256.

    ``x_train`` (60000, 28, 28) and ``x_test`` (10000, 28, 28) are uint8, 0 (paper) to
    255 (ink); ``y_train`` (60000,) and ``y_test`` (10000,) uint8 labels 0-9.
    ``sha256`` is None for a download, whose bytes were not kept.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    sha256: str | None

    def splits(self):
        """``(x_fit, y_fit), (x_val, y_val), (x_test, y_test)``: the first 55,000
        training digits, the last 5,000 (validation: every choice is made on them) and
        the 10,000 test digits (for the final report only); images float32 in [0, 1]."""
        fit, validation = validation_split(to_float(self.x_train), self.y_train)
        return fit, validation, (to_float(self.x_test), self.y_test)


def _read_npz(path: Path):
    with np.load(path) as f:
        arrays = {key: f[key] for key in _SHAPES}
    for key, shape in _SHAPES.items():
        if arrays[key].shape != shape or arrays[key].dtype != np.uint8:
            raise ValueError(
                f"{path}: {key} has shape {arrays[key].shape} and dtype "
                f"{arrays[key].dtype}, expected {shape} uint8"
            )
    return arrays


def load_mnist() -> Mnist:
    """Load MNIST, with where it came from.

    Returns a ``Mnist``: uint8 arrays of shapes (60000, 28, 28), (60000,),
    (10000, 28, 28), (10000,); pixels 0 (background) to 255 (ink), labels 0-9; and
    its ``source`` and ``sha256``.

    Sources, tried in order:
      1. the file named by the environment variable ``DIGITLAB_MNIST`` (an .npz with
         keys x_train, y_train, x_test, y_test);
      2. the bundled ``data/mnist.npz``, whose sha256 must equal ``BUNDLED_SHA256``;
      3. ``keras.datasets.mnist.load_data()``, which downloads (needs the network).

    Raises:
        DataUnavailableError: when none of the three works; the message says why each
            failed and how to fix it.
    """
    errors = []
    env_path = os.environ.get(ENV_VAR)
    if env_path:
        try:
            return Mnist(**_read_npz(Path(env_path)), source=f"${ENV_VAR} = {env_path}",
                         sha256=file_sha256(env_path))
        except Exception as exc:  # any failure falls through to the next source
            errors.append(f"1. ${ENV_VAR}={env_path}: {exc}")
    else:
        errors.append(f"1. ${ENV_VAR} is not set (set it to the path of an mnist.npz)")

    try:
        digest = file_sha256(BUNDLED_PATH)
        if digest != BUNDLED_SHA256:
            raise ValueError(f"sha256 {digest} differs from the expected {BUNDLED_SHA256}")
        return Mnist(**_read_npz(BUNDLED_PATH), source=f"bundled {BUNDLED_PATH.relative_to(ROOT)}",
                     sha256=digest)
    except Exception as exc:
        errors.append(
            f"2. bundled {BUNDLED_PATH}: {exc} (restore it with `git checkout data/mnist.npz`)"
        )

    try:
        import keras

        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        return Mnist(x_train, y_train, x_test, y_test,
                     source="keras.datasets.mnist.load_data() (downloaded)", sha256=None)
    except Exception as exc:
        errors.append(
            f"3. keras.datasets.mnist.load_data(): {exc} (needs network access to download)"
        )
    raise DataUnavailableError("MNIST could not be loaded from any source:\n" + "\n".join(errors))


def to_float(images: np.ndarray) -> np.ndarray:
    """Scale uint8 pixels 0-255 to float32 in [0, 1]; the shape is kept.

    This is the only conversion the models see: every model's input is float32 in
    [0, 1] with ink high (1.0) and background low (0.0), as in MNIST.
    """
    return np.asarray(images, dtype=np.float32) / np.float32(255.0)


def validation_split(x, y, validation_size: int = 5000):
    """Split the training set: the last ``validation_size`` images become validation.

    Fixed (not shuffled) so every run, seed and model validates on the same 5,000
    digits, the usual 55,000/5,000 MNIST split.
    """
    return (x[:-validation_size], y[:-validation_size]), (x[-validation_size:], y[-validation_size:])
