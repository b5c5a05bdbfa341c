"""Mistakes: each classifier's confusion matrix on the 10,000 test images of its data set
(digits or clothes); a click on a cell shows its images."""

import numpy as np
import pandas as pd
import streamlit as st

from core.analysis import mistakes
from core.classset import db, evaluate, samples
from core.config import default_config
from core.data import registry as datasets
from core.data.images import DataUnavailableError
from core.present.payloads import confusion_payload
from core.store import cache
from core.vocabulary import DATASET_NAMES, DATASET_TITLES
from pages.components.confusion_matrix import confusion_matrix
from pages.identity import is_teacher, student
from pages.shared import (caption, collect_runs, explain, labelled_runs, projector, read_link, stored_model,
                          test_analysis, test_set, use_app_navigation, write_link)

use_app_navigation()


st.title("Mistakes")
st.markdown(
    "Each classifier of the lab has read the 10,000 test images of its data set, which it never saw "
    "while learning. The matrix counts its answers: a row for each true class (digit or garment), a column "
    "for each answer, the images it read right on the green diagonal and its mistakes in red. **Click a "
    "cell** to see its images, the diagonal's too."
)
explain("confusion_matrix", "per_class_accuracy", "softmax")

collect_runs()
runs = labelled_runs()
if not runs:
    st.warning("No classifier is in models_cache/ or the runs store: rebuild the shipped ones with "
               "`python -m core train --all`.")
    st.stop()
by_label = {run.label: run for run in runs}
# The seed-0 MNIST CNN first shown, wherever the list puts it.
default_entry = f"cnn-{default_config('cnn').key()}"
labels = list(by_label)
start = next((i for i, r in enumerate(runs) if r.store == "shipped" and r.entry == default_entry), 0)
# A link (core.present.links, "mistakes"): the classifier, which digits and a cell; a link from the Class
# models page opens on the class's digits (?data=class).
link = read_link("mistakes", allowed={"model": lambda entry: any(r.entry == entry for r in runs)}) or {}
if "model" in link:
    st.session_state["mistakes-classifier"] = next(r.label for r in runs if r.entry == link["model"])
if st.session_state.get("mistakes-classifier") not in by_label:
    st.session_state["mistakes-classifier"] = labels[start]
name = st.selectbox("Classifier", labels, key="mistakes-classifier",
                    help="The classifiers shipped with the lab, then those trained on this server (Train page), "
                         "named as on the Compare runs page.")
run = by_label[name]
store, entry, dataset = run.store, run.entry, run.config.dataset
default_cnn = store == "shipped" and entry == default_entry
names = datasets.class_names(dataset)
# What one test image is, in the page's sentences.
noun = "digit" if dataset == "mnist" else "image"
SOURCES = ("MNIST's 10,000 test digits", "The class's digits")
source = SOURCES[0]
if "data" in link:
    st.session_state["mistakes-source"] = SOURCES[link["data"] == "class"]
if dataset == "mnist":
    source = st.radio("Which digits", SOURCES, horizontal=True, key="mistakes-source",
                      help="The class's digits are the drawings saved on the Collect page.")
CLASS = source == SOURCES[1]
if "true" in link:  # the link's cell, in the pickers matrix_and_cell shows (their keys name the classifier)
    for part, value in (("true", link["true"]), ("read", link["read"])):
        st.session_state[f"{part}-{entry}{'-class' if CLASS else ''}"] = value


@st.cache_resource(show_spinner="Reading the class's digits with this model…", max_entries=16)
def class_analysis(store: str, entry: str, checksum: str, _digits):
    """The classifier's ``Analysis`` on the class's digits (``_digits``, named by ``checksum``)."""
    return mistakes.analyse(evaluate.probabilities(stored_model(store, entry).model, _digits.images),
                            _digits.digit_labels())


try:
    if CLASS:
        try:
            class_digits = samples.load().digits()
        except db.DB_ERRORS as exc:
            st.warning(db.problem(exc))
            st.stop()
        if not len(class_digits):
            st.info("The class has not saved any digits yet: draw some on the Collect page.")
            st.stop()
        analysis = class_analysis(store, entry, class_digits.sha256(), class_digits)
        # Another student's drawing is shown blank unless the teacher shares the class's drawings.
        shown = samples.shown_to(student(), is_teacher(), class_digits.students)
        x_test = np.where(shown[:, None, None], class_digits.images, np.float32(0))
    else:
        analysis = test_analysis(store, entry)
        x_test = test_set(dataset)["x_test"]
except FileNotFoundError:
    st.warning(f"{name} is not in models_cache/ any more: rebuild it with `python -m core train`."
               if store == "shipped" else f"The run {name} is no longer in the runs store.")
    st.stop()
except cache.CorruptEntryError as exc:
    st.warning(f"{exc} Choose another classifier.")
    st.stop()
except DataUnavailableError as exc:
    st.warning(f"{name} reads {DATASET_TITLES.get(dataset, dataset)}, whose test images are not on this "
               f"server: {exc}")
    st.stop()

recorded = run.metrics.get("test_accuracy")
factor = 4 if projector() else 3
# Each image as wide as an MNIST caption makes it (128 px): without a width, st.image
# stretches an image to its caption's width, and a garment's longer caption
# ("true T-shirt/top · read Bag · 99.9%") drew 200 px clothes two to a row. A longer
# caption wraps instead.
shown_width = 168 if projector() else 128
# Captions under those images break at spaces only: "T-shirt/top" broke after its hyphen
# ("read T-" / "shirt/top"). U+2011 is a hyphen no line breaks at.
caption_names = tuple(n.replace("-", "\u2011") for n in names)
total = int(analysis.matrix.sum())
if CLASS:
    st.markdown(f"**{name}** reads **{analysis.accuracy:.2%}** of the class's {total:,} digits right: "
                f"**{analysis.errors}** mistakes"
                + (f" (on MNIST's test digits: {recorded:.2%})." if recorded is not None else "."))
    if not shown.all():
        caption("Other students' drawings are shown blank: the teacher has not shared the class's drawings.")
else:
    st.markdown(f"**{name}** reads **{analysis.accuracy:.2%}** of the {total:,} "
                f"{DATASET_NAMES.get(dataset, dataset)} test {noun}s right: **{analysis.errors}** mistakes.")


def default_cell() -> tuple[int, int]:
    """Before any click: the most frequent mistake (the diagonal's first cell if none)."""
    off = np.where(np.eye(mistakes.CLASSES, dtype=bool), -1, analysis.matrix)
    if off.max() <= 0:
        return 0, 0
    true, predicted = np.unravel_index(np.argmax(off), off.shape)
    return int(true), int(predicted)


def cell_clicked(matrix_key: str, true_key: str, read_key: str) -> None:
    """A click or tap on a cell of the matrix sets the cell pickers to it. The cell comes
    from the visitor's browser: anything but two classes 0-9 (a tampered state) is ignored."""
    cell = (st.session_state.get(matrix_key) or {}).get("cell")
    classes = range(mistakes.CLASSES)
    if isinstance(cell, list) and len(cell) == 2 and all(type(c) is int and c in classes for c in cell):
        st.session_state[true_key], st.session_state[read_key] = cell


@st.fragment
def matrix_and_cell():
    # A click reruns this fragment only: the page's text, table and strips stay as they are.
    # The two pickers name the same cell as a click, for a keyboard or a screen reader too.
    matrix_key, true_key, read_key = (f"{part}-{entry}{'-class' if CLASS else ''}" for part in ("matrix", "true", "read"))
    clicked = true_key in st.session_state
    if not clicked:
        st.session_state[true_key], st.session_state[read_key] = default_cell()
    left, right = st.columns([11, 9], gap="medium")
    with left:
        selected = (st.session_state[true_key], st.session_state[read_key])
        confusion_matrix(confusion_payload(analysis.matrix, names, noun, selected, projector()), key=matrix_key,
                         on_change=lambda: cell_clicked(matrix_key, true_key, read_key))
        c1, c2 = st.columns(2)
        classes = list(range(mistakes.CLASSES))
        c1.selectbox(f"True {'digit' if dataset == 'mnist' else 'class'}", classes, key=true_key,
                     format_func=names.__getitem__)
        c2.selectbox("Read as", classes, key=read_key, format_func=names.__getitem__)
    true, predicted = st.session_state[true_key], st.session_state[read_key]
    # The address follows the view: the classifier, which digits and the cell unless it is the default one.
    cell = (true, predicted) != default_cell()
    write_link("mistakes", {"model": entry, "data": "class" if CLASS else "test",
                            "true": true if cell else None, "read": predicted if cell else None})
    images, captions, count = mistakes.cell_view(analysis, x_test, true, predicted, factor, names=caption_names)
    with right, st.container(key="cell-digits"):
        what = "read right" if true == predicted else f"read as {names[predicted]}"
        st.subheader(f"True {names[true]}, {what}: {count:,} {noun}{'s' if count != 1 else ''}")
        if not clicked:
            caption("Nothing clicked yet: this is the most frequent mistake. Click any cell of the matrix, "
                    "or pick one under it.")
        if count == 0:
            st.markdown(f"No test {noun} is in this cell: {name} never read a {names[true]} as a "
                        f"{names[predicted]}.")
        else:
            if count > len(images):
                st.markdown(f"The {len(images)} it was surest of, of {count:,}:")
            if true == predicted:
                # Read right: the heading names both labels, so each picture keeps only how sure the
                # model was, and small pictures keep 40 of them to a few rows (one column of 40 on a
                # phone made the page 6,000 px long).
                st.image(images, caption=[c.rsplit(" · ", 1)[-1] for c in captions], clamp=True,
                         width=shown_width // 2)
                caption(f"Under each {noun}: how sure the model was (“% sure”).")
            else:
                st.image(images, caption=captions, clamp=True, width=shown_width)
                caption(f"Under each {noun}: its true label, the model's answer and how sure it was (“% sure”).")


matrix_and_cell()


def misread_as(row: np.ndarray) -> str:
    """The answers a true class most often wrongly got, ties all named: "3 (5×)", "0, 4, 8 (1× each)"."""
    if not row.max():
        return "–"
    top = [names[d] for d in np.flatnonzero(row == row.max())]
    return f"{', '.join(top)} ({row.max()}×{' each' if len(top) > 1 else ''})"


st.subheader("Per-digit accuracy" if dataset == "mnist" else "Per-class accuracy")
rows = analysis.matrix.sum(axis=1)
off = np.where(np.eye(mistakes.CLASSES, dtype=bool), 0, analysis.matrix)
st.dataframe(pd.DataFrame({
    "digit" if dataset == "mnist" else "class": list(names),
    f"test {noun}s": rows,
    "read right": np.diag(analysis.matrix),
    "accuracy": 100 * mistakes.per_class_accuracy(analysis.matrix),
    "most often misread as": [misread_as(r) for r in off],
}), hide_index=True, height="content",
    column_config={"accuracy": st.column_config.NumberColumn(format="%.2f%%")})

strip = analysis.most_confident_mistakes()
if len(strip):
    st.subheader("Its most confident mistakes")
    st.image(mistakes.enlarge(x_test[strip], factor), caption=analysis.captions(strip, names=caption_names), clamp=True,
             width=shown_width)
    caption("The wrong answers it was surest of: a high “% sure” on a wrong answer means the model does "
            "not know it is wrong.")

if default_cnn and analysis.errors and not CLASS:
    errors = analysis.most_confident_mistakes(None)

    @st.fragment
    def judge():
        st.subheader(f"Would you have misread them too? All {len(errors)} mistakes of this CNN")
        st.markdown("Some test digits are written so oddly that people misread them as well. For each of "
                    "the CNN's mistakes, tick it if you, seeing it without its label, would not have read "
                    "the true digit either.")
        summary = st.empty()
        with st.container(horizontal=True, key="judge-grid"):
            for i in errors:
                with st.container(width=100, gap=None):
                    st.image(mistakes.enlarge(x_test[i:i + 1], factor)[0],
                             caption=analysis.captions([i], reader="CNN")[0], clamp=True)
                    st.checkbox("I'd misread it", key=f"judge-{i}")
        misread = sum(bool(st.session_state.get(f"judge-{i}")) for i in errors)
        summary.info(f"You would have misread **{misread}** of the CNN's {len(errors)} mistakes too. "
                     "That count is your own judgement, kept for this visit only: the lab has no record "
                     "of how people read these digits, so it makes no claim of its own.")

    judge()

with st.expander("Where this came from"):
    where = "models_cache/" if store == "shipped" else "the runs store (trained on this server)"
    recorded_text = f"{recorded:.2%}" if recorded is not None else "not recorded"
    read = (f"the class's {total:,} digits (saved on the Collect page; {db.where()})" if CLASS
            else f"the {total:,} test {noun}s of {DATASET_TITLES.get(dataset, dataset)}")
    st.markdown(f"Entry `{entry}` in {where}. This server ran the model once on {read} "
                f"(batches of 1,000) and counted its answers: "
                f"{analysis.accuracy:.2%} right; the test accuracy recorded after training is {recorded_text}. "
                f"A model's answer is its most probable class.")
