"""The lab's CNN fine-tuned on the class's digits, and what that gains and forgets.

Split by student: a share of the students (at least one) is held out whole, so no
student's digits are on both sides (their handwriting would leak into the test). The CNN
goes on learning, every layer at a small learning rate, from the other students' digits
with ``mnist_mix`` MNIST training digits mixed in (rehearsal against catastrophic
forgetting: McCloskey and Cohen 1989; Robins 1995). Before and after, it reads the held-out
students' digits (what is gained) and the 10,000 MNIST test digits (what is forgotten):
the report, touched after training; the recipe is fixed, nothing is chosen on them. Each
epoch's ``val_`` numbers are on MNIST's last 5,000 training digits, as for every run.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np

from core.classset import samples
from core.config import EntryConfig, default_config
from core.store import cache

KIND = "finetune"
HELD_OUT_SHARE = 0.25
MIN_STUDENTS = 2
MIN_DIGITS = 20
# A worker's time for the default recipe on a class set of a few hundred digits (start, the
# CNN's load, 4 epochs of about 3,000 digits, two readings of MNIST's test set): 25-40 s here.
ESTIMATE_SECONDS = 60.0


@dataclass(frozen=True)
class FineTuneConfig(EntryConfig):
    """One fine-tuning: the class set (``data_sha256``), the ``held_out`` students, the
    base CNN's entry; ``mnist_mix`` MNIST training digits (of the first 55,000, drawn with
    ``seed``) mixed in; ``epochs`` of Adam at ``learning_rate`` in batches of
    ``batch_size``. Its hash names the runs store entry ``finetune-<key>``."""

    data_sha256: str
    held_out: tuple[str, ...]
    base_entry: str = default_config("cnn").entry
    mnist_mix: int = 2000
    epochs: int = 4
    learning_rate: float = 2e-4
    batch_size: int = 64
    seed: int = 0

    KIND = KIND  # names the entry; no annotation, so not a field and not in the hash


def held_out_students(students, seed: int = 0) -> tuple[str, ...]:
    """A random ``HELD_OUT_SHARE`` of the distinct ``students`` (at least one, and at least
    one left to learn from), sorted.

    Raises:
        ValueError: with fewer than ``MIN_STUDENTS`` students (one sentence).
    """
    names = sorted(set(np.asarray(students).tolist()))
    if len(names) < MIN_STUDENTS:
        raise ValueError(f"Fine-tuning needs digits from at least {MIN_STUDENTS} students: some to learn from, "
                         "others, never seen, to test on.")
    count = min(len(names) - 1, max(1, math.ceil(HELD_OUT_SHARE * len(names))))
    return tuple(sorted(np.random.default_rng(seed).choice(names, count, replace=False).tolist()))


def plan(data: samples.ClassSet, seed: int = 0) -> tuple[FineTuneConfig, bytes]:
    """The fine-tuning of the class's digits in ``data`` (symbols are left out): its config,
    with the held-out students drawn with ``seed``, and the digits as the job carries them
    (``samples.npz_bytes``).

    Raises:
        ValueError: one sentence, with fewer than ``MIN_STUDENTS`` students or too few digits.
    """
    digits = data.digits()
    held = held_out_students(digits.students, seed)
    if (~np.isin(digits.students, held)).sum() < MIN_DIGITS:
        raise ValueError(f"Fine-tuning needs at least {MIN_DIGITS} digits from the students it learns from: "
                         "collect a few more.")
    return FineTuneConfig(data_sha256=digits.sha256(), held_out=held, seed=seed), samples.npz_bytes(digits)


def stored() -> list[dict]:
    """The fine-tunings in the runs store, newest first: each entry's metrics.json with
    ``history`` and ``student`` (who queued it) added."""
    return sorted((m for m in cache.list_models(cache.runs_dir()) if m["kind"] == KIND),
                  key=lambda m: m.get("created", ""), reverse=True)


def fine_tune(config: FineTuneConfig, cnn, images: np.ndarray, labels: np.ndarray, students: np.ndarray,
              mnist, on_epoch=None) -> tuple:
    """Fine-tune a copy of ``cnn`` as ``config`` says.

    Args:
        cnn: the lab's CNN, loaded (it is copied, not changed).
        images: (N, 28, 28) float32 in [0, 1], the class's digits; labels: (N,) 0-9;
            students: (N,) str.
        mnist: a ``core.data.images.ImageSet`` of MNIST (``splits()``).
        on_epoch: called as ``on_epoch(epoch, epochs, logs)`` after each epoch.

    Returns:
        (model, history, metrics): the tuned model; per-epoch ``accuracy``, ``loss``,
        ``val_accuracy``, ``val_loss``, ``seconds``; metrics with ``before`` and ``after``
        ({"held_out_accuracy", "mnist_test_accuracy"} in [0, 1]), the counts, the config,
        ``training_seconds`` and the data checksums.

    Raises:
        ValueError: if no held-out student has digits, or fewer than ``MIN_DIGITS`` digits
            are left to learn from.
    """
    import keras

    labels = np.asarray(labels).astype(np.int64)
    held = np.isin(students, config.held_out)
    if not held.any() or (~held).sum() < MIN_DIGITS:
        raise ValueError(f"Fine-tuning needs digits of the held-out students and at least {MIN_DIGITS} of the others.")
    (x_fit, y_fit), (x_val, y_val), (x_test, y_test) = mnist.splits()
    rng = np.random.default_rng(config.seed)
    mixed = rng.choice(len(x_fit), min(config.mnist_mix, len(x_fit)), replace=False)
    x_train = np.concatenate([images[~held], x_fit[mixed]])
    y_train = np.concatenate([labels[~held], y_fit[mixed].astype(np.int64)])

    def report(model) -> dict:
        def read(x, y):
            probs = np.concatenate([np.asarray(model(x[i:i + 1000], training=False)) for i in range(0, len(x), 1000)])
            return float(np.mean(np.argmax(probs, axis=1) == y))
        return {"held_out_accuracy": read(images[held], labels[held]),
                "mnist_test_accuracy": read(x_test, y_test.astype(np.int64))}

    keras.utils.set_random_seed(config.seed)
    model = keras.models.clone_model(cnn)
    model.set_weights(cnn.get_weights())
    before = report(model)
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    clock = _epoch_clock(on_epoch, config.epochs)
    start = time.perf_counter()
    fit = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=config.epochs,
                    batch_size=config.batch_size, shuffle=True, verbose=0, callbacks=[clock])
    seconds = time.perf_counter() - start
    after = report(model)
    history = {name: [float(v) for v in values] for name, values in fit.history.items()}
    history["seconds"] = clock.seconds
    metrics = {"kind": KIND, "key": config.key(), "config": asdict(config), "before": before, "after": after,
               "held_out_digits": int(held.sum()), "class_digits_fitted": int((~held).sum()),
               "mnist_digits_fitted": int(len(mixed)), "students": int(len(set(np.asarray(students).tolist()))),
               "training_seconds": seconds, "param_count": int(model.count_params()),
               "mnist_sha256": getattr(mnist, "sha256", ""), "data_sha256": config.data_sha256,
               "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    return model, history, metrics


def _epoch_clock(on_epoch, epochs: int):
    import keras

    class EpochClock(keras.callbacks.Callback):
        """Seconds since the fit began at each epoch's end; reports each epoch."""

        def __init__(self):
            super().__init__()
            self.seconds, self.start = [], time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.start)
            if on_epoch is not None:
                on_epoch(epoch + 1, epochs, dict(logs or {}))

    return EpochClock()
