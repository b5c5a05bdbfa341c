"""Running cached models on a few images: direct model calls, never ``model.predict``.

``model(x, training=False)`` costs about 3 ms for one digit on 2 CPU cores, against
about 45 ms for ``model.predict`` (see ../shared/TIPS.md), so interactive pages stay live.
"""

from __future__ import annotations

import numpy as np

from core.noise import salt_and_pepper


def _call(model, x: np.ndarray) -> np.ndarray:
    return np.asarray(model(np.asarray(x, dtype=np.float32), training=False))


def probabilities(classifier, images: np.ndarray) -> np.ndarray:
    """Class probabilities of one digit (28, 28) -> (10,), or of a batch (n, 28, 28) -> (n, 10).

    ``images`` are float32 in [0, 1], ink high; the result is float32, rows sum to 1.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 2:
        return _call(classifier, images[None])[0]
    return _call(classifier, images)


def denoise_and_classify(images: np.ndarray, noise_level: float, seed: int, denoiser, classifier) -> dict:
    """Season ``images`` (n, 28, 28) float32 in [0, 1] at ``noise_level``, denoise, classify.

    The noise comes from ``numpy.random.default_rng(seed)``, so the same slider position
    and seed always give the same digits.

    Returns:
        {"seasoned": (n, 28, 28), "denoised": (n, 28, 28), float32 in [0, 1];
         "seasoned_labels", "denoised_labels": (n,) int predicted classes}.

    Raises:
        ValueError: if ``noise_level`` is outside [0, 1].
    """
    seasoned = salt_and_pepper(images, noise_level, np.random.default_rng(seed))
    denoised = _call(denoiser, seasoned)
    both = probabilities(classifier, np.concatenate([seasoned, denoised]))
    labels = np.argmax(both, axis=1)
    n = len(images)
    return {"seasoned": seasoned, "denoised": denoised,
            "seasoned_labels": labels[:n], "denoised_labels": labels[n:]}
