"""The two experiments, cached like models: the weight-decay sweep and accuracy against noise."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass

import numpy as np

from core import cache
from core import data as data_mod
from core.noise import salt_and_pepper
from core.training import default_config, library_versions, train

# Hinton's result for 784-500-300-10 with weight decay, from LeCun's MNIST table.
HINTON_ACCURACY = 0.9847


@dataclass(frozen=True)
class SweepConfig:
    """The regularization sweep: dense_500_300 at each L2 factor, ``replicates`` seeds each.

    Replicate r of every factor uses seed ``seed + r``.
    """

    l2_factors: tuple = (1e-6, 1e-5, 1e-4, 1e-3)
    replicates: int = 3
    epochs: int = 10
    seed: int = 0

    def key(self) -> str:
        """12 hex digits of the sha256 of the sweep and its base dense_500_300 config
        (without l2 and seed, which the sweep sets itself)."""
        base = {k: v for k, v in asdict(default_config("dense_500_300")).items() if k not in ("l2", "seed")}
        text = json.dumps({"sweep": asdict(self), "base": base}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def runs(self):
        """The ``TrainConfig`` of every run, factor-major."""
        return [
            default_config("dense_500_300", l2=float(f), seed=self.seed + r, epochs=self.epochs)
            for f in self.l2_factors
            for r in range(self.replicates)
        ]


def summarize_sweep(rows: list[dict]) -> list[dict]:
    """Mean and sample standard deviation (ddof=1) per L2 factor of final validation,
    best validation and test accuracy."""
    summary = []
    for factor in sorted({row["l2"] for row in rows}):
        group = [row for row in rows if row["l2"] == factor]
        entry = {"l2": factor, "replicates": len(group)}
        for column in ("final_val_accuracy", "best_val_accuracy", "test_accuracy"):
            values = np.array([row[column] for row in group])
            entry[f"{column}_mean"] = float(values.mean())
            entry[f"{column}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        summary.append(entry)
    return summary


def run_sweep(config: SweepConfig = SweepConfig(), on_run=None, on_epoch=None, mnist=None,
              force: bool = False) -> dict:
    """Train every run of the sweep (or load the cached sweep) and return its results.

    Args:
        force: rerun even when cached; the cached results stay readable until the new
            ones replace them.
        on_run: called as ``on_run(done, total, row)`` after each run.
        on_epoch: passed to ``train`` for every run.

    Returns:
        {"config", "rows": [{l2, replicate, seed, final_val_accuracy,
        best_val_accuracy, test_accuracy, training_seconds}], "summary" (see
        ``summarize_sweep``), "hinton_accuracy", "seconds", "data_sha256", "versions"}.
        Only metrics are kept, except that the run whose config is the default
        dense_500_300 is also saved as that model's cache entry.
    """
    cached = cache.load_experiment("sweep", config.key())
    if cached and not force:
        return cached
    mnist = mnist or data_mod.load_mnist()
    runs = config.runs()
    rows, start = [], time.perf_counter()
    for i, run in enumerate(runs):
        result = train(run, on_epoch=on_epoch, mnist=mnist)
        if run == default_config("dense_500_300"):
            cache.save(run, result)  # the app's dense_500_300: no need to train it twice
        val = result.history["val_accuracy"]
        row = {
            "l2": run.l2, "replicate": run.seed - config.seed, "seed": run.seed,
            "final_val_accuracy": val[-1], "best_val_accuracy": max(val),
            "test_accuracy": result.metrics["test_accuracy"],
            "training_seconds": result.metrics["training_seconds"],
        }
        rows.append(row)
        if on_run:
            on_run(i + 1, len(runs), row)
    results = {
        "config": asdict(config),
        "base_config": asdict(default_config("dense_500_300")),
        "rows": rows,
        "summary": summarize_sweep(rows),
        "hinton_accuracy": HINTON_ACCURACY,
        "seconds": round(time.perf_counter() - start, 1),
        "data_sha256": data_mod.last_source.get("sha256"),
        "versions": library_versions(),
    }
    cache.save_experiment("sweep", config.key(), results)
    return results


def load_sweep(config: SweepConfig = SweepConfig()):
    """The cached results of the default sweep (see ``run_sweep``), or None."""
    return cache.load_experiment("sweep", config.key())


def sweep_best(results: dict) -> dict:
    """The summary entry (see ``summarize_sweep``) of the L2 factor with the highest mean
    final validation accuracy: chosen without looking at the test set."""
    return max(results["summary"], key=lambda entry: entry["final_val_accuracy_mean"])


NOISE_LEVELS = tuple(round(0.1 * i, 1) for i in range(11))


def best_classifier_config():
    """The default classifier config with the highest cached test accuracy (the CNN
    when the cache is complete); falls back to the CNN's default config."""
    best, best_acc = default_config("cnn"), -1.0
    for kind in ("dense_64_64", "dense_500_300", "cnn"):
        config = default_config(kind)
        if cache.is_cached(config):
            acc = cache.load_records(config)[1]["test_accuracy"]
            if acc > best_acc:
                best, best_acc = config, acc
    return best


DENOISERS = ("denoising_autoencoder", "conv_denoiser")


def noise_curve_key(classifier_config, denoiser_configs, levels, seed) -> str:
    """12 hex digits naming a noise curve: the models' keys, the levels and the seed."""
    text = json.dumps({"classifier": classifier_config.key(),
                       "denoisers": [config.key() for config in denoiser_configs],
                       "levels": list(levels), "seed": seed}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _default_denoisers():
    return [default_config(kind) for kind in DENOISERS]


def load_noise_curve():
    """The cached noise curve of the best classifier and the default denoisers, or None."""
    key = noise_curve_key(best_classifier_config(), _default_denoisers(), NOISE_LEVELS, 0)
    return cache.load_experiment("noise_curve", key)


def run_noise_curve(classifier_config=None, levels=NOISE_LEVELS, seed=0, mnist=None,
                    force: bool = False) -> dict:
    """Accuracy and PSNR on the full test set at each noise level, for every denoiser.

    The 10,000 test digits are seasoned with ``salt_and_pepper`` at each level (a
    generator seeded with ``seed`` per level), then cleaned by the course's dense
    denoising autoencoder ("dense"), the convolutional denoiser ("conv") and a 3x3
    median filter ("median"); each version is classified and compared with the clean
    digits.

    Returns:
        {"classifier", "classifier_kind", "denoisers": {name: key}, "seed", "rows":
        [{noise_level, <v>_accuracy, <v>_psnr for v in seasoned, dense, conv,
        median}], "seconds", "data_sha256", "versions"}; accuracies in [0, 1], PSNR in
        dB (``core.denoise.psnr``). Cached under ``models_cache/noise_curve-<key>``.
    """
    from core.denoise import median_filter, psnr

    classifier_config = classifier_config or best_classifier_config()
    denoiser_configs = _default_denoisers()
    key = noise_curve_key(classifier_config, denoiser_configs, levels, seed)
    cached = cache.load_experiment("noise_curve", key)
    if cached and not force:
        return cached
    start = time.perf_counter()
    classifier = cache.load_or_train(classifier_config, mnist=mnist).model
    dense, conv = (cache.load_or_train(config, mnist=mnist).model for config in denoiser_configs)
    _, (x_test, y_test) = mnist or data_mod.load_mnist()
    x_test = data_mod.to_float(x_test)
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
        "data_sha256": data_mod.last_source.get("sha256"), "versions": library_versions(),
    }
    cache.save_experiment("noise_curve", key, results)
    return results


def accuracy(classifier, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of ``images`` (n, 28, 28) float32 in [0, 1] whose argmax class equals ``labels``."""
    probabilities = classifier.predict(images, batch_size=1000, verbose=0)
    return float(np.mean(np.argmax(probabilities, axis=1) == labels))
