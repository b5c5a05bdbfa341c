"""The lab's data sets by name, one entry each: its image shape, its class names, how to
load it and whether it is here.

MNIST is bundled; Fashion-MNIST comes from Debian's ``dataset-fashion-mnist``; CIFAR-10
from a local copy of its archive, so it is offered only where ``available`` finds it. How
they are named to people is in ``core.vocabulary`` (``DATASET_TITLES``, ``DATASET_NAMES``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from core.data import cifar, fashion, images, mnist


@dataclass(frozen=True)
class DataSet:
    """One data set: ``input_shape`` one image as the models see it (height, width,
    channels); ``classes`` its 10 class names in label order; ``load`` the whole set as a
    ``core.data.images.ImageSet``; ``here`` whether its files are present, without loading them."""

    input_shape: tuple[int, int, int]
    classes: tuple[str, ...]
    load: Callable[[], images.ImageSet]
    here: Callable[[], bool]


REGISTRY = {
    "mnist": DataSet((28, 28, 1), tuple(str(d) for d in range(10)), mnist.load_mnist, lambda: True),
    "fashion_mnist": DataSet((28, 28, 1), fashion.CLASSES, fashion.load_fashion_mnist, fashion.available),
    "cifar10": DataSet((32, 32, 3), cifar.CLASSES, cifar.load_cifar10, cifar.available),
}
DATASETS = tuple(REGISTRY)
INPUT_SHAPES = {name: data_set.input_shape for name, data_set in REGISTRY.items()}


def _entry(name: str) -> DataSet:
    if name not in REGISTRY:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    return REGISTRY[name]


def class_names(name: str) -> tuple[str, ...]:
    """The 10 class names of a data set, in label order ("0" to "9" for MNIST).

    Raises:
        ValueError: for an unknown name.
    """
    return _entry(name).classes


def load(name: str) -> images.ImageSet:
    """The data set ``name`` as a ``core.data.images.ImageSet`` (``splits()`` gives the lab's
    training / last-5,000 validation / test split, images float32 in [0, 1]).

    Raises:
        ValueError: for an unknown name.
        core.data.images.DataUnavailableError: when its files are missing or damaged (one
            sentence saying how to install them).
    """
    return _entry(name).load()


def available(name: str) -> bool:
    """Whether the data set's files are here (without loading them): MNIST always,
    Fashion-MNIST when its four files exist, CIFAR-10 when ``$DIGITLAB_CIFAR10`` names an
    existing archive or folder; False for an unknown name."""
    return name in REGISTRY and REGISTRY[name].here()
