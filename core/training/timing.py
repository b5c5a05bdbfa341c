"""How long a training run takes on this server, estimated before it is queued.

Classifiers, named or your own, share one cost model of an epoch, whose terms are what
an epoch does: multiply-adds (three per image and weight for the forward and backward
passes over the training images, one for the 5,000 validation images), at a float32 or a
bfloat16 rate; the distortions or mirrorings of each training image; a cost per training
step; a constant; and, at a measured rate, the values batch normalization normalizes. A run costs its epochs plus a first-epoch extra (tracing the
graph). The model's coefficients are fitted (non-negative least squares, relative error)
to the epoch times recorded in the shipped cache's classifier entries, so the estimates
are this machine's measurements; ``tests/test_timing.py`` checks each shipped entry
against a fit on the others. Autoencoders, each with its own recipe, are estimated from
their kind's shipped entry.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

from core.config import CLASSIFIERS, TrainConfig, default_config
from core.data.registry import INPUT_SHAPES
from core.nets.layers import NAMED_STACKS, walk
from core.store import cache

VALIDATION_IMAGES = 5_000
TERMS = ("float32 multiply-adds", "bfloat16 multiply-adds", "distorted images", "mirrored images", "steps", "epoch")
# Batch normalization costs far more than its multiply-adds: it reads and writes every
# value several times. Seconds per batch-normalized value of a training image, measured
# on this machine as the lab's CNN with and without batch normalization after each
# convolution (README.md, "Constants in the code"). Not fitted: one shipped entry uses it (the
# CIFAR lab's preset), and it cannot be checked against itself.
SECONDS_PER_NORMALIZED_VALUE = 5.3e-9
# Seconds per unit of each term before a cache has enough entries to fit them: measured
# here on 2026-12-06 (the lab's CNN, the dense nets; README.md, "Fast training").
FALLBACK = np.array([1 / 8e10, 1 / 1.2e11, 18e-6, 4e-6, 1e-3, 0.3])
FALLBACK_FIRST_EXTRA = 1.5  # seconds: tracing, the first batches


def training_images(config: TrainConfig) -> int:
    """Images an epoch trains on: ``train_size``, else 55,000 (CIFAR-10: 45,000)."""
    return config.train_size or (45_000 if config.dataset == "cifar10" else 55_000)


def layer_rows(config: TrainConfig) -> list[dict]:
    """``core.nets.layers.walk`` of a classifier's layer list (your own network's, or the named
    model's ``NAMED_STACKS``) on its data set's input shape: one dict per layer.

    Raises:
        ValueError: for a kind that is not a classifier.
    """
    if config.kind not in CLASSIFIERS:
        raise ValueError(f"{config.kind} is not a classifier")
    stack = config.layers if config.kind == "custom" else NAMED_STACKS[config.kind]
    return walk(stack, INPUT_SHAPES[config.dataset])


def multiply_adds(config: TrainConfig) -> int:
    """A classifier's multiply-adds per image (``layer_rows``).

    Raises:
        ValueError: for a kind that is not a classifier.
    """
    return sum(row["multiply_adds"] for row in layer_rows(config))


def normalized_values(config: TrainConfig) -> int:
    """Values a classifier's batch-normalization layers normalize per image (0 without any).

    Raises:
        ValueError: for a kind that is not a classifier.
    """
    return sum(math.prod(row["output shape"]) for row in layer_rows(config) if row["layer"] == "BatchNormalization")


def normalization_seconds(config: TrainConfig) -> float:
    """Seconds an epoch of a classifier spends in batch normalization (a measured rate,
    ``SECONDS_PER_NORMALIZED_VALUE``; 0 without such layers)."""
    return SECONDS_PER_NORMALIZED_VALUE * normalized_values(config) * training_images(config)


def epoch_terms(config: TrainConfig) -> np.ndarray:
    """The amounts of ``TERMS`` in one epoch of a classifier ``config``, shape (6,) float64."""
    images = training_images(config)
    work = (3 * images + VALIDATION_IMAGES) * multiply_adds(config)
    bf16 = config.precision == "mixed_bfloat16"
    distorted = config.augment and config.dataset == "mnist"
    mirrored = config.augment and config.dataset != "mnist"
    return np.array([0 if bf16 else work, work if bf16 else 0, images if distorted else 0,
                     images if mirrored else 0, math.ceil(images / config.batch_size), 1], np.float64)


def recorded_epochs(history: dict) -> list[float]:
    """Seconds of each epoch (validation included) from a history's cumulative ``seconds``."""
    seconds = history.get("seconds") or []
    return [b - a for a, b in zip([0.0] + seconds[:-1], seconds)]


def observations(root: Path | None = None) -> list[tuple[TrainConfig, list[float], float]]:
    """(config, epoch seconds, training seconds) of every readable classifier entry of a
    store (default: the shipped cache) that recorded its epoch times.

    Entries trained with one intra-op thread are left out: the sweeps train two runs at
    once, one thread each (``core.training.experiments``), so their times are of half the machine.
    Unreadable or incomplete entries are skipped, never raised."""
    found = []
    for m in cache.list_models(root):
        epochs = recorded_epochs(m.get("history") or {})
        threads = m.get("threads") or {}
        if m.get("kind") not in CLASSIFIERS or len(epochs) < 2 or threads.get("intra_op") == 1:
            continue
        try:
            found.append((TrainConfig.from_fields(m["config"]), epochs, float(m["training_seconds"])))
        except (KeyError, TypeError, ValueError):
            continue
    return found


def fit(observed) -> tuple[np.ndarray, float]:
    """(seconds per unit of each term, first-epoch extra in seconds) fitted to
    ``observations``: non-negative least squares on the later epochs' mean time, each
    entry weighted by 1 / its time (so a 1 s epoch counts as much as a 10 s one); the
    extra is the median of (first epoch - later mean). A term that fewer than two
    entries use keeps its ``FALLBACK`` rate (one entry cannot be checked against the
    others); with fewer than ``2 x len(TERMS)`` entries, or if the solver fails, every
    term does."""
    if len(observed) < 2 * len(TERMS):
        return FALLBACK.copy(), FALLBACK_FIRST_EXTRA
    rows, targets = [], []
    for config, epochs, _ in observed:
        later = float(np.mean(epochs[1:]))
        rows.append(epoch_terms(config) / later)
        targets.append(1.0 - normalization_seconds(config) / later)
    rows, targets = np.array(rows), np.array(targets)
    fixed = np.count_nonzero(rows, axis=0) < 2
    coefficients = FALLBACK.copy()
    try:
        coefficients[~fixed], _ = nnls(rows[:, ~fixed], targets - rows[:, fixed] @ FALLBACK[fixed])
    except RuntimeError:
        return FALLBACK.copy(), FALLBACK_FIRST_EXTRA
    extra = float(np.median([epochs[0] - np.mean(epochs[1:]) for _, epochs, _ in observed]))
    return coefficients, max(0.0, extra)


@functools.lru_cache(maxsize=8)
def _calibration(root: str) -> tuple[np.ndarray, float]:
    return fit(observations(Path(root)))


def classifier_seconds(config: TrainConfig, calibration=None) -> float:
    """Estimated training seconds (validation passes included) of a classifier ``config``:
    epochs x the fitted epoch cost + the first-epoch extra. ``calibration`` is a ``fit``
    result; default: the shipped cache's."""
    coefficients, extra = calibration or _calibration(str(cache.cache_dir()))
    return config.epochs * (float(epoch_terms(config) @ coefficients) + normalization_seconds(config)) + extra


def estimate_seconds(config: TrainConfig) -> float:
    """About how long ``config`` trains here, in seconds, validation passes included.

    Classifiers: ``classifier_seconds``. Autoencoders: their kind's shipped default
    entry's seconds per epoch x epochs x the share of its training images; 10 s per
    epoch when that entry is missing or damaged."""
    if config.kind in CLASSIFIERS:
        return classifier_seconds(config)

    per_epoch = 10.0
    try:
        metrics = cache.load_records(default_config(config.kind))[1]
        per_epoch = metrics["training_seconds"] / metrics["epochs"]
    except (FileNotFoundError, cache.CorruptEntryError, KeyError, ZeroDivisionError):
        pass
    return per_epoch * config.epochs * training_images(config) / 55_000


def leave_one_out(observed) -> list[dict]:
    """Each observation estimated from a fit to all the others: [{"config", "recorded"
    (training seconds), "estimated", "error" (|estimated - recorded| / recorded)}].

    Raises:
        ZeroDivisionError: for an observation recorded at 0 s.
    """
    rows = []
    for i, (config, _, recorded) in enumerate(observed):
        estimated = classifier_seconds(config, fit(observed[:i] + observed[i + 1:]))
        rows.append({"config": config, "recorded": recorded, "estimated": estimated,
                     "error": abs(estimated - recorded) / recorded})
    return rows
