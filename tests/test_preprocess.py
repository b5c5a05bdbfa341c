import numpy as np
import pytest
from scipy import ndimage

from core.drawing.preprocess import NoInkError, to_mnist


def canvas(ink_rows, ink_cols, light_ink=True, rgba=True, size=280):
    """A canvas with a rectangle of ink: white on black (the Draw page) or black on white."""
    paper, ink = (0, 255) if light_ink else (255, 0)
    img = np.full((size, size), paper, np.uint8)
    img[ink_rows, ink_cols] = ink
    if not rgba:
        return img
    return np.dstack([img, img, img, np.full_like(img, 255)])


def diagonal_stroke(width=18):
    img = np.zeros((280, 280, 4), np.uint8)
    img[..., 3] = 255
    for t in range(40, 230):
        img[t, t - width // 2 + 20: t + width // 2 + 20, :3] = 255
    return img


@pytest.mark.parametrize("image", [
    canvas(slice(30, 250), slice(40, 60)),             # a vertical stroke far to the left
    canvas(slice(200, 220), slice(20, 200)),           # a horizontal bar low down
    diagonal_stroke(),
    canvas(slice(60, 120), slice(100, 200), light_ink=False, rgba=False),  # dark on light, grayscale
])
def test_centre_of_mass_near_centre_and_format(image):
    digit = to_mnist(image)
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert 0.0 <= digit.min() and digit.max() <= 1.0 and digit.max() > 0.9
    cy, cx = ndimage.center_of_mass(digit)
    assert abs(cy - 14) <= 1.0 and abs(cx - 14) <= 1.0


def test_longer_side_is_20_pixels_keeping_aspect_ratio():
    digit = to_mnist(canvas(slice(30, 250), slice(120, 160)))  # 220 tall, 40 wide
    rows = np.flatnonzero(digit.max(axis=1) > 0.05)
    cols = np.flatnonzero(digit.max(axis=0) > 0.05)
    assert rows[-1] - rows[0] + 1 in (20, 21)
    assert 3 <= cols[-1] - cols[0] + 1 <= 6


def test_polarity_does_not_matter():
    light = to_mnist(canvas(slice(50, 230), slice(100, 130)))
    dark = to_mnist(canvas(slice(50, 230), slice(100, 130), light_ink=False))
    assert np.allclose(light, dark, atol=1e-5)


def test_transparent_canvas_ink_in_alpha_only():
    img = np.zeros((280, 280, 4), np.uint8)
    img[50:230, 100:130] = (255, 255, 255, 255)
    assert np.allclose(to_mnist(img), to_mnist(canvas(slice(50, 230), slice(100, 130))), atol=1e-5)


def test_photo_like_rgb_with_uneven_paper():
    rng = np.random.default_rng(0)
    img = np.clip(200 + rng.normal(0, 6, (120, 100)), 0, 255).astype(np.uint8)
    img[20:100, 45:55] = 40
    digit = to_mnist(np.dstack([img] * 3))
    cy, cx = ndimage.center_of_mass(digit)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1
    assert digit[:, :8].max() == 0  # paper grain is not ink


def test_a_speck_in_the_corner_does_not_move_the_digit():
    clean = canvas(slice(50, 230), slice(120, 145))
    specked = clean.copy()
    specked[5:9, 270:274, :3] = 255
    assert np.allclose(to_mnist(specked), to_mnist(clean))


@pytest.mark.parametrize("blank", [
    np.zeros((280, 280, 4), np.uint8),                    # untouched transparent canvas
    np.dstack([np.zeros((280, 280, 3), np.uint8), np.full((280, 280), 255, np.uint8)]),  # black canvas
    np.full((64, 64), 230, np.uint8),                     # blank paper
])
def test_blank_means_no_ink(blank):
    with pytest.raises(NoInkError):
        to_mnist(blank)


@pytest.mark.parametrize("bad", [np.zeros((5, 5)), np.zeros((28, 28, 2)), np.zeros(10)])
def test_bad_shapes_raise_value_error(bad):
    with pytest.raises(ValueError):
        to_mnist(bad)
