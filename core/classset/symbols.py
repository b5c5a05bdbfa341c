"""New symbols learned on the CNN's features: transfer learning.

The class defines new classes (``+ - x =``, letters), draws at least ``MIN_PER_SYMBOL`` of
each, and a new dense head is trained on the lab's CNN with its convolutional base frozen:
Yosinski et al., "How transferable are features in deep neural networks?" (NIPS 2014), and
the Keras guide "Transfer learning & fine-tuning" (keras.io), whose recipe this follows:
base layers with ``trainable = False``, a dropout and a new softmax ``Dense`` on top, one
``fit``. The model is one flat ``Sequential`` (the CNN's own layers, then the head), so
the Inside page walks its feature maps as it walks the CNN's.

A fifth of each symbol's drawings (at least one) is held out and never fitted; the
accuracy on them is the report, and nothing is chosen on them (the recipe is fixed).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from core.classset import samples
from core.config import EntryConfig, default_config
from core.store import cache

KIND = "symbols"
MIN_PER_SYMBOL = 20
MIN_SYMBOLS = 2
HELD_OUT_SHARE = 0.2
# What the head's job is estimated to take on one worker (start, the CNN's load, the fit):
# measured 6-9 s here for 2-4 symbols of 20-40 drawings (README, "The class's handwriting").
ESTIMATE_SECONDS = 15.0


@dataclass(frozen=True)
class SymbolsConfig(EntryConfig):
    """One head's recipe: the ``names`` of its classes (in output order), the class set's
    ``data_sha256`` (``core.classset.samples.ClassSet.sha256`` of the symbols' samples),
    the base CNN's entry, and the fit: ``epochs`` of Adam at ``learning_rate``, batches of
    ``batch_size``, ``seed``. Its hash names the runs store entry ``symbols-<key>``."""

    names: tuple[str, ...]
    data_sha256: str
    base_entry: str = default_config("cnn").entry
    epochs: int = 40
    learning_rate: float = 3e-3
    batch_size: int = 16
    dropout: float = 0.3
    seed: int = 0

    KIND = KIND  # names the entry; no annotation, so not a field and not in the hash


def check_counts(counts: dict[str, int], names) -> None:
    """Raise ``ValueError`` (one sentence) unless there are ``MIN_SYMBOLS`` symbols with
    ``MIN_PER_SYMBOL`` drawings each."""
    names = list(names)
    if len(names) < MIN_SYMBOLS:
        raise ValueError(f"The class needs at least {MIN_SYMBOLS} symbols to tell apart: add one on the "
                         "Collect page.")
    short = [f"{n} ({counts.get(n, 0)})" for n in names if counts.get(n, 0) < MIN_PER_SYMBOL]
    if short:
        raise ValueError(f"Each symbol needs at least {MIN_PER_SYMBOL} drawings (draw them on the Collect page); "
                         f"these have fewer: {', '.join(short)}.")


def plan(data: samples.ClassSet, names) -> tuple[SymbolsConfig, bytes]:
    """The head for the symbols ``names`` from the class set ``data``: its config and the
    symbols' drawings as the job carries them (``samples.npz_bytes``).

    Raises:
        ValueError: one sentence, unless ``check_counts`` passes.
    """
    names = tuple(names)
    mine = data.where(np.isin(data.labels, names))
    check_counts({n: int((mine.labels == n).sum()) for n in names}, names)
    return SymbolsConfig(names=names, data_sha256=mine.sha256()), samples.npz_bytes(mine)


def stored() -> list[dict]:
    """The symbol heads in the runs store, newest first: each entry's metrics.json with
    ``history`` and ``student`` added."""
    return sorted((m for m in cache.list_models(cache.runs_dir()) if m["kind"] == KIND),
                  key=lambda m: m.get("created", ""), reverse=True)


def held_out_split(labels: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(fit indices, held-out indices) of (N,) int labels: per class, a random
    ``HELD_OUT_SHARE`` of its drawings (at least one) held out; both sorted."""
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        held += members[:max(1, round(HELD_OUT_SHARE * len(members)))].tolist()
    held = np.sort(np.array(held, np.int64))
    return np.setdiff1d(np.arange(len(labels)), held), held


def head_model(cnn, classes: int, dropout: float = 0.3, seed: int = 0):
    """The CNN's layers up to its ``Flatten`` (frozen), then Dropout and a new
    ``Dense(classes, softmax)``: (N, 28, 28) float32 -> (N, classes) probabilities."""
    import keras

    keras.utils.set_random_seed(seed)
    copy = keras.models.clone_model(cnn)  # the caller's CNN keeps its own layers trainable
    copy.set_weights(cnn.get_weights())
    flatten = next(i for i, layer in enumerate(copy.layers) if isinstance(layer, keras.layers.Flatten))
    base = copy.layers[:flatten + 1]
    for layer in base:
        layer.trainable = False
    return keras.Sequential([keras.Input((28, 28)), *base, keras.layers.Dropout(dropout, name="head_dropout"),
                             keras.layers.Dense(classes, activation="softmax", name="head")], name="symbols")


def train(config: SymbolsConfig, cnn, images: np.ndarray, labels: np.ndarray) -> tuple:
    """Fit the head of ``config`` on the symbols' drawings.

    Args:
        cnn: the lab's CNN (a loaded Keras model; its layers are frozen and shared).
        images: (N, 28, 28) float32 in [0, 1]; labels: (N,) int indices into ``config.names``.

    Returns:
        (model, history, metrics): the Keras model; per-epoch ``accuracy``, ``loss``,
        ``val_accuracy``, ``val_loss`` (``val_``: the held-out drawings); metrics with
        ``held_out_accuracy``, per-symbol ``held_out_per_class``, counts, ``training_seconds``
        (the fit) and the config.

    Raises:
        ValueError: if a class has fewer than 2 drawings (none would be left to fit).
    """
    import keras

    labels = np.asarray(labels, np.int64)
    if np.bincount(labels, minlength=len(config.names)).min() < 2:
        raise ValueError("Each symbol needs at least 2 drawings: one to learn from, one to test on.")
    fit_idx, held_idx = held_out_split(labels, config.seed)
    model = head_model(cnn, len(config.names), config.dropout, config.seed)
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    fit = model.fit(images[fit_idx], labels[fit_idx], validation_data=(images[held_idx], labels[held_idx]),
                    epochs=config.epochs, batch_size=config.batch_size, shuffle=True, verbose=0)
    seconds = time.perf_counter() - start
    predicted = np.argmax(np.asarray(model(images[held_idx], training=False)), axis=1)
    right = predicted == labels[held_idx]
    history = {name: [float(v) for v in values] for name, values in fit.history.items()}
    metrics = {"kind": KIND, "key": config.key(), "config": asdict(config), "names": list(config.names),
               "held_out_accuracy": float(right.mean()),
               "held_out_per_class": {n: float(right[labels[held_idx] == c].mean())
                                      for c, n in enumerate(config.names)},
               "fit_count": int(len(fit_idx)), "held_out_count": int(len(held_idx)),
               "training_seconds": seconds, "param_count": int(model.count_params()),
               "trainable_params": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
               "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    return model, history, metrics
