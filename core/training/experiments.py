"""The experiments, cached like models: the weight-decay sweeps and accuracy against noise."""

from __future__ import annotations

import multiprocessing
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np
import tensorflow as tf

from core.analysis.denoise import median_filter, psnr
from core.config import (CLASSIFIERS, DENOISERS, NOISE_LEVELS, SWEEPS, SweepConfig, TrainConfig, default_config,
                         noise_curve_key)
from core.data import mnist as data_mod
from core.data.noise import salt_and_pepper
from core.store import cache
from core.training.run import library_versions, train
from core.training.sweeps import kept_configs, sweep_results, sweep_row


def load_or_train(config, on_epoch=None, mnist=None) -> cache.CachedModel:
    """Load the shipped entry of ``config`` (``core.store.cache.load``); train and store it
    first when absent. Raises what ``core.store.cache.load`` and ``train`` raise."""
    if not cache.is_cached(config):
        cache.save(config, train(config, on_epoch=on_epoch, mnist=mnist))
    return cache.load(config)


def accuracy(classifier, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of ``images`` (n, 28, 28) float32 in [0, 1] whose most probable class
    under ``classifier`` (a Keras model, (n, 28, 28) -> (n, 10)) equals ``labels`` (n,).

    The one accuracy function of the lab: the benchmark, the tests, the sweeps and the
    noise curve all score with it.
    """
    probabilities = classifier.predict(images, batch_size=1000, verbose=0)
    return float(np.mean(np.argmax(probabilities, axis=1) == labels))


def run_sweep(config: SweepConfig, on_run=None, on_epoch=None, mnist=None, force: bool = False,
              processes: int = 1) -> dict:
    """Train every run of a sweep (or load the cached sweep) and return its results.

    Every run's history and test accuracy are recorded; the replicates at the factor
    chosen on validation and those of the ``l2 = 0`` control are also saved as model
    entries, so the benchmark can measure them again.

    Args:
        force: rerun even when cached; the cached results stay readable until the new
            ones replace them.
        on_run: called as ``on_run(done, total, row)`` after each run.
        on_epoch: passed to ``train`` for every run trained in this process.
        processes: runs trained at once, each in a process of its own with one
            TensorFlow thread (``_sweep_worker``); 1 trains them here, one after another.
            Two processes trained two 500-300 runs in 16 s where one process with two
            threads took 22 s for both: a small dense net keeps two cores only half busy.

    Returns:
        {"config", "name" ("plain" or "distorted"), "base_config", "rows": [{l2,
        replicate, seed, key, final_val_accuracy, best_val_accuracy, test_accuracy,
        training_seconds}], "summary" (``summarize_sweep``), "chosen_l2",
        "hinton_accuracy", "seconds", "data_sha256", "versions"}.
    """
    cached = cache.load_experiment("sweep", config.key())
    if cached and not force:
        return cached
    mnist = mnist or data_mod.load_mnist()
    runs = config.runs()
    start = time.perf_counter()
    if processes > 1:
        return _run_sweep_in_processes(config, runs, processes, on_run, mnist, start)
    rows, trained = [], {}
    for i, run in enumerate(runs):
        result = train(run, on_epoch=on_epoch, mnist=mnist)
        trained[run] = result
        rows.append(sweep_row(config, run, result.history, result.metrics))
        if on_run:
            on_run(i + 1, len(runs), rows[-1])
    results = sweep_results(config, rows, time.perf_counter() - start, mnist.sha256, library_versions())
    for run in kept_configs(results):
        cache.save(run, trained[run])
    cache.save_experiment("sweep", config.key(), results)
    return cache.load_experiment("sweep", config.key())  # as JSON has it: what a cached call returns


def _run_sweep_in_processes(config: SweepConfig, runs, processes: int, on_run, mnist, start: float) -> dict:
    """``run_sweep`` with ``processes`` runs at once: every run's entry is written to a
    temporary store in the cache folder (ignored by listings), the kept ones then moved
    into the cache, atomically."""
    cache.cache_dir().mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-sweep-{config.key()}-", dir=cache.cache_dir()))
    rows = []
    try:
        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_sweep_worker, initargs=(mnist,)) as pool:
            done = pool.map(_train_sweep_run, [asdict(run) for run in runs], [str(staging)] * len(runs))
            for i, (run, (history, metrics)) in enumerate(zip(runs, done)):
                rows.append(sweep_row(config, run, history, metrics))
                if on_run:
                    on_run(i + 1, len(runs), rows[-1])
        results = sweep_results(config, rows, time.perf_counter() - start, mnist.sha256, library_versions())
        for run in kept_configs(results):
            entry = cache.entry_path(run, staging)
            cache.write_entry(cache.entry_path(run), {p.name: p.read_bytes() for p in entry.iterdir()})
        cache.save_experiment("sweep", config.key(), results)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return cache.load_experiment("sweep", config.key())


_WORKER_DATA = None


def _sweep_worker(mnist) -> None:
    """A sweep process: one TensorFlow thread of each kind (set before its first
    operation), and the parent's ``mnist`` (a ``core.data.images.ImageSet``), so every run trains
    on the data whose checksum the sweep records."""
    global _WORKER_DATA
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    _WORKER_DATA = mnist


def _train_sweep_run(fields: dict, staging: str) -> tuple[dict, dict]:
    """Train one run (a ``TrainConfig``'s fields) in a sweep process and write its entry
    into the store ``staging``; returns its history and metrics."""
    run = TrainConfig.from_fields(fields)
    result = train(run, mnist=_WORKER_DATA)
    cache.save(run, result, root=Path(staging))
    return result.history, result.metrics


def load_sweep(config: SweepConfig = SWEEPS[0]):
    """The cached results of a sweep (see ``run_sweep``; default: the plain one), or None."""
    return cache.load_experiment("sweep", config.key())


def best_classifier_config():
    """The default classifier config with the highest final validation accuracy among
    the cached ones (the 5,000 validation digits; the test set plays no part); the CNN's
    default config when none is cached."""
    best, best_acc = default_config("cnn"), -1.0
    for kind in CLASSIFIERS:
        config = default_config(kind)
        if cache.is_cached(config):
            acc = cache.load_records(config)[0]["val_accuracy"][-1]
            if acc > best_acc:
                best, best_acc = config, acc
    return best


def _default_denoisers():
    return [default_config(kind) for kind in DENOISERS]


def load_noise_curve():
    """The cached noise curve of the best classifier and the default denoisers, or None."""
    return cache.load_experiment("noise_curve", noise_curve_key(best_classifier_config(), _default_denoisers()))


def run_noise_curve(classifier_config=None, levels=NOISE_LEVELS, seed=0, mnist=None,
                    force: bool = False) -> dict:
    """Accuracy and PSNR on the full test set at each noise level, for every denoiser.

    A report on trained models (nothing is chosen from it): the 10,000 test digits are
    seasoned with ``salt_and_pepper`` at each level (a generator seeded with ``seed``
    per level), then cleaned by the course's dense denoising autoencoder ("dense"), the
    convolutional denoiser ("conv") and a 3x3 median filter ("median"); each version is
    classified and compared with the clean digits.

    Returns:
        {"classifier", "classifier_kind", "denoisers": {name: key}, "seed", "rows":
        [{noise_level, <v>_accuracy, <v>_psnr for v in seasoned, dense, conv,
        median}], "seconds", "data_sha256", "versions"}; accuracies in [0, 1], PSNR in
        dB (``core.analysis.denoise.psnr``). Cached under ``models_cache/noise_curve-<key>``.
    """
    classifier_config = classifier_config or best_classifier_config()
    denoiser_configs = _default_denoisers()
    key = noise_curve_key(classifier_config, denoiser_configs, levels, seed)
    cached = cache.load_experiment("noise_curve", key)
    if cached and not force:
        return cached
    start = time.perf_counter()
    mnist = mnist or data_mod.load_mnist()
    classifier = load_or_train(classifier_config, mnist=mnist).model
    dense, conv = (load_or_train(config, mnist=mnist).model for config in denoiser_configs)
    _, _, (x_test, y_test) = mnist.splits()
    rows = []
    for level in levels:
        seasoned = salt_and_pepper(x_test, level, np.random.default_rng(seed))
        versions = {
            "seasoned": seasoned,
            "dense": dense.predict(seasoned, batch_size=1000, verbose=0),
            "conv": conv.predict(seasoned, batch_size=1000, verbose=0),
            "median": median_filter(seasoned),
        }
        row = {"noise_level": level}
        for name, images in versions.items():
            row[f"{name}_accuracy"] = accuracy(classifier, images, y_test)
            row[f"{name}_psnr"] = psnr(x_test, images)
        rows.append(row)
    results = {
        "classifier": classifier_config.key(), "classifier_kind": classifier_config.kind,
        "denoisers": {config.kind: config.key() for config in denoiser_configs},
        "seed": seed, "rows": rows, "seconds": round(time.perf_counter() - start, 1),
        "data_sha256": mnist.sha256, "versions": library_versions(),
    }
    cache.save_experiment("noise_curve", key, results)
    return results
