"""The class leaderboard of runs trained here: ranked on validation, diverged runs flagged."""

import zipfile

from core.config import default_config
from core.store import cache
from core.store.leaderboard import diverged, leaderboard


def store_run(root, config, val_accuracy, loss=0.1):
    path = cache.entry_path(config, root)
    path.mkdir(parents=True)
    with zipfile.ZipFile(path / "model.keras", "w") as archive:
        archive.writestr("config.json", "{}")
    cache.write_json(path / "history.json", {"val_accuracy": [0.5, val_accuracy], "loss": [1.0, loss],
                                             "val_loss": [1.0, loss]})
    cache.write_json(path / "metrics.json", {"kind": config.kind, "key": config.key(), "config": config.__dict__,
                                             "test_accuracy": val_accuracy - 0.01, "param_count": 1,
                                             "training_seconds": 1.0, "test_loss": loss})


def test_near_chance_or_nan_is_diverged():
    assert diverged({"val_accuracy": [0.2, 0.098], "loss": [2.3, 2.3]})
    assert diverged({"loss": [0.5, float("nan")]})
    assert not diverged({"val_accuracy": [0.9, 0.97], "loss": [0.3, 0.1]})
    assert not diverged({"loss": [0.2, 0.1], "val_loss": [0.2, 0.1]})  # an autoencoder that learned


def test_ranked_by_validation_with_divergence_flagged(tmp_path):
    store_run(tmp_path, default_config("dense_64_64", seed=1), 0.97)
    store_run(tmp_path, default_config("dense_64_64", seed=2, learning_rate=0.5), 0.098, loss=2.3)
    store_run(tmp_path, default_config("cnn", seed=3), 0.99)
    store_run(tmp_path, default_config("vae", seed=4), 0.0)  # not a classifier: not ranked
    board = leaderboard(tmp_path)
    assert [(r["kind"], r["config"]["seed"]) for r in board] == [("cnn", 3), ("dense_64_64", 1), ("dense_64_64", 2)]
    assert [r["diverged"] for r in board] == [False, False, True]
