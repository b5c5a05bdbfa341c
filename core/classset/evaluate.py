"""Every classifier tested on the class's digits, beside its MNIST test accuracy: the gap
is the lesson (distribution shift: digits drawn with a mouse or a finger on a pad are not
the pen-on-paper digits of American census workers and students that MNIST scanned).
Accuracy per student for the teacher.

Plain NumPy over Keras models the caller loaded (the page keeps them loaded); a model is
called directly (``model(x, training=False)``) rather than through ``predict``, which
traces a new function per model on its first call (tenths of a second each, times every
classifier of the lab).
"""

from __future__ import annotations

import numpy as np

BATCH = 1000


def probabilities(model, images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) float32 in [0, 1] -> (N, 10) float32 class probabilities, in batches of
    ``BATCH``; (0, 10) for no images."""
    images = np.asarray(images, np.float32)
    parts = [np.asarray(model(images[i:i + BATCH], training=False), np.float32) for i in range(0, len(images), BATCH)]
    return np.concatenate(parts) if parts else np.zeros((0, 10), np.float32)


def accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Share of rows whose most probable class is the label, in [0, 1]; NaN for no rows."""
    if len(labels) == 0:
        return float("nan")
    return float(np.mean(np.argmax(probs, axis=1) == np.asarray(labels).astype(np.int64)))


def every_model(models: dict, images: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """{name: (N, 10) probabilities} of every model of ``models`` ({name: Keras model}) on the
    class's digits ``images`` (N, 28, 28) float32 with ``labels`` (N,) 0-9."""
    return {name: probabilities(model, images) for name, model in models.items()}


def per_student(probs: np.ndarray, labels: np.ndarray, students: np.ndarray) -> list[dict]:
    """One row per student, by name: {"student", "digits" (how many), "read right",
    "accuracy" (in [0, 1])}."""
    right = np.argmax(probs, axis=1) == np.asarray(labels).astype(np.int64)
    rows = []
    for name in sorted(set(np.asarray(students).tolist())):
        mine = np.asarray(students) == name
        rows.append({"student": name, "digits": int(mine.sum()), "read right": int(right[mine].sum()),
                     "accuracy": float(right[mine].mean())})
    return rows
