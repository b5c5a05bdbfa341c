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


# The Denoising slider's positions: 0 to 1 in steps of 0.05 (21 levels).
NOISE_LEVELS = tuple(round(0.05 * i, 2) for i in range(21))


def noise_frames(images: np.ndarray, seed: int, denoisers: dict, classifier,
                 levels: tuple = NOISE_LEVELS) -> dict:
    """Season ``images`` at every level (each level from ``numpy.random.default_rng(seed)``,
    so a level shows the same pixels whenever the slider returns to it), denoise every
    version with each denoiser and the 3x3 median filter (Gonzalez and Woods), and classify
    them all, in one batch per model: every position of the Denoising slider at once, so the
    browser swaps frames instead of asking the server per position.

    Args:
        images: (n, 28, 28) float32 in [0, 1].
        denoisers: {name: Keras model (m, 28, 28) -> (m, 28, 28)}.

    Returns:
        {"levels": the levels, "seasoned": (L, n, 28, 28), "denoised": {name: (L, n, 28,
        28)} for each denoiser and "median", float32 in [0, 1]; "seasoned_labels": (L, n)
        and "denoised_labels": {name: (L, n)}, int predicted classes}; L = len(levels).

    Raises:
        ValueError: if a level is outside [0, 1] (``salt_and_pepper``).
    """
    images = np.asarray(images, dtype=np.float32)
    shape = (len(levels), *images.shape)
    seasoned = np.stack([salt_and_pepper(images, level, np.random.default_rng(seed)) for level in levels])
    flat = seasoned.reshape(-1, *images.shape[1:])
    denoised = {name: _call(model, flat) for name, model in denoisers.items()}
    denoised["median"] = median_filter(flat)
    versions = [flat, *denoised.values()]
    labels = np.argmax(probabilities(classifier, np.concatenate(versions)), axis=1).reshape(len(versions), *shape[:2])
    return {"levels": tuple(levels), "seasoned": seasoned,
            "denoised": {name: batch.reshape(shape) for name, batch in denoised.items()},
            "seasoned_labels": labels[0], "denoised_labels": dict(zip(denoised, labels[1:]))}



def denoise_and_classify(images: np.ndarray, noise_level: float, seed: int, denoisers: dict,
                         classifier) -> dict:
    """One slider position of ``noise_frames``: ``images`` (n, 28, 28) float32 in [0, 1]
    seasoned at ``noise_level`` from ``numpy.random.default_rng(seed)``, cleaned by every
    denoiser ({name: Keras model (n, 28, 28) -> (n, 28, 28)}) and a 3x3 median filter, and
    every version classified.

    Returns:
        {"seasoned": (n, 28, 28), "denoised": {name: (n, 28, 28)} for every denoiser
        and "median", float32 in [0, 1]; "seasoned_labels": (n,) and
        "denoised_labels": {name: (n,)}, int predicted classes}.

    Raises:
        ValueError: if ``noise_level`` is outside [0, 1].
    """
    frames = noise_frames(images, seed, denoisers, classifier, levels=(noise_level,))
    return {"seasoned": frames["seasoned"][0],
            "denoised": {name: batch[0] for name, batch in frames["denoised"].items()},
            "seasoned_labels": frames["seasoned_labels"][0],
            "denoised_labels": {name: labels[0] for name, labels in frames["denoised_labels"].items()}}
