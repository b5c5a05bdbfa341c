"""The Mistakes page's arithmetic (core.mistakes) on the shipped classifiers and the real
test digits, and the page itself in AppTest."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core import cache, mistakes
from core.config import default_config


@pytest.fixture(scope="module")
def analyses(test_set):
    """{kind: (Analysis, recorded metrics)} of the shipped CNN (seed 0) and Dense 64-64,
    their predictions computed here on the 10,000 test digits."""
    x, y = test_set
    out = {}
    for kind in ("cnn", "dense_64_64"):
        entry = cache.load(default_config(kind))
        out[kind] = (mistakes.analyse(mistakes.test_predictions(entry.model, x), y), entry.metrics)
    return out


@pytest.mark.parametrize("kind", ["cnn", "dense_64_64"])
def test_matrix_counts_every_test_digit_and_its_diagonal_is_the_recorded_accuracy(analyses, test_set, kind):
    analysis, metrics = analyses[kind]
    matrix = analysis.matrix
    assert matrix.shape == (10, 10) and matrix.dtype == np.int64
    assert matrix.sum() == 10_000
    assert np.trace(matrix) / 10_000 == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    # Rows are true digits: each row holds every test image of its digit.
    assert np.array_equal(matrix.sum(axis=1), np.bincount(test_set[1], minlength=10))
    assert np.allclose(mistakes.per_class_accuracy(matrix), np.diag(matrix) / matrix.sum(axis=1))


@pytest.mark.parametrize("kind", ["cnn", "dense_64_64"])
def test_a_cell_holds_exactly_its_pairs_most_confident_first(analyses, kind):
    analysis = analyses[kind][0]
    for true in range(10):
        for predicted in range(10):
            indices = analysis.cell(true, predicted)
            assert len(indices) == analysis.matrix[true, predicted]
            assert np.all(analysis.y_true[indices] == true) and np.all(analysis.y_pred[indices] == predicted)
            confidence = analysis.probabilities[indices, predicted]
            assert np.all(np.diff(confidence) <= 0)


def test_most_confident_mistakes_are_wrong_and_sorted(analyses):
    analysis = analyses["cnn"][0]
    strip = analysis.most_confident_mistakes(16)
    assert len(strip) == 16
    assert np.all(analysis.y_true[strip] != analysis.y_pred[strip])
    assert np.all(np.diff(analysis.confidence[strip]) <= 0)
    every = analysis.most_confident_mistakes(None)
    assert len(every) == analysis.errors == 10_000 - np.trace(analysis.matrix)
    # No mistake left out of the strip is surer than the strip's last one.
    assert analysis.confidence[every[16:]].max() <= analysis.confidence[strip[-1]]


def test_cell_view_shows_at_most_forty_digits_with_their_captions(analyses, test_set):
    analysis = analyses["cnn"][0]
    images, captions, count = mistakes.cell_view(analysis, test_set[0], 1, 1, factor=3)
    assert count == analysis.matrix[1, 1] > 40 and len(images) == len(captions) == 40
    assert images[0].shape == (84, 84) and images[0].dtype == np.float32
    assert captions[0].startswith("true 1 · read 1 · ")


def test_small_cases_by_hand():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 0, 2])
    matrix = mistakes.confusion_matrix(y_true, y_pred)
    assert matrix[0, 0] == 1 and matrix[0, 1] == 1 and matrix[1, 1] == 2 and matrix[1, 0] == 1
    assert matrix.sum() == 6
    accuracy = mistakes.per_class_accuracy(matrix)
    assert accuracy[:3] == pytest.approx([0.5, 2 / 3, 1.0]) and np.isnan(accuracy[3])
    probabilities = np.full((6, 10), 0.01, np.float32)
    probabilities[np.arange(6), y_pred] = [0.9, 0.6, 0.7, 0.95, 0.8, 0.5]
    assert list(mistakes.cell(y_true, y_pred, probabilities, 1, 1)) == [3, 2]
    assert list(mistakes.most_confident_mistakes(y_true, y_pred, probabilities, k=5)) == [4, 1]
    with pytest.raises(ValueError):
        mistakes.cell(y_true, y_pred, probabilities, 10, 1)
    with pytest.raises(ValueError):
        mistakes.confusion_matrix([0, 11], [0, 1])
    assert mistakes.percent(0.9996) == "99.9%" and mistakes.percent(0.98) == "98%"


def test_figure_has_a_selectable_marker_on_every_cell():
    matrix = np.arange(100).reshape(10, 10)
    fig = mistakes.confusion_figure(matrix)
    overlay = fig.data[-1]
    assert overlay.type == "scatter" and len(overlay.x) == 100
    # customdata is (true, predicted, count); a cell's marker sits at x = predicted, y = true.
    for x, y, (true, predicted, count) in zip(overlay.x, overlay.y, overlay.customdata):
        assert (x, y) == (predicted, true) and count == matrix[true, predicted]


def test_page_shows_a_cell_and_keeps_judgements_per_visitor(queue_env):
    at = AppTest.from_file("../pages/mistakes.py", default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Mistakes"
    # Before any click: the CNN's most frequent mistake.
    assert any(h.value.startswith("True 5, read as 3: 5 digits") for h in at.subheader)
    entry = f"cnn-{default_config('cnn').key()}"
    at.selectbox(key=f"true-{entry}").set_value(9).run()
    at.selectbox(key=f"read-{entry}").set_value(4).run()
    assert not at.exception
    assert any(h.value.startswith("True 9, read as 4: 4 digits") for h in at.subheader)
    boxes = [c for c in at.checkbox if c.key.startswith("judge-")]
    assert len(boxes) == 39
    boxes[0].check().run()
    boxes[2].check().run()
    assert any("misread **2** of the CNN's 39" in i.value for i in at.info)
    # Another visitor starts from nothing.
    other = AppTest.from_file("../pages/mistakes.py", default_timeout=120)
    other.run()
    assert any("misread **0** of the CNN's 39" in i.value for i in other.info)


def test_page_lists_a_classifier_trained_here(queue_env):
    import shutil

    config = default_config("dense_64_64")
    shutil.copytree(cache.entry_path(config), queue_env / f"dense_64_64-{config.key()}")
    at = AppTest.from_file("../pages/mistakes.py", default_timeout=120)
    at.run()
    here = [o for o in at.selectbox[0].options if "trained here" in o]
    assert len(here) == 1
    at.selectbox[0].set_value(here[0]).run()
    assert not at.exception
    assert any("reads **98.00%**" in m.value for m in at.markdown)
    assert not [c for c in at.checkbox if c.key.startswith("judge-")]  # the CNN's alone
