"""The model cache: one folder per config under ``models_cache/``.

A model entry ``<kind>-<key>/`` holds ``model.keras`` (weights and architecture, no
optimizer state), ``history.json`` and ``metrics.json``. An experiment entry
``<name>-<key>/`` holds ``results.json``. Every entry is written to a temporary folder
and renamed into place, so an interrupted run never leaves half an entry.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from core.data import ROOT

CACHE_ENV_VAR = "DIGITLAB_CACHE"


def cache_dir() -> Path:
    """``$DIGITLAB_CACHE`` if set (the tests use a temporary one), else ``models_cache/``."""
    return Path(os.environ.get(CACHE_ENV_VAR) or ROOT / "models_cache")


@contextlib.contextmanager
def atomic_entry(final: Path):
    """Yield an empty temporary folder beside ``final``; rename it to ``final`` on success.

    On an exception the temporary folder is removed and ``final`` is left untouched.
    If ``final`` already exists (another process finished first), it is replaced.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=final.parent))
    tmp.chmod(0o755)  # mkdtemp makes 0700; the app may run as another user than the CLI
    old = final.parent / f"{tmp.name}-old"
    try:
        yield tmp
        if final.exists():
            # Move the old entry aside first: a reader never sees half of an entry.
            os.replace(final, old)
        os.replace(tmp, final)
    finally:
        for leftover in (tmp, old):
            if leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)


def write_json(path: Path, payload) -> None:
    """Write ``payload`` as indented, key-sorted JSON (readable diffs in git)."""
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")


def read_json(path: Path):
    """Parse a JSON file."""
    return json.loads(Path(path).read_text())


def entry_path(config) -> Path:
    """Folder of the model entry for a ``TrainConfig``: ``models_cache/<kind>-<key>``."""
    return cache_dir() / f"{config.kind}-{config.key()}"


def is_cached(config) -> bool:
    """Whether the entry of ``config`` is complete (``metrics.json`` is written last)."""
    return (entry_path(config) / "metrics.json").exists()


def _weights_only_copy(model):
    # An uncompiled clone saves without optimizer variables: the entry stays small.
    clone = type(model).from_config(model.get_config())
    clone.set_weights(model.get_weights())
    return clone


def save(config, result) -> Path:
    """Write a ``TrainResult`` as the entry of ``config``, atomically; returns its folder."""
    final = entry_path(config)
    with atomic_entry(final) as tmp:
        _weights_only_copy(result.model).save(tmp / "model.keras")
        write_json(tmp / "history.json", result.history)
        write_json(tmp / "metrics.json", result.metrics)
    return final


@dataclass
class CachedModel:
    """A loaded entry: the Keras model (uncompiled), its history and metrics."""

    model: object
    history: dict
    metrics: dict


def load(config) -> CachedModel:
    """Load the entry of ``config`` with Keras' safe mode.

    Raises:
        FileNotFoundError: if the entry is not in the cache; the message says how to
            build it.
    """
    path = entry_path(config)
    if not (path / "metrics.json").exists():
        raise FileNotFoundError(
            f"no cached model for {config.kind} ({config.key()}) in {cache_dir()}; "
            f"build it with `python -m core train {config.kind}`"
        )
    import keras

    import core.models  # noqa: F401  registers the custom layers for deserialisation

    model = keras.models.load_model(path / "model.keras", compile=False, safe_mode=True)
    return CachedModel(model, read_json(path / "history.json"), read_json(path / "metrics.json"))


def load_records(config) -> tuple[dict, dict]:
    """(history, metrics) of a cached entry, without loading the model.

    Raises:
        FileNotFoundError: if the entry is not in the cache.
    """
    path = entry_path(config)
    return read_json(path / "history.json"), read_json(path / "metrics.json")


def load_or_train(config, on_epoch=None, mnist=None) -> CachedModel:
    """Load the entry of ``config``; train and cache it first when absent."""
    if not is_cached(config):
        from core.training import train

        save(config, train(config, on_epoch=on_epoch, mnist=mnist))
    return load(config)


def list_models() -> list[dict]:
    """The ``metrics.json`` of every model entry, sorted by kind then creation time."""
    rows = [read_json(p) for p in cache_dir().glob("*/metrics.json") if not p.parent.name.startswith(".")]
    return sorted(rows, key=lambda m: (m["kind"], m.get("created", "")))


def experiment_path(name: str, key: str) -> Path:
    """Folder of an experiment entry: ``models_cache/<name>-<key>``."""
    return cache_dir() / f"{name}-{key}"


def load_experiment(name: str, key: str):
    """The ``results.json`` of an experiment entry, or None when it is not cached."""
    path = experiment_path(name, key) / "results.json"
    return read_json(path) if path.exists() else None


def save_experiment(name: str, key: str, results) -> Path:
    """Write an experiment's results atomically; returns the entry folder."""
    final = experiment_path(name, key)
    with atomic_entry(final) as tmp:
        write_json(tmp / "results.json", results)
    return final
