"""Model stores: one folder per config, in the shipped cache or in the runs store.

Two stores with the same layout: ``models_cache/`` holds what the repository ships (built
by ``python -m core train``; the app only reads it), and ``runs/`` holds what visitors
train through the queue (``core.queue.jobs``), listed apart as "trained here".

A model entry ``<kind>-<key>/`` holds ``model.keras`` (weights and architecture, no
optimizer state), ``history.json`` and ``metrics.json``. An experiment entry
``<name>-<key>/`` holds ``results.json``. Every entry is written to a temporary folder
and renamed into place, so an interrupted run never leaves half an entry. An entry that
cannot be read (truncated, hand-edited) raises ``CorruptEntryError``, whose message
names it in one sentence; listings skip it and ``problems()`` reports it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from core.config import entry_name
from core.paths import ROOT

CACHE_ENV_VAR = "DIGITLAB_CACHE"
RUNS_ENV_VAR = "DIGITLAB_RUNS"
MODEL_FILES = ("model.keras", "history.json", "metrics.json")
# Beside a runs-store entry: the student (their name in the class) whose job trained it.
TRAINED_BY = "trained_by.json"


class CorruptEntryError(ValueError):
    """A store entry exists but cannot be read; the message names it in one sentence."""


def cache_dir() -> Path:
    """The shipped store: ``$DIGITLAB_CACHE`` if set (tests use a temporary one), else
    ``models_cache/``. Read-only for the app."""
    return Path(os.environ.get(CACHE_ENV_VAR) or ROOT / "models_cache")


def runs_dir() -> Path:
    """The store of runs trained here: ``$DIGITLAB_RUNS`` if set, else ``runs/`` (ignored
    by git)."""
    return Path(os.environ.get(RUNS_ENV_VAR) or ROOT / "runs")


def store_dir(store: str) -> Path:
    """The folder of a store by the name a listed run carries (``core.analysis.compare.Run``):
    "shipped" is ``cache_dir()``, any other ("here") ``runs_dir()``."""
    return cache_dir() if store == "shipped" else runs_dir()


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
    """Parse a JSON file.

    Raises:
        CorruptEntryError: if the file is not valid JSON (truncated, hand-edited).
        FileNotFoundError: if it does not exist.
    """
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptEntryError(f"The entry {path.parent.name} is damaged: its {path.name} cannot be read "
                                f"(line {getattr(exc, 'lineno', '?')}).") from exc


def entry_path(config, root: Path | None = None) -> Path:
    """Folder of the model entry for a ``TrainConfig``: ``<root>/<kind>-<key>``; the root
    defaults to the shipped cache."""
    return Path(root or cache_dir()) / config.entry


def is_cached(config, root: Path | None = None) -> bool:
    """Whether the entry of ``config`` is complete (``metrics.json`` is written last)."""
    return (entry_path(config, root) / "metrics.json").exists()


def find(config) -> Path | None:
    """The store holding ``config``: the shipped cache first, then the runs store; None
    when neither does."""
    for root in (cache_dir(), runs_dir()):
        if is_cached(config, root):
            return root
    return None


def has_entry(root: Path, name: str) -> bool:
    """Whether the store ``root`` holds a complete entry ``name``: a model entry
    (``metrics.json`` is written last) or an experiment (``results.json``)."""
    return any((Path(root) / name / file).exists() for file in ("metrics.json", "results.json"))


def check_entry(path: Path) -> tuple[dict, dict]:
    """(history, metrics) of the model entry at ``path``, checked: raises
    ``CorruptEntryError`` if a file is missing, JSON does not parse, or ``model.keras`` is
    not a whole zip archive (a truncated one has lost its central directory). Reads only
    the small files."""
    for name in MODEL_FILES:
        if not (path / name).exists():
            raise CorruptEntryError(f"The entry {path.name} is incomplete: {name} is missing.")
    if not zipfile.is_zipfile(path / "model.keras"):
        raise CorruptEntryError(f"The entry {path.name} is damaged: its model.keras is not a whole Keras file.")
    return read_json(path / "history.json"), read_json(path / "metrics.json")


def _check_any(path: Path) -> None:
    """Raise ``CorruptEntryError`` if the entry at ``path`` (model or experiment) is damaged."""
    if (path / "results.json").exists():
        read_json(path / "results.json")
    else:
        check_entry(path)


def damaged(root: Path | None = None) -> dict[str, str]:
    """{entry name: one sentence saying what is wrong} for each damaged entry of a store
    (default: the shipped cache), sorted by name. Temporary and aside folders (".…") are
    not entries."""
    found = {}
    for path in sorted(Path(root or cache_dir()).glob("*/")):
        if path.name.startswith(".") or not path.is_dir():
            continue
        try:
            _check_any(path)
        except CorruptEntryError as exc:
            found[path.name] = str(exc)
    return found


def problems(root: Path | None = None) -> list[str]:
    """One sentence for each damaged entry of a store (default: the shipped cache)."""
    return list(damaged(root).values())


# Entry folder -> its files' (inode, size, mtime) when last found whole. collect() asks about
# every finished job on every page run, and reading every entry's files each time grows
# with the class; their stats cost a tenth of that (README.md, "Constants in the code"), and any
# edit or rewrite changes them.
_found_whole: dict[str, tuple] = {}


def whole_entry(root: Path, name: str) -> bool:
    """Whether the store ``root`` holds entry ``name`` complete and readable (``check_entry``
    passes, or its ``results.json`` parses): a damaged entry is to be replaced, not kept.
    Reads only the small files, and only when they changed since last found whole."""
    path = Path(root) / name
    files = ("results.json",) if (path / "results.json").exists() else MODEL_FILES
    try:
        signature = tuple((s.st_ino, s.st_size, s.st_mtime_ns) for s in (os.stat(path / f) for f in files))
    except OSError:  # a file missing: incomplete (or no entry at all)
        return False
    if _found_whole.get(str(path)) == signature:
        return True
    try:
        _check_any(path)
    except (CorruptEntryError, OSError):
        return False
    _found_whole[str(path)] = signature
    return True


def _weights_only_copy(model):
    # An uncompiled clone saves without optimizer variables: the entry stays small.
    clone = type(model).from_config(model.get_config())
    clone.set_weights(model.get_weights())
    return clone


def save(config, result, root: Path | None = None) -> Path:
    """Write a ``TrainResult`` as the entry of ``config`` in ``root`` (default: the shipped
    cache, which only ``python -m core train`` writes), atomically; returns its folder."""
    final = entry_path(config, root)
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


def load(config, root: Path | None = None) -> CachedModel:
    """Load the entry of ``config`` from ``root`` (default: the shipped cache) with Keras'
    safe mode.

    Raises:
        FileNotFoundError: if the entry is not in the store; the message says how to
            build it.
        CorruptEntryError: if the entry is damaged (one sentence naming it).
    """
    path = entry_path(config, root)
    if not (path / "metrics.json").exists():
        raise FileNotFoundError(
            f"no cached model for {config.kind} ({config.key()}) in {path.parent}; "
            f"build it with `python -m core train {config.kind}`"
        )
    return load_path(path)


def load_path(path: Path) -> CachedModel:
    """Load the model entry folder ``path`` (any kind: the class's fine-tuned CNNs and
    symbol heads too) with Keras' safe mode.

    Raises:
        CorruptEntryError: if the entry is missing a file or is damaged (one sentence).
    """
    history, metrics = check_entry(Path(path))
    import keras

    import core.nets.models  # noqa: F401  registers the custom layers for deserialisation

    try:
        model = keras.models.load_model(Path(path) / "model.keras", compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many kinds for a damaged archive
        raise CorruptEntryError(f"The entry {Path(path).name} is damaged: its model.keras cannot be loaded.") from exc
    return CachedModel(model, history, metrics)


def model_files(model, history: dict, metrics: dict) -> dict[str, bytes]:
    """A model entry's files as bytes ({"model.keras", "history.json", "metrics.json"}),
    the model saved without its optimizer: what a queue job hands back through Redis for
    ``write_entry`` (``core.queue.jobs.collect``)."""
    with tempfile.TemporaryDirectory() as tmp:
        _weights_only_copy(model).save(Path(tmp) / "model.keras")
        write_json(Path(tmp) / "history.json", history)
        write_json(Path(tmp) / "metrics.json", metrics)
        return {name: (Path(tmp) / name).read_bytes() for name in MODEL_FILES}


def load_records(config, root: Path | None = None) -> tuple[dict, dict]:
    """(history, metrics) of a stored entry, without loading the model.

    Raises:
        FileNotFoundError: if the entry is not in the store.
        CorruptEntryError: if a file is damaged.
    """
    path = entry_path(config, root)
    return read_json(path / "history.json"), read_json(path / "metrics.json")


def list_models(root: Path | None = None) -> list[dict]:
    """The ``metrics.json`` of every readable model entry of a store (default: the shipped
    cache), each with its ``history`` added, sorted by kind then creation time. Damaged
    entries are skipped (``problems()`` names them)."""
    rows = []
    for path in Path(root or cache_dir()).glob("*/metrics.json"):
        if path.parent.name.startswith("."):
            continue
        try:
            history, metrics = check_entry(path.parent)
            rows.append({**metrics, "history": history, "student": trained_by(path.parent)})
        except CorruptEntryError:
            continue
    return sorted(rows, key=lambda m: (m["kind"], m.get("created", "")))


def trained_by_json(student: str) -> bytes:
    """The ``TRAINED_BY`` file's bytes for ``student`` (their name in the class, "" if none)."""
    return (json.dumps({"student": student}) + "\n").encode()


def trained_by(path: Path) -> str:
    """The student whose job trained the entry at ``path``; "" when not recorded (the
    shipped cache, entries trained by the CLI, or a damaged file)."""
    try:
        return str(read_json(Path(path) / TRAINED_BY).get("student", ""))
    except (FileNotFoundError, CorruptEntryError, AttributeError):
        return ""


def remove_entry(root: Path, name: str) -> bool:
    """Remove the entry ``name`` from the store ``root`` (the runs store: the shipped cache
    is read-only): renamed aside first, so no reader sees half of it; True if it existed."""
    final = Path(root) / name
    if not final.is_dir() or name.startswith("."):
        return False
    aside = Path(tempfile.mkdtemp(prefix=f".removed-{name}-", dir=final.parent))
    os.replace(final, aside / name)
    shutil.rmtree(aside, ignore_errors=True)
    return True


def write_entry(final: Path, files: dict[str, bytes]) -> Path:
    """Write ``files`` (name -> bytes) as the entry folder ``final``, atomically; returns it.
    How a finished job's result, received over Redis, lands in the runs store."""
    with atomic_entry(final) as tmp:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
    return final


def experiment_path(name: str, key: str, root: Path | None = None) -> Path:
    """Folder of an experiment entry: ``<root>/<name>-<key>`` (default: the shipped cache)."""
    return Path(root or cache_dir()) / entry_name(name, key)


def load_experiment(name: str, key: str, root: Path | None = None):
    """The ``results.json`` of an experiment entry, or None when it is not stored.

    Raises:
        CorruptEntryError: if the file is damaged.
    """
    path = experiment_path(name, key, root) / "results.json"
    return read_json(path) if path.exists() else None


def save_experiment(name: str, key: str, results, root: Path | None = None) -> Path:
    """Write an experiment's results atomically; returns the entry folder."""
    final = experiment_path(name, key, root)
    with atomic_entry(final) as tmp:
        write_json(tmp / "results.json", results)
    return final
