"""Fooling the network (FGSM, PGD): the answer flips, every pixel stays within epsilon and
in [0, 1], and epsilon 0 changes nothing."""

import numpy as np
import pytest

from core.analysis import adversarial
from core.config import default_config
from core.store import cache


@pytest.fixture(scope="module")
def cnn():
    return cache.load(default_config("cnn")).model


@pytest.fixture(scope="module")
def digits(test_set):
    return test_set[0][:12], test_set[1][:12]


def answer(model, image) -> int:
    return int(np.argmax(np.asarray(model(image[None], training=False))[0]))


def test_epsilon_zero_changes_nothing(cnn, digits):
    image = digits[0][0]
    for attack in (adversarial.fgsm, adversarial.pgd):
        np.testing.assert_array_equal(attack(cnn, image, 0.0), image)


@pytest.mark.parametrize("search", [adversarial.smallest_fgsm, adversarial.smallest_pgd])
def test_the_smallest_perturbation_flips_the_cnn_within_its_epsilon(cnn, digits, search):
    flipped = 0
    for image, label in zip(*digits):
        attack = search(cnn, image)
        assert attack.before == answer(cnn, image) == label
        assert attack.adversarial.min() >= 0 and attack.adversarial.max() <= 1
        np.testing.assert_allclose(attack.perturbation, attack.adversarial - image, atol=1e-7)
        if attack.epsilon is None:
            assert attack.after == attack.before  # nothing up to the largest epsilon flipped it
            continue
        flipped += 1
        assert attack.after != attack.before == label
        assert answer(cnn, attack.adversarial) == attack.after
        assert np.abs(attack.perturbation).max() <= attack.epsilon + 1e-6
        assert 0 < attack.epsilon <= adversarial.EPSILONS[-1]
    assert flipped >= 9  # the CNN is not robust: most digits flip below 0.3


def test_pgd_needs_no_more_than_fgsm(cnn, digits):
    # PGD's steps search the same ball more carefully: it flips at a smaller or equal epsilon
    # (up to the bisection's resolution) on most digits.
    smaller = 0
    for image in digits[0][:6]:
        f, p = adversarial.smallest_fgsm(cnn, image), adversarial.smallest_pgd(cnn, image)
        if f.epsilon is not None and p.epsilon is not None:
            smaller += p.epsilon <= f.epsilon + adversarial.EPSILONS[-1] / 2 ** adversarial.BISECTIONS
    assert smaller >= 5


def test_a_perturbation_is_shown_red_and_blue():
    p = np.zeros((28, 28), np.float32)
    p[0, 0], p[0, 1] = 0.1, -0.1
    rgb = adversarial.visible(p)
    assert rgb.shape == (28, 28, 3) and rgb[5, 5].tolist() == [1, 1, 1]
    assert rgb[0, 0].tolist() == [1, 0, 0] and rgb[0, 1].tolist() == [0, 0, 1]
