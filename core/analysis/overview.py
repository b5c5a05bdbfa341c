"""What the Overview page shows of the two grey data sets side by side: the same networks'
numbers on MNIST and on Fashion-MNIST, read from the shipped entries' records, and a few
test images of each. No TensorFlow: the Overview is the first page a visitor sees.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from core.config import FASHION, default_config
from core.data import mnist as data
from core.data.fashion import INSTALL, folder as fashion_folder, read_idx
from core.data.images import DataUnavailableError
from core.data.registry import class_names
from core.store import cache
from core.vocabulary import MODEL_NAMES

# The networks trained on both data sets; their recipes are ``core.config.DEFAULTS`` on
# MNIST and ``core.config.FASHION`` on Fashion-MNIST.
NETWORKS = ("cnn", "dense_64_64")
SIDE_BY_SIDE = ("mnist", "fashion_mnist")


def configs(kind: str) -> dict:
    """{"mnist": the shipped MNIST ``TrainConfig`` of ``kind``, "fashion_mnist": its
    Fashion-MNIST one}.

    Raises:
        ValueError: for a kind not trained on both (see ``NETWORKS``).
    """
    fashion = {config.kind: config for config in FASHION}
    if kind not in fashion:
        raise ValueError(f"{kind!r} is not trained on both data sets; these are: "
                         f"{', '.join(NETWORKS)}")
    return {"mnist": default_config(kind), "fashion_mnist": fashion[kind]}


def numbers(config, root: Path | None = None) -> dict | None:
    """A shipped entry's figures, or None when it is missing or damaged.

    Returns:
        {"test_accuracy": float in [0, 1] (the 10,000 test images, once after training),
        "validation_accuracy": float in [0, 1] (the last epoch's, on the 5,000 validation
        images), "training_seconds": float, "epochs": int, "augment": bool}.
    """
    try:
        history, metrics = cache.load_records(config, root)
        return {"test_accuracy": float(metrics["test_accuracy"]),
                "validation_accuracy": float(history["val_accuracy"][-1]),
                "training_seconds": float(metrics["training_seconds"]),
                "epochs": int(metrics["epochs"]), "augment": bool(config.augment)}
    except (FileNotFoundError, cache.CorruptEntryError, KeyError, IndexError, TypeError, ValueError):
        return None


def side_by_side(root: Path | None = None) -> list[dict]:
    """For each of ``NETWORKS``: {"network": its plain name, "mnist": ``numbers`` of its
    MNIST entry or None, "fashion_mnist": the same on Fashion-MNIST} from the store
    ``root`` (default: the shipped cache)."""
    return [{"network": MODEL_NAMES[kind], **{d: numbers(c, root) for d, c in configs(kind).items()}}
            for kind in NETWORKS]


def _test_images(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    # Only the 10,000 test images: loading a whole data set (and checking its files'
    # sha256) takes about a second each, too long for the first page.
    if dataset == "mnist":
        path = os.environ.get(data.ENV_VAR) or data.BUNDLED_PATH
        try:
            with np.load(path) as f:
                return f["x_test"], f["y_test"]
        except Exception:  # a damaged or odd file: the full loader says what is wrong
            loaded = data.load_mnist()
            return loaded.x_test, loaded.y_test
    if dataset == "fashion_mnist":
        folder = fashion_folder()
        try:
            return (read_idx(folder / "t10k-images-idx3-ubyte.gz"),
                    read_idx(folder / "t10k-labels-idx1-ubyte.gz"))
        except (OSError, ValueError, EOFError) as exc:
            raise DataUnavailableError(f"Fashion-MNIST's test images cannot be read from {folder}: "
                                       f"{INSTALL}.") from exc
    raise ValueError(f"no test images for {dataset!r}; these data sets have them: {', '.join(SIDE_BY_SIDE)}")


def samples(dataset: str, classes=range(10)) -> tuple[np.ndarray, list[str]]:
    """The first test image of each class in ``classes``, and its class name.

    Returns:
        ((len(classes), 28, 28) float32 in [0, 1], ink high; [class name, ...]
        (``core.data.registry.class_names``)).

    Raises:
        ValueError: for a data set other than MNIST and Fashion-MNIST, or a class not
            in 0..9.
        core.data.images.DataUnavailableError: when the data set's files are missing (one
            sentence).
    """
    classes = [int(c) for c in classes]
    if any(not 0 <= c < 10 for c in classes):
        raise ValueError(f"classes must be in 0..9, got {classes}")
    x, y = _test_images(dataset)
    first = [int(np.flatnonzero(y == c)[0]) for c in classes]
    names = class_names(dataset)
    return x[first].astype(np.float32) / 255.0, [names[c] for c in classes]


# The few numbers the landing page leads with: (a short label, what it measures, the
# benchmark row's text it starts with).
HEADLINES = (
    ("CNN, test accuracy", "The lab's CNN on the 10,000 MNIST test digits, mean of 3 seeds.",
     "CNN, mean test accuracy of"),
    ("500-300 + weight decay", "The course's 500-300 dense net with the L2 factor chosen on validation, mean of "
     "3 seeds; Hinton's result for it is 98.47%.", "dense_500_300, plain digits, L2"),
    ("Noise 0.7, denoised", "Test digits at salt-and-pepper noise 0.7, cleaned by the conv denoiser, that the CNN "
     "then reads right.", "conv denoiser then CNN seed 0, noise 0.7"),
    ("Quick CNN training", "One training of the quick CNN on this server, past 99% test accuracy.",
     "quick_cnn seed 0, training time measured now"),
    ("Stroke to answer", "From lifting the pen on the Draw page to both networks' answers shown, p95, in "
     "Chromium.", "Draw: mouse-up to the answer shown"),
)


def headlines(rows: list[dict]) -> list[tuple[str, str, dict]]:
    """The benchmark rows (``benchmarks/results.json``'s "rows") behind ``HEADLINES``, in its
    order: (label, what it measures, row); a headline whose row is missing is left out."""
    found = []
    for label, what, start in HEADLINES:
        row = next((r for r in rows if r["what"].startswith(start) and r.get("value") is not None), None)
        if row is not None:
            found.append((label, what, row))
    return found
