"""Denoising without learning, and how to score any denoiser: the 3x3 median filter and PSNR."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def median_filter(images: np.ndarray) -> np.ndarray:
    """The classic salt-and-pepper remedy: each pixel becomes the median of its 3x3
    neighbourhood (Gonzalez and Woods, "Digital Image Processing", ch. 5).

    Args:
        images: float array (n, 28, 28) in [0, 1].

    Returns:
        float32 array (n, 28, 28) in [0, 1]; borders mirror the image (scipy's "reflect").

    Raises:
        ValueError: if ``images`` is not 3-dimensional.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3:
        raise ValueError(f"images must be (n, height, width), got shape {images.shape}")
    return ndimage.median_filter(images, size=(1, 3, 3), mode="reflect")


def psnr(clean: np.ndarray, other: np.ndarray) -> float:
    """Peak signal-to-noise ratio of ``other`` against ``clean``, in dB, averaged over images.

    PSNR = 10 log10(1 / MSE) per image, with peak value 1; an image equal to its clean
    version counts as 100 dB (a cap, so the mean stays finite).

    Args:
        clean, other: float arrays (n, 28, 28) in [0, 1] of the same shape.

    Raises:
        ValueError: if the shapes differ.
    """
    clean, other = np.asarray(clean, np.float64), np.asarray(other, np.float64)
    if clean.shape != other.shape:
        raise ValueError(f"shapes differ: {clean.shape} vs {other.shape}")
    mse = np.mean((clean - other) ** 2, axis=tuple(range(1, clean.ndim)))
    return float(np.mean(np.where(mse > 0, 10 * np.log10(1.0 / np.maximum(mse, 1e-10)), 100.0)))
