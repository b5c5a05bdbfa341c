"""The Mistakes page's arithmetic (core.analysis.mistakes) on the shipped classifiers and the real
test digits (and Fashion-MNIST's test clothes), and the page itself in AppTest."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.analysis import compare, mistakes
from core.present.payloads import confusion_payload
from core.present import runs
from core.config import FASHION, default_config
from core.data import registry as datasets
from core.store import cache


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


def test_fashion_cnn_matrix_counts_every_test_image_and_its_diagonal_is_the_recorded_accuracy():
    config = FASHION[0]
    if not cache.is_cached(config):
        pytest.fail(f"the Fashion-MNIST CNN ({config.kind}-{config.key()}) is not in models_cache/")
    x, y = datasets.load("fashion_mnist").splits()[2]
    entry = cache.load(config)
    analysis = mistakes.analyse(mistakes.test_predictions(entry.model, x), y)
    assert analysis.matrix.sum() == 10_000
    assert np.trace(analysis.matrix) / 10_000 == pytest.approx(entry.metrics["test_accuracy"], abs=1e-6)
    assert np.array_equal(analysis.matrix.sum(axis=1), np.bincount(y, minlength=10))
    names = datasets.class_names("fashion_mnist")
    worst = analysis.most_confident_mistakes(1)
    caption = analysis.captions(worst, names=names)[0]
    assert caption.startswith(f"true {names[y[worst[0]]]} · read {names[analysis.y_pred[worst[0]]]} · ")


def test_class_names_label_the_axes_captions_and_cells():
    names = datasets.class_names("fashion_mnist")
    payload = confusion_payload(np.eye(10, dtype=np.int64) * 1000, names, "image", (6, 0), large=False)
    assert payload["names"] == list(names) and payload["axis"] == "true class"
    assert payload["labels"][6][0] == "true Shirt, read as T-shirt/top: 0 images"
    digits = confusion_payload(np.eye(10, dtype=np.int64), mistakes.DIGITS, "digit", (0, 0), large=True)
    assert digits["names"] == [str(d) for d in range(10)] and digits["axis"] == "true digit"
    assert digits["labels"][3][3] == "true 3, read as 3: 1 digit" and digits["large"]
    probabilities = np.full((2, 10), 0.02, np.float32)
    probabilities[[0, 1], [6, 0]] = 0.82
    analysis = mistakes.analyse(probabilities, np.array([0, 0]))
    assert analysis.captions([0, 1], names=names) == ["true T-shirt/top · read Shirt · 82%",
                                                     "true T-shirt/top · read T-shirt/top · 82%"]
    # Colour images (CIFAR-10) enlarge too, keeping their channels.
    big = mistakes.enlarge(np.zeros((2, 32, 32, 3), np.float32), 3)
    assert len(big) == 2 and big[0].shape == (96, 96, 3)


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


def test_every_cell_is_coloured_on_its_own_scale():
    matrix = np.arange(100).reshape(10, 10)
    payload = confusion_payload(matrix, mistakes.DIGITS, "digit", (3, 5), large=False)
    assert payload["counts"] == matrix.tolist() and payload["selected"] == [3, 5]
    # The diagonal in greens, mistakes in reds, an empty mistake cell white; text readable on each.
    green, red = payload["colors"][9][9], payload["colors"][9][8]
    r, g, b = (float(v) for v in green[green.index("(") + 1:-1].split(","))
    assert g > r and g > b
    r, g, b = (float(v) for v in red[red.index("(") + 1:-1].split(","))
    assert r > g and r > b
    assert payload["colors"][0][1] != "rgb(255, 255, 255)"  # 1 mistake: coloured
    empty = confusion_payload(np.eye(10, dtype=np.int64), mistakes.DIGITS, "digit", (0, 0), large=False)
    assert empty["colors"][0][1] == "rgb(255, 255, 255)" and empty["ink"][0][1] == "#000"



def test_page_shows_a_cell_and_keeps_judgements_per_visitor(queue_env, analyses):
    # The seed-0 CNN's mistakes, counted here: its most frequent one, another, and all of them.
    matrix = analyses["cnn"][0].matrix.copy()
    errors = int(matrix.sum() - np.trace(matrix))
    np.fill_diagonal(matrix, 0)
    cells = sorted(((int(matrix[t, p]), t, p) for t in range(10) for p in range(10) if matrix[t, p]), reverse=True)
    most, other_cell = cells[0], cells[1]
    at = AppTest.from_file("../pages/mistakes.py", default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Mistakes"
    # The Compare runs page's list and labels, the seed-0 MNIST CNN picked.
    assert at.selectbox[0].options == [r.label for r in compare.comparable_runs()]
    assert at.selectbox[0].value == "CNN, seed 0"
    # Before any click: the CNN's most frequent mistake (a tie goes to the first in reading order).
    top = [c for c in cells if c[0] == most[0]]
    assert any(h.value.startswith(f"True {t}, read as {p}: {n} digit") for n, t, p in top for h in at.subheader)
    entry = f"cnn-{default_config('cnn').key()}"
    count, true, read = other_cell
    at.selectbox(key=f"true-{entry}").set_value(true).run()
    at.selectbox(key=f"read-{entry}").set_value(read).run()
    assert not at.exception
    assert any(h.value.startswith(f"True {true}, read as {read}: {count} digit") for h in at.subheader)
    boxes = [c for c in at.checkbox if c.key.startswith("judge-")]
    assert len(boxes) == errors
    boxes[0].check().run()
    boxes[2].check().run()
    assert any(f"misread **2** of the CNN's {errors}" in i.value for i in at.info)
    # Another visitor starts from nothing.
    other = AppTest.from_file("../pages/mistakes.py", default_timeout=120)
    other.run()
    assert any(f"misread **0** of the CNN's {errors}" in i.value for i in other.info)


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
    score = cache.load_records(config)[1]["test_accuracy"]
    assert any(f"reads **{score:.2%}**" in m.value for m in at.markdown)
    assert not [c for c in at.checkbox if c.key.startswith("judge-")]  # the CNN's alone


def test_page_names_fashion_classes(queue_env):
    label = runs.run_label(FASHION[0])
    at = AppTest.from_file("../pages/mistakes.py", default_timeout=120)
    at.run()
    if label not in at.selectbox[0].options:
        pytest.fail(f"{label} is not in models_cache/")
    at.selectbox[0].set_value(label).run()
    assert not at.exception, [e.value for e in at.exception]
    names = list(datasets.class_names("fashion_mnist"))
    assert at.selectbox(key=f"true-{FASHION[0].kind}-{FASHION[0].key()}").options == names
    assert list(at.dataframe[0].value["class"]) == names
    assert any(h.value == "Per-class accuracy" for h in at.subheader)
    # The heading of the shown cell names classes, not numbers.
    cell = next(h.value for h in at.subheader if h.value.startswith("True "))
    assert any(cell.startswith(f"True {name}, ") for name in names) and cell.endswith("images")
    assert any("of the 10,000 Fashion-MNIST test images right" in m.value for m in at.markdown)
    assert not [c for c in at.checkbox if c.key.startswith("judge-")]  # MNIST's CNN alone
