"""Collect: students add their own drawings to the class set. The page asks for a class
("Draw a 4"), cycling so the set stays balanced; Save keeps the drawing with its label,
the student's name, the time, the strokes and the 28x28 model input; Skip asks for the
next one. Each student sees their own samples and the class's counts (everyone's
drawings only when the teacher shares them), and anyone named can add a new symbol."""

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from core.classset import db, samples
from core.drawing.preprocess import NoInkError, ScribbleError, to_mnist
from core.drawing.strokes import StrokeError, to_image
from pages.components.sketchpad import sketchpad
from pages.identity import student
from pages.shared import caption, class_grid, enlarge, explain, projector, use_app_navigation

use_app_navigation()

st.title("Collect the class's handwriting")
st.markdown("Every network in this lab learned from MNIST: digits written with a pen on paper by American "
            "students and census workers. Do they read **your** digits, drawn with a finger or a mouse? Add "
            "drawings to the class set here, then test every model on them, fine-tune the CNN and teach it new "
            "symbols on the **Class models** page.")
explain("mnist", "distribution_shift")

name = student()
try:
    symbol_names = samples.symbol_names()
except db.DB_ERRORS as exc:
    st.warning(db.problem(exc))
    st.stop()

if not name:
    st.info("Pick your name in the class (in the sidebar) to start: each drawing you save carries it, so the "
            "teacher knows whose it is and fine-tuning can test on students it never learned from.")
    st.stop()

kinds = {"Digits 0-9": samples.DIGITS}
if symbol_names:
    kinds["The class's symbols"] = tuple(symbol_names)
kind = "Digits 0-9"
if len(kinds) > 1:
    kind = st.radio("What to draw", list(kinds), horizontal=True, key="collect-kind",
                    help="New symbols are classes the class defines (below); they are learned on the Class models page.")
classes = kinds[kind]


def ask_next(after: str | None = None) -> None:
    """Pick the class to ask for: the one the set lacks most, or the one after ``after`` (Skip)."""
    if after is not None and after in classes:
        st.session_state["collect-label"] = classes[(classes.index(after) + 1) % len(classes)]
    else:
        st.session_state["collect-label"] = samples.next_label(name, classes)
    st.session_state["collect-pad"] = st.session_state.get("collect-pad", 0) + 1  # a new, empty pad


@st.fragment
def collect_pad() -> None:
    try:
        if st.session_state.get("collect-label") not in classes:
            ask_next()
    except db.DB_ERRORS as exc:
        st.warning(db.problem(exc))
        return
    label = st.session_state["collect-label"]
    left, right = st.columns(2, gap="medium")
    with left:
        st.subheader(f"Draw a {label}")
        strokes = sketchpad(f"collect-pad-{st.session_state.get('collect-pad', 0)}",
                            label=f"Drawing pad: draw one {label}")
    with right:
        message = st.session_state.pop("collect-message", None)
        if message:
            (st.success if message[0] == "ok" else st.warning)(message[1])
        preview = None
        if strokes:
            try:
                preview = to_mnist(to_image(strokes))
            except (StrokeError, NoInkError, ScribbleError, ValueError):
                preview = None  # Save says why in one sentence
        if preview is not None:
            st.image(enlarge(preview, 6 if projector() else 5), caption="What the models will read (28×28)",
                     clamp=True)
        else:
            caption("Draw on the pad: the 28×28 picture the models read appears here.")
        c1, c2 = st.columns(2)
        if c1.button("Save", type="primary", key="collect-save", icon=":material/save:", width="stretch"):
            try:
                sample_id = samples.save(name, label, strokes)
                st.session_state["collect-message"] = ("ok", f"Saved your {label} (sample #{sample_id}). Thank you!")
                ask_next()
            except samples.SampleError as exc:
                st.session_state["collect-message"] = ("no", str(exc))
            except db.DB_ERRORS as exc:
                st.session_state["collect-message"] = ("no", db.problem(exc))
            st.rerun()  # the whole page: "Your drawings" and the class's counts below change too
        if c2.button("Skip", key="collect-skip", icon=":material/skip_next:", width="stretch"):
            ask_next(after=label)
            st.rerun(scope="fragment")
        caption("Draw it as you would on paper: the drawing is cropped, scaled and centred like an MNIST digit.")


collect_pad()


@st.fragment
def own_and_class() -> None:
    try:
        mine, everyone, who = samples.load(student=name), samples.counts(), samples.students()
        shared = samples.sharing()
    except db.DB_ERRORS as exc:
        st.warning(db.problem(exc))
        return
    st.subheader("The class set")
    order = samples.class_order(list(everyone)) if everyone else list(samples.DIGITS)
    counts = pd.DataFrame({"class": order, "drawings": [everyone.get(c, 0) for c in order]})
    figure = px.bar(counts, x="class", y="drawings", text="drawings", height=260)
    figure.update_layout(margin=dict(l=10, r=10, t=10, b=10), xaxis_type="category")
    st.plotly_chart(figure, config={"displayModeBar": False}, key="collect-counts")
    st.markdown(f"**{sum(everyone.values()):,}** drawings from **{len(who)}** student{'s' if len(who) != 1 else ''}; "
                f"**{len(mine)}** of them are yours.")
    st.subheader("Your drawings")
    if not len(mine):
        caption("None yet: save one above.")
    else:
        newest = mine.where(np.arange(len(mine)) >= len(mine) - 60)
        st.image([enlarge(image, 2) for image in newest.images[::-1]], caption=list(newest.labels[::-1]), clamp=True)
        if st.button("Delete my last drawing", key="collect-undo", icon=":material/undo:"):
            samples.delete_own(name, int(mine.ids[-1]))
            st.rerun(scope="fragment")
        caption("Newest first, at most 60. Only you (and the teacher) see them" +
                ("; the teacher shares the class's drawings, below." if shared else "."))
    if shared:
        st.subheader("The class's drawings")
        class_grid(samples.load())


own_and_class()

st.subheader("Add a new symbol")
caption(f"The class can teach the CNN new classes, such as + − × = or letters: add one here, then everyone draws "
        f"at least 20 of each (choose “The class's symbols” above). At most {samples.MAX_SYMBOLS} symbols.")


def add_symbol() -> None:
    """The symbol form's callback: runs before the page, so the new symbol is offered at once."""
    try:
        added = samples.add_symbol(name, st.session_state.get("symbol-name", ""))
        st.session_state["symbol-message"] = ("ok", f"The class can now draw “{added}”: choose “The class's "
                                                    "symbols” above.")
    except samples.SampleError as exc:
        st.session_state["symbol-message"] = ("no", str(exc))
    except db.DB_ERRORS as exc:
        st.session_state["symbol-message"] = ("no", db.problem(exc))


with st.form("symbol-form", border=False):
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    c1.text_input("A new symbol (1 to 3 letters or signs)", key="symbol-name", max_chars=3, placeholder="+")
    c2.form_submit_button("Add the symbol", on_click=add_symbol)
message = st.session_state.pop("symbol-message", None)
if message:
    (st.success if message[0] == "ok" else st.warning)(message[1])
if symbol_names:
    st.markdown("The class's symbols: " + " ".join(f"`{s}`" for s in symbol_names))
