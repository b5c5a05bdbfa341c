"""MNIST loading: one place that knows where the digits come from.

MNIST (Yann LeCun, Corinna Cortes, Christopher J.C. Burges) is available under
CC BY-SA 3.0. The repository ships a copy in ``data/mnist.npz`` so a fresh clone
runs offline.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
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

# Where the last successful load_mnist() call read from; shown on the Overview page.
last_source: dict = {}


class DataUnavailableError(RuntimeError):
    """No MNIST source worked; the message names every source tried and its fix."""


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_npz(path: Path):
    with np.load(path) as f:
        arrays = {key: f[key] for key in _SHAPES}
    for key, shape in _SHAPES.items():
        if arrays[key].shape != shape or arrays[key].dtype != np.uint8:
            raise ValueError(
                f"{path}: {key} has shape {arrays[key].shape} and dtype "
                f"{arrays[key].dtype}, expected {shape} uint8"
            )
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_mnist():
    """Load MNIST as uint8 arrays.

    Returns ``(x_train, y_train), (x_test, y_test)`` with shapes (60000, 28, 28),
    (60000,), (10000, 28, 28), (10000,), dtype uint8; pixels 0 (background) to
    255 (ink), labels 0-9.

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
            data = _read_npz(Path(env_path))
            last_source.update(source=f"${ENV_VAR} = {env_path}", sha256=file_sha256(env_path))
            return data
        except Exception as exc:  # any failure falls through to the next source
            errors.append(f"1. ${ENV_VAR}={env_path}: {exc}")
    else:
        errors.append(f"1. ${ENV_VAR} is not set (set it to the path of an mnist.npz)")

    try:
        digest = file_sha256(BUNDLED_PATH)
        if digest != BUNDLED_SHA256:
            raise ValueError(f"sha256 {digest} differs from the expected {BUNDLED_SHA256}")
        data = _read_npz(BUNDLED_PATH)
        last_source.update(source=f"bundled {BUNDLED_PATH.relative_to(ROOT)}", sha256=digest)
        return data
    except Exception as exc:
        errors.append(
            f"2. bundled {BUNDLED_PATH}: {exc} (restore it with `git checkout data/mnist.npz`)"
        )

    try:
        import keras

        data = keras.datasets.mnist.load_data()
        last_source.update(source="keras.datasets.mnist.load_data() (downloaded)", sha256=None)
        return data
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
