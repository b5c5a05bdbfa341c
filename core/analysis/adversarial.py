"""Fooling the network: the smallest change to a picture, too small for a person to notice,
that flips a classifier's answer.

FGSM (Goodfellow, Shlens and Szegedy, "Explaining and harnessing adversarial examples",
ICLR 2015): one step of size epsilon along the sign of the loss's gradient with respect to
the pixels. PGD (Madry et al., "Towards deep learning models resistant to adversarial
attacks", ICLR 2018): several smaller such steps, each projected back into the max-norm
ball of radius epsilon around the picture. Both keep every pixel within epsilon of the
original (the max-norm, L∞) and within [0, 1].

The search over epsilon runs the model on a whole grid of epsilons in one batch (FGSM) or
bisects it (PGD), so one picture costs a few forward and backward passes.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

# Epsilons searched, as a fraction of the pixel range [0, 1]: 0 to 0.3 in steps of 0.005.
# Past 0.3 a perturbation is plainly visible on MNIST (Madry et al. train against 0.3).
EPSILONS = tuple(round(0.005 * i, 3) for i in range(61))
PGD_STEPS = 10
BISECTIONS = 7


@dataclass(frozen=True)
class Attack:
    """The smallest perturbation found for one picture.

    Attributes:
        epsilon: the smallest epsilon of the search that changed the answer (max-norm, in
            [0, 1] pixel units); None when none up to ``max(EPSILONS)`` did.
        adversarial: (28, 28) float32 in [0, 1], the fooled picture (at ``epsilon``; at the
            largest epsilon tried when none fooled it).
        perturbation: (28, 28) float32, ``adversarial`` minus the original, in [-epsilon, epsilon].
        before, after: the model's answer (class index) on the original and on ``adversarial``.
        confidence_after: the probability of ``after``, in [0, 1].
    """

    epsilon: float | None
    adversarial: np.ndarray
    perturbation: np.ndarray
    before: int
    after: int
    confidence_after: float


# One compiled gradient per model: PGD's search takes some 80 gradients per picture, and
# eagerly each costs several times the compiled one.
_GRADIENTS = weakref.WeakKeyDictionary()


def _gradient_sign(model, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(n, 28, 28) sign of the gradient of the cross-entropy loss of ``labels`` with respect
    to the pixels: the direction that raises the loss fastest under a max-norm budget."""
    import tensorflow as tf

    gradient = _GRADIENTS.get(model)
    if gradient is None:
        @tf.function(reduce_retracing=True)
        def gradient(x, y):
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = tf.keras.losses.sparse_categorical_crossentropy(y, model(x, training=False))
            return tf.sign(tape.gradient(loss, x))
        _GRADIENTS[model] = gradient
    return gradient(tf.convert_to_tensor(images, tf.float32), tf.convert_to_tensor(labels, tf.int64)).numpy()


def _answers(model, images: np.ndarray) -> np.ndarray:
    return np.asarray(model(np.asarray(images, np.float32), training=False), np.float32)


def fgsm(model, image: np.ndarray, epsilon: float, label: int | None = None) -> np.ndarray:
    """FGSM at ``epsilon``: (28, 28) float32 in [0, 1] -> the perturbed picture, clipped
    to [0, 1]; ``label`` the class whose loss is raised (default: the model's answer).

    Raises:
        ValueError: if ``epsilon`` is outside [0, 1].
    """
    if not 0 <= epsilon <= 1:
        raise ValueError(f"epsilon must be in [0, 1], not {epsilon}")
    image = np.asarray(image, np.float32)
    if label is None:
        label = int(np.argmax(_answers(model, image[None])[0]))
    sign = _gradient_sign(model, image[None], np.array([label]))[0]
    return np.clip(image + np.float32(epsilon) * sign, 0, 1).astype(np.float32)


def pgd(model, image: np.ndarray, epsilon: float, label: int | None = None, steps: int = PGD_STEPS) -> np.ndarray:
    """PGD at ``epsilon``: ``steps`` FGSM steps of ``epsilon / 4``, each projected back into
    the max-norm ball of ``epsilon`` around ``image`` and into [0, 1]; starts at the image
    itself (no random start, so a picture always gets the same answer)."""
    if not 0 <= epsilon <= 1:
        raise ValueError(f"epsilon must be in [0, 1], not {epsilon}")
    image = np.asarray(image, np.float32)
    if label is None:
        label = int(np.argmax(_answers(model, image[None])[0]))
    x = image.copy()
    for _ in range(steps):
        x = x + np.float32(epsilon / 4) * _gradient_sign(model, x[None], np.array([label]))[0]
        x = np.clip(np.clip(x, image - epsilon, image + epsilon), 0, 1).astype(np.float32)
    return x


def smallest_fgsm(model, image: np.ndarray, epsilons=EPSILONS) -> Attack:
    """The smallest epsilon of ``epsilons`` whose FGSM picture the model answers
    differently: one gradient, then every epsilon's picture in one batch."""
    image = np.asarray(image, np.float32)
    before = int(np.argmax(_answers(model, image[None])[0]))
    sign = _gradient_sign(model, image[None], np.array([before]))[0]
    eps = np.asarray(epsilons, np.float32)
    candidates = np.clip(image[None] + eps[:, None, None] * sign[None], 0, 1).astype(np.float32)
    probabilities = _answers(model, candidates)
    flipped = np.flatnonzero(np.argmax(probabilities, axis=1) != before)
    i = int(flipped[0]) if len(flipped) else len(eps) - 1
    after = int(np.argmax(probabilities[i]))
    return Attack(float(eps[i]) if len(flipped) else None, candidates[i], candidates[i] - image, before, after,
                  float(probabilities[i, after]))


def smallest_pgd(model, image: np.ndarray, largest: float = EPSILONS[-1], bisections: int = BISECTIONS) -> Attack:
    """The smallest epsilon (to ``largest / 2**bisections``) whose PGD picture the model
    answers differently, by bisection over [0, ``largest``]."""
    image = np.asarray(image, np.float32)
    before = int(np.argmax(_answers(model, image[None])[0]))
    best = pgd(model, image, largest, before)
    if int(np.argmax(_answers(model, best[None])[0])) == before:
        return _attack(model, image, best, None, before)
    low, high = 0.0, largest
    for _ in range(bisections):
        middle = (low + high) / 2
        candidate = pgd(model, image, middle, before)
        if int(np.argmax(_answers(model, candidate[None])[0])) != before:
            high, best = middle, candidate
        else:
            low = middle
    return _attack(model, image, best, high, before)


def _attack(model, image: np.ndarray, adversarial: np.ndarray, epsilon: float | None, before: int) -> Attack:
    probabilities = _answers(model, adversarial[None])[0]
    after = int(np.argmax(probabilities))
    return Attack(epsilon, adversarial, adversarial - image, before, after, float(probabilities[after]))


def visible(perturbation: np.ndarray) -> np.ndarray:
    """A perturbation made visible: (28, 28) in [-e, e] -> (28, 28, 3) float32 in [0, 1],
    red where pixels got brighter, blue where darker, scaled to its own largest change."""
    p = np.asarray(perturbation, np.float32)
    scale = float(np.abs(p).max()) or 1.0
    q = p / scale
    rgb = np.ones(p.shape + (3,), np.float32)
    rgb[..., 1] -= np.abs(q)
    rgb[..., 0] -= np.clip(-q, 0, 1)
    rgb[..., 2] -= np.clip(q, 0, 1)
    return np.clip(rgb, 0, 1)
