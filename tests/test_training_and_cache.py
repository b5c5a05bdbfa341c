import json
import os

import numpy as np
import pytest

from core.config import BOUNDS, TrainConfig, config_key, default_config
from core.store import cache
from core.training.experiments import load_or_train
from core.training.run import train

SMALL = dict(train_size=3000, epochs=1)


@pytest.fixture(scope="module")
def small_run(mnist):
    config = default_config("dense_64_64", **SMALL)
    epochs_seen = []
    result = train(config, on_epoch=lambda e, n, logs: epochs_seen.append((e, n, sorted(logs))), mnist=mnist)
    return config, result, epochs_seen


def test_training_path_end_to_end(small_run, test_set):
    config, result, epochs_seen = small_run
    # Training and validation metrics only: the test set is not in view while training.
    logged = ["accuracy", "loss", "seconds", "val_accuracy", "val_loss"]
    assert epochs_seen == [(1, 1, logged)]
    assert set(result.history) == set(logged)
    m = result.metrics
    assert m["param_count"] == 55_050 and m["epochs"] == 1 and m["seed"] == 0
    assert m["data_sha256"] == "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"
    assert m["data_source"] == "bundled data/mnist.npz" and m["versions"]["keras"].startswith("3.")
    assert m["config"]["train_size"] == 3000 and m["machine"]["cores"] >= 1
    # 3,000 digits, one epoch: far from the full model, far above chance (10%).
    assert 0.6 < m["test_accuracy"] < 0.95
    # The recorded test accuracy is the model's, on the 10,000 test digits.
    from core.training.experiments import accuracy

    assert accuracy(result.model, *test_set) == pytest.approx(m["test_accuracy"], abs=1e-4)


def test_same_seed_same_weights(mnist):
    config = default_config("dense_64_64", train_size=500, epochs=1)
    a, b = train(config, mnist=mnist), train(config, mnist=mnist)
    for wa, wb in zip(a.model.get_weights(), b.model.get_weights()):
        assert np.array_equal(wa, wb)
    c = train(default_config("dense_64_64", train_size=500, epochs=1, seed=1), mnist=mnist)
    assert not np.array_equal(a.model.get_weights()[0], c.model.get_weights()[0])


def test_autoencoder_training_path(mnist):
    result = train(default_config("denoising_autoencoder", train_size=1000, epochs=1), mnist=mnist)
    assert set(result.history) == {"loss", "val_loss", "seconds"}
    assert "test_accuracy" not in result.metrics and result.metrics["test_loss"] < 0.7


def test_augmented_classifier_trains(mnist):
    result = train(default_config("cnn", train_size=1000, epochs=1, augment=True), mnist=mnist)
    assert result.metrics["config"]["augment"] and result.metrics["test_accuracy"] > 0.3


@pytest.mark.parametrize("kind", ["conv_denoiser", "cvae"])
def test_new_autoencoders_train_save_and_load(tmp_cache, mnist, kind, test_set):
    config = default_config(kind, train_size=500, epochs=2)
    result = train(config, mnist=mnist)
    assert set(result.history) == {"loss", "val_loss", "seconds"}
    assert result.history["loss"][1] < result.history["loss"][0]
    assert result.history["val_loss"][1] < result.history["val_loss"][0]
    cache.save(config, result)
    loaded = cache.load(config)
    x, y = test_set[0][:16], test_set[1][:16].astype("int32")
    if kind == "cvae":  # the full model samples a code; the decoder is deterministic
        def run(model):
            return model.get_layer("decoder")([np.ones((16, config.latent_dim), np.float32), y])
    else:
        def run(model):
            return model(x)
    assert np.allclose(np.asarray(run(loaded.model)), np.asarray(run(result.model)), atol=1e-6)


def test_bad_config_raises_readable_error():
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig("cnn", epochs=0).validate()
    with pytest.raises(ValueError, match="learning_rate"):
        default_config("cnn", learning_rate=float("nan"))
    low, high = BOUNDS["batch_size"]
    default_config("cnn", batch_size=low)
    default_config("cnn", batch_size=high)
    with pytest.raises(ValueError, match="batch_size"):
        default_config("cnn", batch_size=high + 1)
    with pytest.raises(ValueError, match="kind"):
        default_config("resnet")
    with pytest.raises(ValueError, match="optimizer"):
        default_config("cnn", optimizer="rmsprop")
    with pytest.raises(ValueError, match="augment"):
        default_config("vae", augment=True)


def test_cache_round_trip(tmp_cache, small_run, test_set):
    config, result, _ = small_run
    assert not cache.is_cached(config)
    path = cache.save(config, result)
    assert path == cache.entry_path(config) and path.name == f"dense_64_64-{config.key()}"
    assert sorted(os.listdir(path)) == ["history.json", "metrics.json", "model.keras"]
    loaded = cache.load(config)
    assert loaded.history == result.history
    assert loaded.metrics == json.loads(json.dumps(result.metrics))
    x = test_set[0][:64]
    assert np.allclose(np.asarray(loaded.model(x)), np.asarray(result.model(x)), atol=1e-6)
    # No optimizer state: the file is about the size of the float32 weights.
    assert (path / "model.keras").stat().st_size < 55_050 * 4 * 1.3
    assert [m["key"] for m in cache.list_models()] == [config.key()]


def test_load_or_train_uses_the_cache(tmp_cache, small_run, monkeypatch):
    config, result, _ = small_run
    cache.save(config, result)
    monkeypatch.setattr("core.training.experiments.train", lambda *a, **k: pytest.fail("trained although cached"))
    assert load_or_train(config).metrics["key"] == config.key()


def test_missing_entry_says_how_to_build_it(tmp_cache):
    with pytest.raises(FileNotFoundError, match="python -m core train cnn"):
        cache.load(default_config("cnn"))


def test_interrupted_write_leaves_nothing(tmp_cache):
    final = tmp_cache / "exp-abc"
    with pytest.raises(RuntimeError):
        with cache.atomic_entry(final) as tmp:
            (tmp / "results.json").write_text("{}")
            raise RuntimeError("killed mid-write")
    assert not final.exists()
    assert list(tmp_cache.iterdir()) == []


def test_interrupted_rewrite_keeps_the_old_entry(tmp_cache):
    cache.save_experiment("exp", "abc", {"v": 1})
    with pytest.raises(RuntimeError):
        with cache.atomic_entry(cache.experiment_path("exp", "abc")) as tmp:
            (tmp / "results.json").write_text('{"v": 2}')
            raise RuntimeError("killed mid-write")
    assert cache.load_experiment("exp", "abc") == {"v": 1}
    assert [p.name for p in tmp_cache.iterdir()] == ["exp-abc"]


def test_config_module_does_not_import_tensorflow():
    import subprocess
    import sys

    code = ("import sys, core.config as c; c.default_config('cnn').validate(); c.SWEEPS[0].key(); "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_one_hash_names_every_entry():
    config = default_config("cnn")
    assert config.key() == config_key(config) == config_key(config.hashed_fields())
    # The fields added later are hashed only away from their defaults.
    assert "dataset" not in config.hashed_fields() and "layers" not in config.hashed_fields()
    fashion = default_config("cnn", dataset="fashion_mnist")
    assert fashion.hashed_fields()["dataset"] == "fashion_mnist" and fashion.key() != config.key()
    assert len(config.key()) == 12 and config.key() != default_config("cnn", seed=1).key()


def test_batch_progress_reports_fractions_of_epochs():
    from core.training.run import BatchProgress

    seen = []
    callback = BatchProgress(seen.append, every=0.0)
    callback.set_params({"steps": 4, "epochs": 3})
    callback.on_epoch_begin(1)
    callback.on_train_batch_end(1)
    callback.on_train_batch_end(3)
    assert seen == [1.5, 2.0]


def test_mixed_precision_trains_in_bfloat16_and_returns_a_float32_model(mnist, test_set):
    from core.training.experiments import accuracy

    config = default_config("quick_cnn", train_size=1000, epochs=1)
    assert config.precision == "mixed_bfloat16"
    result = train(config, mnist=mnist)
    assert {layer.dtype_policy.name for layer in result.model.layers} == {"float32"}
    # The recorded test accuracy is the float32 model's, the one stored and served.
    assert accuracy(result.model, *test_set) == pytest.approx(result.metrics["test_accuracy"], abs=1e-4)
    # The global policy is restored: the next model builds in float32.
    import keras

    assert keras.config.dtype_policy().name == "float32"
    again = train(config, mnist=mnist)
    for a, b in zip(result.model.get_weights(), again.model.get_weights()):
        assert np.array_equal(a, b)


def test_label_smoothing_trains_towards_softer_targets(mnist):
    import keras

    from core.training.run import smoothed_crossentropy

    labels = np.array([3, 0])
    sure = np.eye(10, dtype=np.float32)[labels]
    loss = smoothed_crossentropy(0.1)
    # A network 100% sure of the right answer is penalised; the smoothed target is not.
    target = np.full((2, 10), 0.01, np.float32)
    target[np.arange(2), labels] = 0.91
    assert float(keras.ops.mean(loss(labels, sure))) > float(keras.ops.mean(loss(labels, target)))
    result = train(default_config("dense_64_64", train_size=500, epochs=1, label_smoothing=0.1), mnist=mnist)
    assert result.metrics["config"]["label_smoothing"] == 0.1 and 0 < result.metrics["test_loss"] < 3
    with pytest.raises(ValueError, match="label_smoothing applies to classifiers only"):
        default_config("vae", label_smoothing=0.1)
    with pytest.raises(ValueError, match="cvae trains in float32 only"):
        default_config("cvae", precision="mixed_bfloat16")
    assert default_config("conv_denoiser", precision="mixed_bfloat16").precision == "mixed_bfloat16"


def test_the_input_pipeline_does_not_autotune(mnist):
    # tf.data's autotuning made a third of the epochs run on one core (README.md, "Fast training").
    from core.training.run import PIPELINES

    config = default_config("cnn", train_size=256)
    pipeline = PIPELINES["cnn"](config, *mnist.splits())
    for dataset in (pipeline.fit, pipeline.validation, pipeline.test):
        assert dataset.options().autotune.enabled is False


def test_a_cosine_run_of_one_step_trains(mnist):
    # One epoch of at most one batch leaves no step to decay over; Keras refuses decay_steps=0.
    result = train(default_config("dense_64_64", epochs=1, train_size=100, batch_size=128), mnist=mnist)
    assert len(result.history["loss"]) == 1 and 0.0 <= result.metrics["test_accuracy"] <= 1.0
