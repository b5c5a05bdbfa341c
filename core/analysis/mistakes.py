"""The Mistakes page's arithmetic: a classifier's answers on the 10,000 test images of its
data set (MNIST digits, Fashion-MNIST clothes), its confusion matrix, the images of one
cell and its most confident mistakes.

The model runs once per entry (``test_predictions``, a few seconds on 2 cores; the page
caches the result as an ``Analysis``); a click on a confusion-matrix cell then only
indexes arrays already computed (``cell_view``), which ``python -m core bench`` times.
The classifiers to pick from are ``core.analysis.compare.comparable_runs``, the Compare runs
page's list, so a run has one name on both pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.config import TrainConfig
from core.store import cache

CLASSES = 10
# Class names of MNIST (``core.data.registry.class_names("mnist")``): the default of every
# function that names classes.
DIGITS = tuple(str(d) for d in range(CLASSES))
# Digits shown for one clicked cell: a diagonal cell holds about 1,000, more than a page
# can show at once; the most confident come first.
CELL_SHOWN = 40
STRIP_SHOWN = 16


def test_predictions(model, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Class probabilities of every image: ``x`` (n, 28, 28) float32 in [0, 1] (or
    (n, 32, 32, 3) for CIFAR-10) -> (n, 10) float32, rows summing to 1.

    Batched ``model.predict``, as ``core.training.experiments.accuracy`` scores, so the argmax of
    these rows gives the same test accuracy the benchmark measures.
    """
    return np.asarray(model.predict(np.asarray(x, np.float32), batch_size=batch_size, verbose=0), np.float32)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """(10, 10) int64 counts: row = true digit, column = predicted digit.

    Args:
        y_true, y_pred: (n,) integer labels in 0..9.

    Raises:
        ValueError: if the two differ in length or a label is outside 0..9.
    """
    y_true, y_pred = np.asarray(y_true).astype(np.int64), np.asarray(y_pred).astype(np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{len(y_true)} true labels but {len(y_pred)} predictions.")
    if y_true.size and (min(y_true.min(), y_pred.min()) < 0 or max(y_true.max(), y_pred.max()) >= CLASSES):
        raise ValueError("Labels must be digits from 0 to 9.")
    return np.bincount(CLASSES * y_true + y_pred, minlength=CLASSES * CLASSES).reshape(CLASSES, CLASSES)


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """(10,) float64 in [0, 1]: the share of each true digit's test images read right
    (diagonal over row sums); NaN for a digit with no test image."""
    matrix = np.asarray(matrix)
    rows = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rows > 0, np.diag(matrix) / rows, np.nan)


def _check_digit(name: str, value) -> int:
    if not (isinstance(value, (int, np.integer)) and 0 <= value < CLASSES):
        raise ValueError(f"{name} must be a digit from 0 to 9, got {value!r}.")
    return int(value)


def cell(y_true: np.ndarray, y_pred: np.ndarray, probabilities: np.ndarray, true: int, predicted: int) -> np.ndarray:
    """Indices (int64) of the test digits whose label is ``true`` and whose prediction is
    ``predicted``, most confident first (by ``probabilities[i, predicted]``; ties keep
    test-set order). Empty when the cell is 0.

    Args:
        y_true, y_pred: (n,) integer labels in 0..9.
        probabilities: (n, 10) float, the model's class probabilities.

    Raises:
        ValueError: if ``true`` or ``predicted`` is not a digit 0..9.
    """
    true, predicted = _check_digit("true", true), _check_digit("predicted", predicted)
    indices = np.flatnonzero((y_true == true) & (y_pred == predicted))
    order = np.argsort(-probabilities[indices, predicted], kind="stable")
    return indices[order]


def most_confident_mistakes(y_true: np.ndarray, y_pred: np.ndarray, probabilities: np.ndarray,
                            k: int = STRIP_SHOWN) -> np.ndarray:
    """Indices (int64) of at most ``k`` wrongly read test digits, highest probability of
    the wrong answer first (ties keep test-set order); all of them when ``k`` is None."""
    wrong = np.flatnonzero(y_true != y_pred)
    order = np.argsort(-probabilities[wrong, y_pred[wrong]], kind="stable")
    return wrong[order][:k]


def percent(probability: float) -> str:
    """A probability in [0, 1] as "98%", or "99.9%" from 99.5% up: rounded, a wrong answer
    at 99.96% would read "100%", a certainty the model never has."""
    if probability >= 0.995:
        return f"{np.floor(probability * 1000) / 10:.1f}%"
    return f"{probability:.0%}"


@dataclass(frozen=True)
class Analysis:
    """One classifier on the test digits, computed once (``analyse``), read-only arrays.

    Attributes:
        probabilities: (n, 10) float32 class probabilities.
        y_true: (n,) int64 true labels; y_pred: (n,) int64 most probable digits.
        confidence: (n,) float32, the probability of the predicted digit.
        matrix: (10, 10) int64 confusion matrix, rows true, columns predicted.
    """

    probabilities: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray
    confidence: np.ndarray
    matrix: np.ndarray

    @property
    def accuracy(self) -> float:
        """Share of the digits read right: the matrix's diagonal over its sum."""
        return float(np.trace(self.matrix) / self.matrix.sum())

    @property
    def errors(self) -> int:
        """How many digits were read wrong."""
        return int(self.matrix.sum() - np.trace(self.matrix))

    def cell(self, true: int, predicted: int) -> np.ndarray:
        """``cell`` of this analysis."""
        return cell(self.y_true, self.y_pred, self.probabilities, true, predicted)

    def most_confident_mistakes(self, k: int | None = STRIP_SHOWN) -> np.ndarray:
        """``most_confident_mistakes`` of this analysis."""
        return most_confident_mistakes(self.y_true, self.y_pred, self.probabilities, k)

    def captions(self, indices: np.ndarray, reader: str = "read", names: tuple = DIGITS) -> list[str]:
        """"true 4 · read 9 · 98%" for each index: label, prediction, its probability;
        ``names`` the 10 class names ("true Shirt · read T-shirt/top · 61%")."""
        return [f"true {names[self.y_true[i]]} · {reader} {names[self.y_pred[i]]} · {percent(self.confidence[i])}"
                for i in indices]


def analyse(probabilities: np.ndarray, y_true: np.ndarray) -> Analysis:
    """The ``Analysis`` of (n, 10) probabilities against (n,) true labels 0..9.

    Raises:
        ValueError: if the shapes disagree or a label is outside 0..9.
    """
    probabilities = np.asarray(probabilities, np.float32)
    if probabilities.ndim != 2 or probabilities.shape[1] != CLASSES or len(probabilities) != len(y_true):
        raise ValueError(f"Expected ({len(y_true)}, 10) probabilities, got {probabilities.shape}.")
    y_true = np.asarray(y_true).astype(np.int64)
    y_pred = np.argmax(probabilities, axis=1).astype(np.int64)
    confidence = probabilities[np.arange(len(y_pred)), y_pred]
    arrays = (probabilities, y_true, y_pred, confidence, confusion_matrix(y_true, y_pred))
    for array in arrays:
        array.setflags(write=False)  # shared by every visitor through the page's cache
    return Analysis(*arrays)


def enlarge(images: np.ndarray, factor: int) -> list[np.ndarray]:
    """(n, h, w) or colour (n, h, w, 3) float in [0, 1] -> n (h * factor, w * factor[, 3])
    float32 images, nearest neighbour, so the browser shows crisp pixels."""
    images = np.asarray(images, np.float32)
    return list(np.repeat(np.repeat(images, factor, axis=1), factor, axis=2))


def cell_view(analysis: Analysis, x: np.ndarray, true: int, predicted: int, factor: int = 3,
              limit: int = CELL_SHOWN, names: tuple = DIGITS) -> tuple[list[np.ndarray], list[str], int]:
    """What the page shows for a clicked cell: (at most ``limit`` enlarged images, most
    confident first; their captions, classes named by ``names``; how many images the cell
    holds).

    Raises:
        ValueError: if ``true`` or ``predicted`` is not a class 0..9.
    """
    indices = analysis.cell(true, predicted)
    shown = indices[:limit]
    return enlarge(x[shown], factor), analysis.captions(shown, names=names), len(indices)


def load_entry(root: Path, entry: str) -> cache.CachedModel:
    """Load the model entry folder ``root/entry`` through its recorded config.

    Raises:
        FileNotFoundError: if the entry is not there.
        CorruptEntryError: if it is damaged or its config does not name this entry.
    """
    path = Path(root) / entry
    metrics = cache.read_json(path / "metrics.json")
    try:
        config = TrainConfig.from_fields(metrics["config"])
    except (KeyError, TypeError) as exc:
        raise cache.CorruptEntryError(f"The entry {entry} is damaged: its settings cannot be read.") from exc
    if config.entry != entry:
        raise cache.CorruptEntryError(f"The entry {entry} is damaged: its settings name another entry.")
    return cache.load(config, root)
