"""Running cached models on a few images: ``predict_on_batch``, never ``model.predict``.

On 2 CPU cores one digit costs about 45 ms through ``model.predict`` (which builds a
dataset and a progress bar per call), about 3 ms through an eager ``model(x)`` and well
under 1 ms through ``predict_on_batch``, which reuses one compiled function
(../shared/TIPS.md; ``python -m core bench`` times the pages' whole paths).
"""

from __future__ import annotations

import numpy as np

from core.analysis.denoise import median_filter
from core.data.noise import salt_and_pepper


def _call(model, x: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict_on_batch(np.asarray(x, dtype=np.float32)))


def probabilities(classifier, images: np.ndarray) -> np.ndarray:
    """Class probabilities of one digit (28, 28) -> (10,), or of a batch (n, 28, 28) -> (n, 10).

    ``images`` are float32 in [0, 1], ink high; the result is float32, rows sum to 1.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 2:
        return _call(classifier, images[None])[0]
    return _call(classifier, images)


def denoise_and_classify(images: np.ndarray, noise_level: float, seed: int, denoisers: dict,
                         classifier) -> dict:
    """Season ``images`` (n, 28, 28) float32 in [0, 1] at ``noise_level``, then clean
    them with every denoiser and with a 3x3 median filter, and classify every version.

    The noise comes from ``numpy.random.default_rng(seed)``, so the same slider position
    and seed always give the same digits.

    Args:
        denoisers: {name: Keras model (n, 28, 28) -> (n, 28, 28)}.

    Returns:
        {"seasoned": (n, 28, 28), "denoised": {name: (n, 28, 28)} for every denoiser
        and "median", float32 in [0, 1]; "seasoned_labels": (n,) and
        "denoised_labels": {name: (n,)}, int predicted classes}.

    Raises:
        ValueError: if ``noise_level`` is outside [0, 1].
    """
    seasoned = salt_and_pepper(images, noise_level, np.random.default_rng(seed))
    denoised = {name: _call(model, seasoned) for name, model in denoisers.items()}
    denoised["median"] = median_filter(seasoned)
    versions = [seasoned, *denoised.values()]
    labels = np.argmax(probabilities(classifier, np.concatenate(versions)), axis=1).reshape(len(versions), -1)
    return {"seasoned": seasoned, "denoised": denoised, "seasoned_labels": labels[0],
            "denoised_labels": dict(zip(denoised, labels[1:]))}
