"""The benchmark's table logic (its measurements run in `python -m core bench`, not here)."""

import numpy as np

from core.bench import Row, canvas_images, markdown
from core.preprocess import to_mnist


def test_rows_pass_or_miss_in_the_right_direction():
    assert Row("acc", 0.99, "%", 0.98).passed is True
    assert Row("acc", 0.97, "%", 0.98).passed is False
    assert Row("latency", 5.0, "ms", 10.0, higher_is_better=False).passed is True
    assert Row("latency", 12.0, "ms", 10.0, higher_is_better=False).passed is False
    assert Row("time to 99%", 3.0, "min").passed is None


def test_markdown_shows_targets_and_misses():
    rows = [Row("cnn", 0.9961, "%", 0.996, course="99.2%"), Row("p95", 12.0, "ms", 10.0, False)]
    text = markdown(rows, {"date": "2026-11-21", "cpu": "AMD EPYC", "cores": 2,
                           "tensorflow": "2.21.0", "keras": "3.15.1"})
    assert "| cnn | 99.61% | ≥ 99.60% | 99.2% | pass |" in text
    assert "| p95 | 12.0 ms | ≤ 10.0 ms |  | **miss** |" in text
    assert "2026-11-21" in text and "AMD EPYC" in text


def test_canvas_images_look_like_the_draw_page_canvas(test_set):
    x = test_set[0][:2]
    images = canvas_images(x)
    assert images[0].shape == (280, 280, 4) and images[0].dtype == np.uint8
    # Back through the Draw page's preprocessing: close to the original digit.
    assert np.abs(to_mnist(images[0]) - x[0]).mean() < 0.1
