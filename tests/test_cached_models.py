"""The committed cache, on the real MNIST test set: accuracy floors and experiment shapes.

Every floor is a target of ``core.targets.TARGETS``, the table the benchmark prints.
"""

import numpy as np
import pytest
from scipy.spatial import cKDTree

from core.store import cache
from core.config import (DEFAULTS, DROPOUT_PAIR, FASHION, NAMED_KINDS, NOISE_LEVELS, PRESET_RUNS, SEEDS, SWEEP_FACTORS,
                         SWEEPS, TrainConfig, seeded_configs)
from core.analysis.latent import encode, generate
from core.data.mnist import BUNDLED_SHA256
from core.data.noise import salt_and_pepper
from core.targets import TARGETS
from core.training.experiments import accuracy, best_classifier_config, load_noise_curve, load_sweep
from core.training.speed import seconds_to
from core.training.sweeps import kept_configs, sweep_best, sweep_verdict

CONFIGS = {**{kind: DEFAULTS[kind] for kind in NAMED_KINDS},
           **{f"{kind} seed {c.seed}": c for kind in SEEDS for c in seeded_configs(kind)},
           "fashion cnn": FASHION[0], "fashion dense_64_64": FASHION[1],
           "500-300 without dropout": DROPOUT_PAIR[0], "500-300 with dropout": DROPOUT_PAIR[1],
           **{f"preset {c.key()}": c for c in PRESET_RUNS}}


@pytest.fixture(scope="module")
def models():
    missing = [name for name, c in CONFIGS.items() if not cache.is_cached(c)]
    assert not missing, f"models_cache/ lacks {missing}: run `python -m core train --all`"
    return {name: cache.load(config) for name, config in CONFIGS.items()}


@pytest.fixture(scope="module")
def cnn_scores(models, test_set):
    return [accuracy(models[f"cnn seed {c.seed}"].model, *test_set) for c in seeded_configs("cnn")]


def test_dense_64_64_floor(models, test_set):
    measured = accuracy(models["dense_64_64"].model, *test_set)
    assert TARGETS["dense_64_64"].met(measured), measured
    # The recorded metric is what the model really scores.
    assert measured == pytest.approx(models["dense_64_64"].metrics["test_accuracy"], abs=1e-4)


def test_every_cnn_seed_and_their_mean(models, cnn_scores):
    for config, score in zip(seeded_configs("cnn"), cnn_scores):
        assert TARGETS["cnn_each"].met(score), (config.seed, score)
        assert score == pytest.approx(models[f"cnn seed {config.seed}"].metrics["test_accuracy"], abs=1e-4)
    assert TARGETS["cnn_mean"].met(float(np.mean(cnn_scores))), cnn_scores


def test_every_quick_cnn_seed_reads_99_percent(models, test_set):
    for config in seeded_configs("quick_cnn"):
        score = accuracy(models[f"quick_cnn seed {config.seed}"].model, *test_set)
        assert TARGETS["quick_cnn_each"].met(score), (config.seed, score)
        assert score == pytest.approx(models[f"quick_cnn seed {config.seed}"].metrics["test_accuracy"], abs=1e-4)


def test_recorded_training_times_meet_the_speed_targets(models):
    # Recorded by `python -m core train` (validation passes included); the benchmark
    # measures them again (python -m core bench).
    for config in seeded_configs("quick_cnn"):
        entry = models[f"quick_cnn seed {config.seed}"]
        assert TARGETS["quick_cnn_training_seconds"].met(entry.metrics["training_seconds"]), config.seed
    for config in seeded_configs("cnn"):
        entry = models[f"cnn seed {config.seed}"]
        assert TARGETS["cnn_training_minutes"].met(entry.metrics["training_seconds"] / 60), config.seed
        assert TARGETS["cnn_seconds_to_99_val"].met(seconds_to(entry.history, 0.99)), config.seed
    assert TARGETS["fashion_cnn_training_minutes"].met(models["fashion cnn"].metrics["training_seconds"] / 60)


@pytest.fixture(scope="module")
def fashion():
    from core.data.fashion import load_fashion_mnist

    return load_fashion_mnist()


def test_entries_record_provenance_and_no_test_metric_per_epoch(models, fashion):
    digests = {"mnist": BUNDLED_SHA256, "fashion_mnist": fashion.sha256}
    for name, entry in models.items():
        m, config = entry.metrics, CONFIGS[name]
        assert m["data_sha256"] == digests[config.dataset], name
        # Entries written before the dataset and layers fields existed lack them.
        assert TrainConfig.from_fields(m["config"]) == config and m["seed"] == config.seed
        assert m["training_seconds"] > 0 and m["param_count"] == entry.model.count_params()
        assert len(entry.history["loss"]) == m["epochs"] and len(entry.history["val_loss"]) == m["epochs"]
        assert not [k for k in entry.history if "test" in k], name
        # The thread counts that identical weights also depend on (README.md, "Fast training").
        assert set(m["threads"]) == {"intra_op", "inter_op"}, name


@pytest.fixture(scope="module")
def fashion_scores(models, fashion):
    _, _, (x, y) = fashion.splits()
    return {name: accuracy(models[name].model, x, y) for name in ("fashion cnn", "fashion dense_64_64")}


# Missed and reported (README.md, "Fast training"): the recipe chosen on validation
# (92.96%) reaches 92.15% on the test images. Strict: meeting the target fails this mark,
# so the mark goes when the target is met.
@pytest.mark.xfail(strict=True, reason="Fashion-MNIST CNN target missed: 92.15% test, target 93.0%")
def test_fashion_mnist_cnn_meets_its_target(fashion_scores):
    assert TARGETS["fashion_cnn"].met(fashion_scores["fashion cnn"]), fashion_scores


def test_fashion_mnist_models_score_what_they_recorded(models, fashion_scores):
    for name, score in fashion_scores.items():
        assert score == pytest.approx(models[name].metrics["test_accuracy"], abs=1e-4), name
    # The same networks find clothes harder than digits.
    assert fashion_scores["fashion cnn"] < models["cnn"].metrics["test_accuracy"]
    assert fashion_scores["fashion dense_64_64"] < models["dense_64_64"].metrics["test_accuracy"]
    assert fashion_scores["fashion dense_64_64"] < fashion_scores["fashion cnn"]


def test_dropout_narrows_the_gap_between_training_and_validation(models, test_set):
    gaps = [models[name].history["accuracy"][-1] - models[name].history["val_accuracy"][-1]
            for name in ("500-300 without dropout", "500-300 with dropout")]
    assert gaps[1] < gaps[0], gaps
    for name in ("500-300 without dropout", "500-300 with dropout"):
        assert accuracy(models[name].model, *test_set) == pytest.approx(models[name].metrics["test_accuracy"],
                                                                         abs=1e-4)


def test_cnn_reads_distorted_digits(models, test_set):
    """The Draw page's CNN copes with shifted, rotated, scaled, slanted, thin and thick digits."""
    import tensorflow as tf

    from core.data.augment import distort

    x, y = test_set
    distorted = distort(tf.constant(x), tf.random.Generator.from_seed(1)).numpy()
    assert accuracy(models["cnn"].model, distorted, y) >= 0.99


@pytest.mark.parametrize("noise_level", [0.0, 0.5, 0.7])
def test_conv_denoiser_then_cnn(models, test_set, noise_level):
    x, y = test_set
    seasoned = salt_and_pepper(x, noise_level, np.random.default_rng(0))
    denoised = models["conv_denoiser"].model.predict(seasoned, batch_size=1000, verbose=0)
    measured = accuracy(models["cnn"].model, denoised, y)
    assert TARGETS[f"conv_denoiser_{noise_level:.1f}"].met(measured), measured


def test_course_denoiser_beats_seasoned_at_half_noise(models, test_set):
    x, y = test_set
    seasoned = salt_and_pepper(x, 0.5, np.random.default_rng(0))
    denoised = models["denoising_autoencoder"].model.predict(seasoned, batch_size=1000, verbose=0)
    classifier = models["cnn"].model
    seasoned_acc, denoised_acc = accuracy(classifier, seasoned, y), accuracy(classifier, denoised, y)
    assert denoised_acc > seasoned_acc + 0.1


def test_cvae_draws_the_requested_digit(models):
    entry = models["cvae"]
    decoder, latent_dim = entry.model.get_layer("decoder"), entry.metrics["config"]["latent_dim"]
    samples = np.concatenate([generate(decoder, d, 100, latent_dim, seed=d) for d in range(10)])
    assert samples.shape == (1000, 28, 28) and 0 <= samples.min() and samples.max() <= 1
    assert TARGETS["cvae_agreement"].met(accuracy(models["cnn"].model, samples, np.repeat(np.arange(10), 100)))


def test_vae_map_separates_the_digits(models, test_set):
    x, y = test_set
    codes = encode(models["vae"].model.get_layer("encoder"), x)
    assert codes.shape == (10000, 2)
    # 5-nearest-neighbour vote in the 2-D map, fitted on one half, scored on the other.
    tree = cKDTree(codes[:5000])
    _, idx = tree.query(codes[5000:], k=5)
    votes = np.array([np.bincount(row, minlength=10).argmax() for row in y[:5000][idx]])
    assert np.mean(votes == y[5000:]) > 0.75


@pytest.mark.parametrize("sweep", SWEEPS, ids=lambda s: s.name)
def test_sweep_is_cached_with_every_run_and_its_spread(sweep):
    results = load_sweep(sweep)
    assert results is not None, f"the {sweep.name} sweep is not cached: run `python -m core train sweep`"
    assert len(results["rows"]) == len(SWEEP_FACTORS) * sweep.replicates == 18
    assert [row["l2"] for row in results["summary"]] == pytest.approx(sorted(SWEEP_FACTORS))
    for entry in results["summary"]:
        values = [r["final_val_accuracy"] for r in results["rows"] if r["l2"] == entry["l2"]]
        assert entry["replicates"] == sweep.replicates == len(values)
        assert entry["final_val_accuracy_mean"] == pytest.approx(np.mean(values))
        assert entry["final_val_accuracy_std"] == pytest.approx(np.std(values, ddof=1))
        assert 0.97 < entry["final_val_accuracy_mean"] < 1.0
    # Different seeds give different models: the spread is real, not a placeholder.
    assert any(entry["final_val_accuracy_std"] > 0 for entry in results["summary"])


@pytest.mark.parametrize("sweep", SWEEPS, ids=lambda s: s.name)
def test_sweep_chooses_on_validation_and_keeps_those_weights(sweep, test_set):
    results = load_sweep(sweep)
    chosen = sweep_best(results)
    assert chosen["final_val_accuracy_mean"] == max(e["final_val_accuracy_mean"] for e in results["summary"])
    assert results["chosen_l2"] == chosen["l2"]
    kept = kept_configs(results)
    assert {c.l2 for c in kept} == {0.0, chosen["l2"]} and all(c.augment == sweep.augment for c in kept)
    by_key = {row["key"]: row for row in results["rows"]}
    for config in kept:
        entry = cache.load(config)
        # The kept weights are the sweep's own run: same validation curve, same test score.
        assert entry.history["val_accuracy"][-1] == by_key[config.key()]["final_val_accuracy"]
        assert accuracy(entry.model, *test_set) == pytest.approx(by_key[config.key()]["test_accuracy"], abs=1e-4)
    verdict = sweep_verdict(results)
    assert verdict["control"]["l2"] == 0 and verdict["best"]["l2"] > 0


def test_the_apps_dense_500_300_is_the_plain_sweeps_choice():
    results = load_sweep(SWEEPS[0])
    assert DEFAULTS["dense_500_300"].l2 == results["chosen_l2"]
    assert DEFAULTS["dense_500_300"] in kept_configs(results)


def test_plain_sweep_meets_hintons_terms(test_set):
    results = load_sweep(SWEEPS[0])
    chosen = sweep_best(results)["l2"]
    scores = [accuracy(cache.load(c).model, *test_set) for c in kept_configs(results) if c.l2 == chosen]
    assert len(scores) == 3 and TARGETS["dense_500_300_plain"].met(float(np.mean(scores))), scores


def test_noise_curve_is_cached_for_the_best_classifier():
    config = best_classifier_config()
    assert config.kind == "cnn"
    results = load_noise_curve()
    assert results is not None, "the noise curve is not cached: run `python -m core train noise_curve`"
    rows = results["rows"]
    assert [r["noise_level"] for r in rows] == list(NOISE_LEVELS)
    assert rows[0]["seasoned_accuracy"] == pytest.approx(
        cache.load_records(config)[1]["test_accuracy"], abs=1e-4)
    for row in rows[3:8]:
        assert row["conv_accuracy"] > row["dense_accuracy"] > row["seasoned_accuracy"]
        assert row["conv_psnr"] > row["seasoned_psnr"] and row["median_psnr"] > row["seasoned_psnr"]
