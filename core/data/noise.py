"""Salt-and-pepper noise, the course's definition."""

from __future__ import annotations

import numpy as np


def salt_and_pepper(images: np.ndarray, noise_level: float, rng: np.random.Generator) -> np.ndarray:
    """Return a "seasoned" copy of ``images``.

    Each pixel, independently with probability ``noise_level``, is replaced by 0
    (pepper) or 1 (salt) with equal chance; the others keep their value.

    Args:
        images: float array in [0, 1] of any shape, e.g. (n, 28, 28) float32.
        noise_level: probability in [0, 1] that a pixel is replaced.
        rng: a ``numpy.random.Generator``; a generator made with the same seed gives
            the same noise, so one slider position always shows the same digits.

    Returns:
        float32 array of the same shape, values in [0, 1]; the input is not changed.

    Raises:
        ValueError: if ``noise_level`` is outside [0, 1] or not a number.
    """
    if not isinstance(noise_level, (int, float, np.floating)) or not 0.0 <= noise_level <= 1.0:
        raise ValueError(f"noise_level must be a number in [0, 1], got {noise_level!r}")
    seasoned = np.array(images, dtype=np.float32, copy=True)
    replaced = rng.random(seasoned.shape) < noise_level
    salt = rng.random(seasoned.shape) < 0.5
    seasoned[replaced] = salt[replaced].astype(np.float32)
    return seasoned
