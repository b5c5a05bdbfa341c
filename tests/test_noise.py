import numpy as np
import pytest

from core.data.noise import salt_and_pepper


@pytest.mark.parametrize("level", [0.1, 0.4, 0.7])
def test_changed_fraction_is_close_to_noise_level(test_set, level):
    x = test_set[0][:2000]
    seasoned = salt_and_pepper(x, level, np.random.default_rng(1))
    replaced = np.isin(seasoned, (0.0, 1.0))
    # Replaced pixels are 0 or 1; of the pixels that were neither, the fraction that
    # became 0 or 1 estimates the level without counting coincidences.
    free = ~np.isin(x, (0.0, 1.0))
    assert abs(replaced[free].mean() - level) < 0.01


def test_zero_changes_nothing(test_set, rng):
    x = test_set[0][:100]
    assert np.array_equal(salt_and_pepper(x, 0.0, rng), x)


def test_one_leaves_only_salt_and_pepper_in_equal_parts(test_set, rng):
    seasoned = salt_and_pepper(test_set[0][:500], 1.0, rng)
    assert set(np.unique(seasoned).tolist()) == {0.0, 1.0}
    assert abs(seasoned.mean() - 0.5) < 0.01


def test_same_seed_same_noise_and_input_untouched(test_set):
    x = test_set[0][:50]
    before = x.copy()
    a = salt_and_pepper(x, 0.3, np.random.default_rng(7))
    b = salt_and_pepper(x, 0.3, np.random.default_rng(7))
    assert np.array_equal(a, b) and a.dtype == np.float32
    assert np.array_equal(x, before)


@pytest.mark.parametrize("level", [-0.1, 1.01, float("nan"), "0.5", None])
def test_bad_levels_raise(level, rng):
    with pytest.raises(ValueError):
        salt_and_pepper(np.zeros((2, 28, 28), np.float32), level, rng)
