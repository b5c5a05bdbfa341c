"""What every data set of the lab is: an ``ImageSet`` of uint8 images and labels with its
provenance, and the one split rule all of them follow (the last 5,000 training images
validate; the test images are for the final report only). The loaders are ``mnist``,
``fashion`` and ``cifar``; ``registry`` names them."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import numpy as np


class DataUnavailableError(RuntimeError):
    """A data set could not be loaded from any source; the message names every source
    tried and its fix, in one sentence each."""


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class ImageSet:
    """An image data set with its provenance: where the arrays were read and the file's
    sha256 (None for a download, whose bytes were not kept).

    ``x_train`` (N, H, W) or (N, H, W, 3) and ``x_test`` (M, ...) are uint8, 0 (paper) to
    255 (ink); ``y_train`` (N,) and ``y_test`` (M,) uint8 labels 0-9. MNIST and
    Fashion-MNIST: N = 60,000, M = 10,000, 28x28 grey; CIFAR-10 (``core.data.cifar``):
    N = 50,000, 32x32x3.
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
