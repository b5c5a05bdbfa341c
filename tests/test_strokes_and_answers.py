"""The Draw page's pad strokes made into an image, and the answer block built from it."""

import numpy as np
import pytest

from core.drawing.preprocess import to_mnist
from core.drawing.strokes import BRUSH, MAX_POINTS, SIDE, StrokeError, to_image
from core.present.answers import answer_html


def test_a_stroke_is_drawn_as_wide_as_the_pen_with_round_ends():
    image = to_image([[[0.5, 0.2], [0.5, 0.8]]])
    assert image.shape == (SIDE, SIDE) and image.dtype == np.uint8
    pen = round(BRUSH * SIDE)
    row = image[SIDE // 2] > 0
    assert abs(row.sum() - pen) <= 1  # the line's width across
    column = np.flatnonzero(image[:, SIDE // 2] > 0)
    # Round caps reach half the pen beyond each end point.
    assert abs(column[0] - (0.2 * SIDE - pen / 2)) <= 1.5 and abs(column[-1] - (0.8 * SIDE + pen / 2)) <= 1.5


def test_a_tap_is_a_dot_and_no_strokes_is_blank():
    dot = to_image([[[0.3, 0.6]]]) > 0
    ys, xs = np.nonzero(dot)
    assert abs(xs.mean() - 0.3 * SIDE) < 1 and abs(ys.mean() - 0.6 * SIDE) < 1
    assert abs(dot.sum() - np.pi * (BRUSH * SIDE / 2) ** 2) < 0.15 * dot.sum()
    assert not to_image([]).any()


def test_points_outside_the_pad_are_clipped_to_its_edge():
    np.testing.assert_array_equal(to_image([[[-0.5, 0.5], [1.7, 0.5]]]), to_image([[[0.0, 0.5], [1.0, 0.5]]]))


def test_the_image_does_not_depend_on_the_pads_size_on_screen():
    # The pad sends fractions of its side, so a digit drawn small or large is the same.
    strokes = [[[0.3, 0.2], [0.7, 0.2], [0.45, 0.85]]]
    assert to_image(strokes, side=280).shape == (280, 280)
    small = to_mnist(to_image(strokes, side=200))
    large = to_mnist(to_image(strokes, side=400))
    assert np.abs(small - large).mean() < 0.03


@pytest.mark.parametrize("strokes", [
    "[[0.5, 0.5]]", None, {"strokes": []}, [[]], [[0.5, 0.5]], [[[0.5]]], [[[0.5, "x"]]],
    [[[float("nan"), 0.5]]], [[[float("inf"), 0.5]]], [[[0.5, 0.5, 0.5]]], [[["0.5", 0.5]]],
    [[[0.5, 0.5]]] * 201, [[[0.5, 0.5]] * (MAX_POINTS + 1)],
])
def test_tampered_strokes_are_refused_with_one_sentence(strokes):
    with pytest.raises(StrokeError) as caught:
        to_image(strokes)
    assert str(caught.value).count(".") == 0 and len(str(caught.value)) < 80


def test_answer_block_shows_each_models_digit_and_ten_bars():
    digit = np.zeros((28, 28), np.float32)
    p = np.full(10, 0.01)
    p[7] = 0.91
    html = answer_html(digit, {"CNN": p, "<b>net</b>": np.roll(p, 1)}, tag="pad-3")
    assert 'data-drawing="pad-3"' in html
    assert '<span class="dl-digit">7</span><span class="dl-sure">91% sure</span>' in html
    assert '<span class="dl-digit">8</span>' in html
    assert html.count('class="dl-bar"') == 18 and html.count('class="dl-bar dl-top"') == 2
    assert "<b>net</b>" not in html and "&lt;b&gt;net&lt;/b&gt;" in html  # names are escaped
    assert 'style="height:91.0%"' in html
