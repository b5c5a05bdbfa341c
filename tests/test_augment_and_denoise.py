"""Training-time distortions and noise, the median filter and PSNR."""

import numpy as np
import pytest
import tensorflow as tf

from core.analysis.denoise import median_filter, psnr
from core.data import augment


def test_distort_keeps_shape_range_and_ink(test_set):
    x = test_set[0][:64]
    out = augment.distort(tf.constant(x), tf.random.Generator.from_seed(0)).numpy()
    assert out.shape == (64, 28, 28) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    assert not np.allclose(out, x)
    # Distorted, not destroyed: every digit keeps a good part of its ink.
    assert np.all(out.sum(axis=(1, 2)) > 0.4 * x.sum(axis=(1, 2)))


def test_distort_is_seeded(test_set):
    x = tf.constant(test_set[0][:8])
    a = augment.distort(x, tf.random.Generator.from_seed(3)).numpy()
    b = augment.distort(x, tf.random.Generator.from_seed(3)).numpy()
    c = augment.distort(x, tf.random.Generator.from_seed(4)).numpy()
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_distort_shifts_the_centre_of_mass(test_set):
    x = test_set[0][:256]
    out = augment.distort(tf.constant(x), tf.random.Generator.from_seed(0)).numpy()
    cols = np.arange(28)
    def centre_x(images):
        return (images.sum(axis=1) * cols).sum(axis=1) / images.sum(axis=(1, 2))
    moved = np.abs(centre_x(out) - centre_x(x))
    assert moved.max() > 1.5 and moved.max() < augment.MAX_SHIFT_PX + 3


def test_seasoned_batch_levels_vary_per_image():
    clean = tf.fill((200, 28, 28), 0.3)
    out = augment.seasoned_batch(clean, 0.8, tf.random.Generator.from_seed(0)).numpy()
    replaced = np.mean(out != np.float32(0.3), axis=(1, 2))
    assert set(np.unique(out)) <= {0.0, np.float32(0.3), 1.0}
    assert replaced.min() < 0.1 and replaced.max() > 0.7 and replaced.max() <= 0.9


def test_median_filter_removes_isolated_salt():
    image = np.zeros((1, 28, 28), np.float32)
    image[0, 10, 10] = 1.0
    assert median_filter(image).max() == 0.0
    with pytest.raises(ValueError):
        median_filter(np.zeros((28, 28)))


def test_psnr():
    clean = np.zeros((2, 28, 28))
    noisy = clean.copy()
    noisy[:, :, :] = 0.1  # MSE 0.01 -> 20 dB
    assert psnr(clean, noisy) == pytest.approx(20.0)
    assert psnr(clean, clean) == 100.0
    with pytest.raises(ValueError):
        psnr(clean, clean[:1])


def test_mirror_flips_about_half_of_a_batch_left_to_right():
    import tensorflow as tf

    from core.data.augment import mirror

    images = np.random.default_rng(0).random((200, 28, 28), dtype=np.float32)
    out = mirror(tf.constant(images), tf.random.Generator.from_seed(0)).numpy()
    flipped = np.array([np.array_equal(o, i[:, ::-1]) for o, i in zip(out, images)])
    kept = np.array([np.array_equal(o, i) for o, i in zip(out, images)])
    assert np.all(flipped ^ kept) and 70 <= flipped.sum() <= 130
    colour = np.random.default_rng(1).random((4, 32, 32, 3), dtype=np.float32)
    out = mirror(tf.constant(colour), tf.random.Generator.from_seed(3)).numpy()
    assert all(np.array_equal(o, c) or np.array_equal(o, c[:, ::-1]) for o, c in zip(out, colour))
