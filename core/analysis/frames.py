"""Every position of a slider computed at once, for pages that answer while the hand
moves: the browser swaps precomputed frames instead of asking the server per position.

``noise_frames``: the Denoising page's digits at every noise level the slider offers
(seasoned, three denoisers, the classifier's answers), equal at each level to
``core.analysis.inference.denoise_and_classify`` with the same seed (tested).
``latent_grid``: the VAE's decoder at the points of a fine grid over its 2-D map (the
interpolation slider's frames are ``core.analysis.latent.interpolate``'s).
"""

from __future__ import annotations

import numpy as np

from core.analysis.denoise import median_filter
from core.analysis.inference import probabilities
from core.analysis.latent import decode
from core.data.noise import salt_and_pepper

# The Denoising slider's positions: 0 to 1 in steps of 0.05 (21 levels).
NOISE_LEVELS = tuple(round(0.05 * i, 2) for i in range(21))


def noise_frames(images: np.ndarray, seed: int, denoisers: dict, classifier,
                 levels: tuple = NOISE_LEVELS) -> dict:
    """Season ``images`` at every level (each level from ``numpy.random.default_rng(seed)``,
    so a level shows the same pixels whenever the slider returns to it), denoise every
    version with each denoiser and the 3x3 median filter, and classify them all, in one
    batch per model.

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
    denoised = {name: np.asarray(model.predict_on_batch(flat)) for name, model in denoisers.items()}
    denoised["median"] = median_filter(flat)
    versions = [flat, *denoised.values()]
    labels = np.argmax(probabilities(classifier, np.concatenate(versions)), axis=1).reshape(len(versions), *shape[:2])
    return {"levels": tuple(levels), "seasoned": seasoned,
            "denoised": {name: batch.reshape(shape) for name, batch in denoised.items()},
            "seasoned_labels": labels[0], "denoised_labels": dict(zip(denoised, labels[1:]))}


def latent_grid(decoder, low: tuple, high: tuple, size: int) -> np.ndarray:
    """The decoder's digit at each point of a ``size`` x ``size`` grid over the 2-D map
    from ``low`` = (z1, z2) to ``high``, both ends included.

    Returns:
        (size, size, 28, 28) float32 in [0, 1]; ``[row, col]`` is the code (z1 =
        low[0] + col * step, z2 = low[1] + row * step), rows from ``low[1]`` upwards.

    Raises:
        ValueError: for ``size`` under 2.
    """
    if size < 2:
        raise ValueError(f"a grid needs at least 2 points a side, got {size}")
    z1, z2 = np.meshgrid(np.linspace(low[0], high[0], size), np.linspace(low[1], high[1], size))
    codes = np.stack([z1.ravel(), z2.ravel()], axis=1).astype(np.float32)
    return decode(decoder, codes).reshape(size, size, 28, 28)
