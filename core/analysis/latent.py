"""Walking the VAE's latent space: interpolation, the 2-D map, samples from the prior."""

from __future__ import annotations

import numpy as np


def encode(encoder, images: np.ndarray) -> np.ndarray:
    """Latent means of ``images`` (n, 28, 28) float32 in [0, 1] -> (n, latent_dim) float32.

    The VAE encoder returns [z_mean, z_log_var]; the mean is the digit's code.
    """
    z_mean, _ = encoder(np.asarray(images, dtype=np.float32), training=False)
    return np.asarray(z_mean)


def decode(decoder, codes: np.ndarray) -> np.ndarray:
    """Codes (n, latent_dim) -> digits (n, 28, 28) float32 in [0, 1]."""
    return np.asarray(decoder.predict_on_batch(np.asarray(codes, dtype=np.float32)))


def interpolate(encoder, decoder, image_a: np.ndarray, image_b: np.ndarray, steps: int = 10) -> np.ndarray:
    """Decode ``steps`` evenly spaced points on the line between the codes of two digits.

    Args:
        image_a, image_b: (28, 28) float32 in [0, 1].
        steps: number of digits in the strip, 2 to 50, both ends included.

    Returns:
        (steps, 28, 28) float32 in [0, 1]; the first is ``image_a`` reconstructed, the
        last ``image_b`` reconstructed.

    Raises:
        ValueError: if ``steps`` is outside 2..50.
    """
    if not 2 <= steps <= 50:
        raise ValueError(f"steps must be in 2..50, got {steps}")
    codes = encode(encoder, np.stack([image_a, image_b]))
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    return decode(decoder, (1 - t) * codes[0] + t * codes[1])


def sample_prior(decoder, n: int, latent_dim: int, seed: int, limit: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Decode ``n`` codes drawn from the VAE prior N(0, I), clipped to +-``limit`` sigma.

    Returns:
        (codes (n, latent_dim) float32, digits (n, 28, 28) float32 in [0, 1]).
    """
    rng = np.random.default_rng(seed)
    codes = np.clip(rng.standard_normal((n, latent_dim)), -limit, limit).astype(np.float32)
    return codes, decode(decoder, codes)


def perturb(decoder, code: np.ndarray, sigma: float, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Add Gaussian noise of standard deviation ``sigma`` to one code and decode ``n`` variants.

    Args:
        code: (latent_dim,) float32.
        sigma: noise standard deviation in latent units (the prior's sigma is 1), >= 0.

    Returns:
        (codes (n, latent_dim), digits (n, 28, 28)), float32.

    Raises:
        ValueError: if ``sigma`` is negative.
    """
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    rng = np.random.default_rng(seed)
    codes = (np.asarray(code, np.float32)[None] + sigma * rng.standard_normal((n, len(code)))).astype(np.float32)
    return codes, decode(decoder, codes)


def generate(decoder, digit: int, n: int, latent_dim: int, seed: int) -> np.ndarray:
    """New digits of class ``digit`` from a conditional VAE's decoder (``core.nets.models.cvae``).

    Codes are drawn from the prior N(0, I) with ``numpy.random.default_rng(seed)``; the
    same arguments give the same digits.

    Args:
        decoder: the cvae's ``decoder``, inputs [codes (n, latent_dim), labels (n,)].
        digit: the class to draw, 0..9.
        n: how many digits, >= 1.

    Returns:
        float32 array (n, 28, 28) in [0, 1].

    Raises:
        ValueError: if ``digit`` is not in 0..9 or ``n`` < 1.
    """
    if int(digit) != digit or not 0 <= digit <= 9:
        raise ValueError(f"digit must be an integer 0..9, got {digit!r}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    codes = np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)
    labels = np.full(n, int(digit), dtype=np.int32)
    return np.asarray(decoder.predict_on_batch([codes, labels]))


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
