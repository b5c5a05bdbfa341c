"""Training speed, measured: the shipped classifiers' recipes trained again on this machine.

For each one, the benchmark (``python -m core bench``) reports the training time, the
seconds per epoch and training images per second (each epoch's validation pass
included), the time to 99.0% validation accuracy (MNIST), and the roofline: the
floating-point rate training reaches as a share of this machine's float32 matrix-multiply
rate, measured with NumPy (Williams, Waterman and Patterson, "Roofline", CACM 2009).
Whether the retrained weights equal the shipped ones checks the lab's reproducibility
promise (README.md, "Fast training").
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from core.config import DROPOUT_PAIR, FASHION, PRESET_RUNS, SEEDS, TrainConfig, seeded_configs
from core.data.registry import load
from core.present.runs import layers_text
from core.store import cache
from core.training.timing import VALIDATION_IMAGES, multiply_adds, recorded_epochs, training_images

REACHED = 0.99  # the validation accuracy whose time is reported (MNIST)


def shipped_classifiers() -> list[tuple[str, TrainConfig]]:
    """(name, config) of every shipped classifier recipe: the named ones (the CNNs at
    each seed), the Fashion-MNIST pair, the dropout pair and your own network's presets."""
    named = [(f"{kind} seed {c.seed}" if kind in SEEDS else kind, c)
             for kind in ("dense_64_64", "dense_500_300", "quick_cnn", "cnn") for c in seeded_configs(kind)]
    presets = [(f"Your own network: {layers_text(c.layers)}" + (", quick look" if c.train_size else ""), c)
               for c in PRESET_RUNS]
    return named + [("Fashion-MNIST: cnn", FASHION[0]), ("Fashion-MNIST: dense_64_64", FASHION[1]),
                    ("Dense 500-300 without dropout", DROPOUT_PAIR[0]),
                    ("Dense 500-300 with dropout 0.35", DROPOUT_PAIR[1])] + presets


def matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    """This machine's float32 matrix-multiply rate in GFLOP/s (2 n^3 operations per n x n
    product; NumPy's BLAS, all cores), the best of ``repeats`` after one untimed product."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * size ** 3 / best / 1e9


def _timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def epoch_flops(config: TrainConfig) -> float:
    """Floating-point operations of one epoch of a classifier: two per multiply-add,
    three passes (forward, two backward) over the training images, one forward over the
    5,000 validation images."""
    return 2.0 * (3 * training_images(config) + VALIDATION_IMAGES) * multiply_adds(config)


@dataclass
class Speed:
    """One classifier recipe trained now: ``training_seconds`` (``fit`` with its
    validation passes), ``epoch_seconds`` (mean of the epochs after the first, which
    traces the graph), ``images_per_second`` (training images / epoch_seconds),
    ``gflops`` (``epoch_flops`` / epoch_seconds), ``roofline`` (gflops / the NumPy
    float32 matmul rate), ``seconds_to_99`` (time at the end of the first epoch with at
    least 99.0% validation accuracy; None off MNIST or never), ``same_weights`` (whether
    every weight equals the shipped entry's; None when nothing is shipped or the shipped
    entry was trained with other TensorFlow thread counts, such as a sweep's run)."""

    name: str
    config: TrainConfig
    training_seconds: float
    epoch_seconds: float
    images_per_second: float
    gflops: float
    roofline: float
    seconds_to_99: float | None
    same_weights: bool | None


def seconds_to(history: dict, accuracy: float = REACHED) -> float | None:
    """Seconds since training began at the end of the first epoch whose validation
    accuracy reached ``accuracy``; None if none did."""
    return next((s for s, a in zip(history.get("seconds", []), history.get("val_accuracy", [])) if a >= accuracy),
                None)


def measure(name: str, config: TrainConfig, matmul: float, data=None) -> Speed:
    """Train ``config`` from scratch now (``core.training.run.train``) and time it.

    Args:
        name: the row's label.
        config: a classifier config.
        matmul: this machine's float32 matmul rate in GFLOP/s (``matmul_gflops``).
        data: the loaded data set of ``config.dataset``, to skip reloading it.

    Returns:
        a ``Speed`` (seconds, images per second, GFLOP/s, share of ``matmul``).

    Raises:
        ValueError: ``config`` is not a classifier (``core.training.timing.multiply_adds``).
        FileNotFoundError: the data set is not on this server.
    """
    from core.training.run import train

    result = train(config, mnist=data)
    epochs = recorded_epochs(result.history)
    per_epoch = float(np.mean(epochs[1:] if len(epochs) > 1 else epochs))
    gflops = epoch_flops(config) / per_epoch / 1e9
    same = None
    if cache.is_cached(config) and cache.load_records(config)[1].get("threads") == result.metrics["threads"]:
        shipped = cache.load(config).model.get_weights()
        mine = result.model.get_weights()
        same = len(shipped) == len(mine) and all(np.array_equal(a, b) for a, b in zip(shipped, mine))
    return Speed(name, config, result.metrics["training_seconds"], per_epoch, training_images(config) / per_epoch,
                 gflops, gflops / matmul, seconds_to(result.history) if config.dataset == "mnist" else None, same)


def measure_all(matmul: float | None = None) -> list[Speed]:
    """``measure`` every ``shipped_classifiers`` recipe, one after another, except the
    CNN's seeds after the first (each trains as long as seed 0; their times are recorded
    in their entries). About 11 minutes here.

    Raises:
        FileNotFoundError: a shipped recipe's data set is not on this server.
    """
    matmul = matmul or matmul_gflops()
    loaded, speeds = {}, []
    for name, config in shipped_classifiers():
        if config.kind == "cnn" and config.dataset == "mnist" and config.seed != SEEDS["cnn"][0]:
            continue
        if config.dataset not in loaded:
            loaded[config.dataset] = load(config.dataset)
        speeds.append(measure(name, config, matmul, loaded[config.dataset]))
    return speeds

