"""MNIST loading: one place that knows where the digits come from.

MNIST (Yann LeCun, Corinna Cortes, Christopher J.C. Burges) is available under
CC BY-SA 3.0. The repository ships a copy in ``data/mnist.npz`` so a fresh clone
runs offline.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from core.data.images import DataUnavailableError, ImageSet, file_sha256
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


def load_mnist() -> ImageSet:
    """Load MNIST, with where it came from.

    Returns a ``core.data.images.ImageSet``: uint8 arrays of shapes (60000, 28, 28), (60000,),
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
            return ImageSet(**_read_npz(Path(env_path)), source=f"${ENV_VAR} = {env_path}",
                         sha256=file_sha256(env_path))
        except Exception as exc:  # any failure falls through to the next source
            errors.append(f"1. ${ENV_VAR}={env_path}: {exc}")
    else:
        errors.append(f"1. ${ENV_VAR} is not set (set it to the path of an mnist.npz)")

    try:
        digest = file_sha256(BUNDLED_PATH)
        if digest != BUNDLED_SHA256:
            raise ValueError(f"sha256 {digest} differs from the expected {BUNDLED_SHA256}")
        return ImageSet(**_read_npz(BUNDLED_PATH), source=f"bundled {BUNDLED_PATH.relative_to(ROOT)}",
                     sha256=digest)
    except Exception as exc:
        errors.append(
            f"2. bundled {BUNDLED_PATH}: {exc} (restore it with `git checkout data/mnist.npz`)"
        )

    try:
        import keras

        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        return ImageSet(x_train, y_train, x_test, y_test,
                     source="keras.datasets.mnist.load_data() (downloaded)", sha256=None)
    except Exception as exc:
        errors.append(
            f"3. keras.datasets.mnist.load_data(): {exc} (needs network access to download)"
        )
    raise DataUnavailableError("MNIST could not be loaded from any source:\n" + "\n".join(errors))
