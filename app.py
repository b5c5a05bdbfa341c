"""Digit Lab: navigation and the frame every page shares. Run: streamlit run app.py"""

import re

import streamlit as st

from core.queue import classroom
from core.store import cache
from pages.identity import name_sidebar
from pages.components.copy_link import copy_link
from pages.shared import first_page_shown, page_shown, projector_toggle, start_warm_up

# A ?mode=class link (projector mode) opens with the sidebar folded, leaving the screen to the page.
st.set_page_config(page_title="Digit Lab", page_icon=":material/draw:", layout="wide",
                   initial_sidebar_state="collapsed" if st.query_params.get("mode") == "class" else "auto")

pages = [
    st.Page("pages/overview.py", title="Overview", icon=":material/home:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/regularization.py", title="Regularization", icon=":material/tune:"),
    st.Page("pages/denoising.py", title="Denoising", icon=":material/blur_on:"),
    st.Page("pages/latent.py", title="Latent space", icon=":material/scatter_plot:"),
    st.Page("pages/draw.py", title="Draw", icon=":material/draw:"),
    st.Page("pages/collect.py", title="Collect", icon=":material/gesture:"),
    st.Page("pages/class_models.py", title="Class models", icon=":material/groups:"),
    st.Page("pages/inside.py", title="Inside the CNN", icon=":material/visibility:"),
    st.Page("pages/mistakes.py", title="Mistakes", icon=":material/error:"),
    st.Page("pages/compare.py", title="Compare runs", icon=":material/compare_arrows:"),
    st.Page("pages/lessons.py", title="Lessons", icon=":material/menu_book:"),
]
if classroom.teacher_mode():  # no password set by the operator: no teacher mode at all
    pages.append(st.Page("pages/teacher.py", title="Teacher", icon=":material/school:"))
# expanded: with the Teacher page there are 13, and Streamlit folds all after the 10th by default.
page = st.navigation(pages, expanded=True)


@st.cache_data(ttl=30, show_spinner=False)
def damaged_entries(shipped: str, runs: str) -> list[str]:
    """One sentence per damaged entry of the shipped cache and the runs store (checked at
    most every 30 s: it reads every entry's small files)."""
    return cache.problems(shipped) + cache.problems(runs)


# server.py sends a page path with a second "/" (/train/x) here, to the main page, with this parameter.
missing = st.query_params.get("page_not_found")
if missing is not None:
    # Shown as typed only when it is a plain path (the sentence is rendered as Markdown).
    named = f"`/{missing}`" if re.fullmatch(r"[A-Za-z0-9_./-]{1,80}", missing) else "you asked for"
    st.warning(f"Page not found: the lab has no page {named}, so here is its main page; every page is "
               "listed in the sidebar.", icon=":material/explore_off:")
    del st.query_params["page_not_found"]
for problem in damaged_entries(str(cache.cache_dir()), str(cache.runs_dir())):
    st.warning(f"{problem} It is skipped.", icon=":material/warning:")
projector_toggle()
name_sidebar()
# Every page's "Copy link", placed in the header bar (each page keeps its view in its address,
# core.present.links, and reads it when arrived at).
copy_link()
page_shown(page.url_path)
st.sidebar.caption("Digit Lab · neural networks on MNIST · models trained on the real MNIST set")
try:
    page.run()
finally:
    first_page_shown.set()  # the warm-up may start now
    # Under `streamlit run server.py` it started with the server; under `streamlit run app.py`
    # it starts here, once per process.
    start_warm_up()
