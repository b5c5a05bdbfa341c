"""The lab's data sets by name: how to load each, its image shape and its class names.

MNIST is bundled; Fashion-MNIST comes from Debian's ``dataset-fashion-mnist``; CIFAR-10
from a local copy of its archive, so it is offered only where ``available`` finds it.
"""

from __future__ import annotations

DATASETS = ("mnist", "fashion_mnist", "cifar10")
# How they are named to people: core.vocabulary (DATASET_TITLES, DATASET_NAMES).
# One image as the models see it: (height, width, channels).
INPUT_SHAPES = {"mnist": (28, 28, 1), "fashion_mnist": (28, 28, 1), "cifar10": (32, 32, 3)}


def class_names(name: str) -> tuple[str, ...]:
    """The 10 class names of a data set, in label order ("0" to "9" for MNIST).

    Raises:
        ValueError: for an unknown name.
    """
    if name == "mnist":
        return tuple(str(d) for d in range(10))
    if name == "fashion_mnist":
        from core.data.fashion import CLASSES
        return CLASSES
    if name == "cifar10":
        from core.data.cifar import CLASSES
        return CLASSES
    raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")


def load(name: str):
    """The data set ``name`` as a ``core.data.mnist.Mnist`` (``splits()`` gives the lab's
    training / last-5,000 validation / test split, images float32 in [0, 1]).

    Raises:
        ValueError: for an unknown name.
        core.data.mnist.DataUnavailableError: when its files are missing or damaged (one
            sentence saying how to install them).
    """
    if name == "mnist":
        from core.data.mnist import load_mnist
        return load_mnist()
    if name == "fashion_mnist":
        from core.data.fashion import load_fashion_mnist
        return load_fashion_mnist()
    if name == "cifar10":
        from core.data.cifar import load_cifar10
        return load_cifar10()
    raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")


def available(name: str) -> bool:
    """Whether the data set's files are here (without loading them): MNIST always,
    Fashion-MNIST when its four files exist, CIFAR-10 when ``$DIGITLAB_CIFAR10`` names an
    existing archive or folder."""
    if name == "fashion_mnist":
        from core.data.fashion import available as fashion_available
        return fashion_available()
    if name == "cifar10":
        from core.data.cifar import available as cifar_available
        return cifar_available()
    return name == "mnist"
