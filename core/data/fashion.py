"""Fashion-MNIST: the same shapes as MNIST (70,000 28x28 greyscale images, 10 classes),
but of clothes, so the same network finds it harder.

Xiao, Rasul and Vollgraf (2017), "Fashion-MNIST: a novel image dataset for benchmarking
machine learning algorithms" (arXiv:1708.07747), MIT licence. The lab reads the copy that
Debian's ``dataset-fashion-mnist`` package installs (``scripts/setup.sh`` installs it);
nothing is downloaded.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np

from core.data.images import DataUnavailableError, ImageSet, file_sha256

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
ENV_VAR = "DIGITLAB_FASHION_MNIST"  # a folder holding the four files, instead of Debian's
# sha256 of the files of Debian's dataset-fashion-mnist 0.0~git20200523.55506a9-1 (its gzip
# files are compressed anew, so they differ from the authors' downloads byte for byte).
SHA256 = {
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}
# The label names, in label order (the authors' README).
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot")
INSTALL = "install it with `sudo apt-get install dataset-fashion-mnist` (scripts/setup.sh does)"


def read_idx(path: Path) -> np.ndarray:
    """One gzipped IDX file (LeCun's MNIST format: magic 0x0000 0x08 <dims>, big-endian
    sizes, then uint8 data) as a uint8 array of its stated shape.

    Raises:
        ValueError: if the header is not IDX uint8 or the data does not fill the shape.
    """
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path.name} is not an IDX file of unsigned bytes")
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * dims)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path.name} holds {data.size} bytes of data for a shape {shape}")
    return data.reshape(shape)


def folder() -> Path:
    """Where the four files are looked for: ``$DIGITLAB_FASHION_MNIST`` if set, else
    Debian's ``/usr/share/datasets/fashion-mnist``."""
    return Path(os.environ.get(ENV_VAR) or DEBIAN_DIR)


def available() -> bool:
    """Whether the four files exist (not checked: ``load_fashion_mnist`` does that)."""
    return all((folder() / name).is_file() for name in SHA256)


def load_fashion_mnist() -> ImageSet:
    """Load Fashion-MNIST with where it came from, like ``core.data.mnist.load_mnist``.

    Returns a ``core.data.images.ImageSet``: x_train (60000, 28, 28) and x_test (10000, 28, 28)
    uint8, 0 (background) to 255; y_train (60000,) and y_test (10000,) uint8 labels 0-9
    (names in ``CLASSES``); ``source`` the folder read; ``sha256`` the sha256 of the four
    files' sha256s joined in ``SHA256``'s order. ``splits()`` gives the lab's usual
    55,000 / 5,000 / 10,000 split.

    Reads the folder named by ``$DIGITLAB_FASHION_MNIST`` if set, else Debian's
    ``/usr/share/datasets/fashion-mnist``; each file's sha256 must equal ``SHA256``.

    Raises:
        DataUnavailableError: one sentence naming the missing or damaged file and how
            to install the package.
    """
    where = folder()
    digests = []
    for name, expected in SHA256.items():
        path = where / name
        if not path.is_file():
            raise DataUnavailableError(f"Fashion-MNIST is not installed ({path} is missing): {INSTALL}.")
        digest = file_sha256(path)
        if digest != expected:
            raise DataUnavailableError(f"Fashion-MNIST's {path} is damaged (its sha256 is {digest[:12]}…, "
                                       f"not {expected[:12]}…): reinstall it with "
                                       "`sudo apt-get install --reinstall dataset-fashion-mnist`.")
        digests.append(digest)
    arrays = {key: read_idx(where / name) for key, name in
              zip(("x_train", "y_train", "x_test", "y_test"), SHA256)}
    return ImageSet(**arrays, source=f"Debian dataset-fashion-mnist, {where}",
                 sha256=hashlib.sha256("".join(digests).encode()).hexdigest())
