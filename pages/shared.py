"""What the pages share: models and test digits loaded once per server process, and
small display helpers. Not a page itself (app.py lists the pages)."""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from core.analysis import compare, latent, mistakes
from core.analysis.inference import probabilities
from core.analysis.inside import inspect
from core.analysis.mistakes import enlarge as enlarge_all
from core.classset.samples import class_order
from core.config import DEFAULTS, TrainConfig, default_config
from core.data import registry as datasets
from core.data.images import DataUnavailableError
from core.data.mnist import load_mnist
from core.nets.summary import layer_table
from core.present.glossary import GLOSSARY
from core.present.links import LINKS, refusal_sentence
from core.present.runs import epochs_text
from core.queue import jobs
from core.store import cache
from pages.identity import student


def use_app_navigation() -> None:
    """Make sure a page runs inside app.py's frame (navigation, page config).

    Streamlit treats a folder named ``pages/`` beside app.py as a version-1 multipage app
    until app.py has called ``st.navigation`` once in the server process, so the first
    visitor of a fresh server who opens a direct link (``/draw``) would get the bare page
    and every later visitor the wrong sidebar. Clearing that flag and rerunning runs
    app.py, which then shows the same page (page ids come from the URL path).
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


@st.cache_resource(show_spinner="Loading MNIST…")
def mnist():
    """{"x_test": (10000, 28, 28) float32 in [0, 1], "y_test": (10000,) uint8}; read-only."""
    _, _, (x_test, y_test) = load_mnist().splits()
    x_test.setflags(write=False)
    return {"x_test": x_test, "y_test": y_test}


@st.cache_resource(show_spinner="Loading the test images…")
def test_set(dataset: str = "mnist"):
    """{"x_test": (10000, 28, 28) float32 in [0, 1] ((10000, 32, 32, 3) for CIFAR-10),
    "y_test": (10000,) uint8} of a data set (``core.data.registry``), loaded once per server
    process; read-only. Raises ``core.data.images.DataUnavailableError`` (one sentence) when its
    files are missing; errors are not cached."""
    if dataset == "mnist":
        return mnist()

    _, _, (x_test, y_test) = datasets.load(dataset).splits()
    x_test.setflags(write=False)
    return {"x_test": x_test, "y_test": y_test}


@st.cache_resource(show_spinner="Loading the model…")
def cached_model(kind: str):
    """The default model of ``kind`` from models_cache/, loaded once per server process.

    Raises FileNotFoundError when it is not cached and CorruptEntryError when its entry is
    damaged; errors are not cached, so a repaired cache is read on the next run.
    """
    return cache.load(default_config(kind))


@st.cache_resource(show_spinner="Encoding the test digits…")
def test_codes(kind: str):
    """The shipped ``kind`` VAE's latent means of the 10,000 test digits: (10000,
    latent_dim) float32, loaded once per server process (read-only)."""
    return latent.encode(cached_model(kind).model.get_layer("encoder"), mnist()["x_test"])


@st.cache_data(show_spinner="Building the model…")
def model_summary(config_json: str) -> tuple[list[dict], int]:
    """(layer rows, parameter count) of the model a config (``TrainConfig`` as JSON) builds;
    imports TensorFlow."""
    from core.training.run import build

    model = build(TrainConfig.from_fields(json.loads(config_json)))
    return layer_table(model), model.count_params()


def require_model(kind: str):
    """The default shipped model, or stop the page with one sentence saying what is wrong."""
    try:
        return cached_model(kind)
    except FileNotFoundError:
        st.warning(f"The {kind} model is not in models_cache/: rebuild it with `python -m core train {kind}`.")
        st.stop()
    except cache.CorruptEntryError as exc:
        st.warning(f"{exc} This page needs it: rebuild it with `python -m core train {kind} --force`.")
        st.stop()


def enlarge(image: np.ndarray, factor: int = 4) -> np.ndarray:
    """Nearest-neighbour upscale of a (28, 28) digit so the browser shows crisp pixels
    (``core.analysis.mistakes.enlarge`` of one image), clipped to [0, 1]."""
    return np.clip(enlarge_all(np.asarray(image)[None], factor)[0], 0, 1)


def digit_row(images, captions=None, factor: int = 3) -> None:
    """Show (28, 28) digits in one row, each with an optional caption."""
    st.image([enlarge(image, factor) for image in images], caption=captions, clamp=True)


def pressed_again(key: str, field: str) -> bool:
    """Whether our component ``key`` (pages/components/) counted a new press of its button
    ``field`` since this session's last run. The count, its state ``field``, starts at 0
    each time a page shows the component, and arrives before the component is drawn again,
    so the page sends the new data in the same run. The count comes from the visitor's
    browser: anything but a whole number (a tampered state) counts as no press."""
    count = (st.session_state.get(key) or {}).get(field)
    if isinstance(count, bool) or not isinstance(count, int):
        count = 0
    seen = f"{key}-{field}-seen"
    new = count > st.session_state.get(seen, 0)
    st.session_state[seen] = count
    return new


def session_owner() -> str:
    """Who this browser queues jobs as: the student's name in the class (the owner recorded
    on their jobs; only they, or the teacher, may cancel them), "" before they pick one."""
    return student() or ""


def collect_runs(show: bool = True) -> str | None:
    """Write finished jobs' results into the runs store (``core.queue.jobs.collect``); quietly
    nothing when the queue is not running (the page's queue calls say so). When the store
    cannot be written, its one sentence (results wait in the queue) as a warning here
    (``show``); returns that sentence, else None."""
    try:
        jobs.collect()
    except jobs.StoreUnwritable as exc:
        if show:
            st.warning(str(exc), icon=":material/save:")
        return str(exc)
    except jobs.QUEUE_ERRORS:
        pass
    return None


# Seconds as "40 s" or "7 min": the words core.queue.jobs uses in its sentences too.
duration = jobs.duration


def job_status_text(state: dict) -> str:
    """One sentence on a job (``core.queue.jobs.describe``): where it is and how long it may take."""
    if state["state"] == "running" and state.get("stalled"):
        return (f"Training stopped at {state['epoch']} of {epochs_text(state['epochs'])}: its worker stopped "
                "answering, so the job goes back in the line by itself and resumes from its last finished epoch.")
    if state["state"] == "running":
        resumed = f" (resumed at epoch {state['resumed_at']} after a fault)" if state.get("resumed_at") else ""
        return (f"Training{resumed}: {state['epoch']} of {epochs_text(state['epochs'])} done, about "
                f"{duration(state['remaining_seconds'] or 0)} left.")
    if state["state"] == "queued":
        place = f"Queued: number {state.get('position') or 1} in the line"
        if state.get("epoch"):  # it had started: a fault put it back
            place = (f"Queued again after its worker stopped, to resume after epoch {state['epoch']}: "
                     f"number {state.get('position') or 1} in the line")
        if state.get("paused"):
            return f"{place}. The teacher has paused the queue: it starts once the teacher resumes it."
        if state.get("workers") == 0:
            return (f"{place}. No training worker is running right now, so it starts when one does "
                    "(scripts/run_app.sh starts one).")
        passed = " (or later: quick jobs queued after it go first)" if state.get("may_be_passed") else ""
        return (f"{place}, about {duration(state.get('wait_seconds') or 0)} until it starts{passed}, "
                f"then about {duration(state.get('estimate_seconds') or 0)} of training.")
    if state["state"] == "waiting":
        runs = state.get("runs") or {"done": 0, "total": 0}
        return f"Waiting for its runs: {runs['done']} of {runs['total']} done."
    if state["state"] == "failed":
        return f"Failed: {state['reason']}."
    return state["state"].capitalize() + "."


# Projector mode: larger type for the back of a room. Streamlit sizes text in rem, so one
# root font size scales headings, widgets and tables together (plotly figures need
# core.present.figures.larger_type). Captions go, except those naming an image.
_PROJECTOR_CSS = ("<style>html { font-size: 22px; } "
                  "[data-testid='stCaptionContainer']:not([data-testid='stImageCaption'] *) { display: none; }</style>")


def projector_toggle() -> None:
    """The sidebar's "Projector mode" toggle, on by default for ``?mode=class`` links; the
    query parameter follows the toggle so a copied link keeps the mode."""
    if "projector" not in st.session_state:
        st.session_state.projector = st.query_params.get("mode") == "class"
    on = st.sidebar.toggle("Projector mode", key="projector",
                           help="Larger text and digits, fewer captions: for a class watching a projector.")
    if on:
        st.query_params["mode"] = "class"
        st.html(_PROJECTOR_CSS)
    elif st.query_params.get("mode") == "class":
        del st.query_params["mode"]


# ---------------------------------------------------------------------------------------
# Links that reopen a view (core.present.links): each page reads its address when it is
# arrived at and writes its view back as it changes.

# The page whose address this session has read: app.py forgets it when another page runs,
# so a page reads its address on arrival (a shared link, a reload, a link from another
# page), not on its own reruns.
_LINK_READ = "link-read"


def page_shown(path: str) -> None:
    """app.py, before each page runs: forget the address read on another page, so ``path``
    reads its own on arrival."""
    if st.session_state.get(_LINK_READ) not in (None, path):
        del st.session_state[_LINK_READ]


def read_link(path: str, allowed: dict | None = None) -> dict | None:
    """The view the page ``path``'s address names (``core.present.links.LINKS[path]``), on
    arrival at the page (the first run since another page or a new session): the parameters
    it gives, read, by name ({} for none); None on the page's other runs. Values it refuses,
    and those for which ``allowed[name](value)`` is false (a model this server does not
    have), are left out (the page keeps its defaults for them), said in one ``st.info``
    sentence; never raises."""
    if st.session_state.get(_LINK_READ) == path:
        return None
    st.session_state[_LINK_READ] = path
    link = LINKS[path]
    params = {name: value for name, value in st.query_params.to_dict().items() if name in link.names}
    state, refused = link.decode(params)
    refused += [name for name, ok in (allowed or {}).items()
                if name in params and name not in refused and not ok(state[name])]
    refused.sort(key=link.names.index)
    if refused:
        st.info(refusal_sentence(link.words(refused)))
    return {name: state[name] for name in params if name not in refused}


def write_link(path: str, state: dict) -> None:
    """Keep the page ``path``'s view in its address: ``state``'s fields away from their
    defaults (``core.present.links.Link.encode``), in place of the page's earlier ones; the
    address's other parameters (``mode``) stay as they are."""
    put_address(LINKS[path].names, LINKS[path].encode(state))


def put_address(names, ours: dict[str, str]) -> None:
    """Put ``ours`` in the page's address in place of its parameters ``names`` (the page's
    own), when they differ; the address's other parameters (``mode``) stay as they are."""
    now = st.query_params.to_dict()
    if {name: value for name, value in now.items() if name in names} != ours:
        st.query_params.from_dict({**{name: value for name, value in now.items() if name not in names}, **ours})


def projector() -> bool:
    """Whether this session shows the lab for a projector (see ``projector_toggle``)."""
    return bool(st.session_state.get("projector", False))


def caption(text: str) -> None:
    """A caption for a learner reading alone; projector mode leaves it out."""
    if not projector():
        st.caption(text)


def explain(*terms: str) -> None:
    """A "What is …?" expander with one sentence (and its source) per term of
    ``core.present.glossary.GLOSSARY``, for a learner meeting the words for the first time.

    Raises KeyError for a term the glossary lacks (a test checks every page's terms).
    """
    entries = [GLOSSARY[term] for term in terms]
    title = "What is " + ", ".join(e.name for e in entries[:-1]) + (" or " if len(entries) > 1 else "") \
        + entries[-1].name + "?"
    with st.expander(title, icon=":material/school:"):
        for e in entries:  # each sentence starts with its term, so it reads alone
            source = f" *Source: {e.source}.*" if e.source else ""
            st.markdown(f"{e.sentence}{source}")


# Set by app.py once the server has shown its first page. The warm-up waits for it (at most
# WARM_UP_DELAY_S): on 2 cores, importing TensorFlow beside the first visitor's page slowed
# that page down (README.md, "In the browser"). A first page that needs a model loads it itself,
# through the same cache.
first_page_shown = threading.Event()
WARM_UP_DELAY_S = 5.0
# Every shipped model a page shows, in the order a first visitor most likely needs them.
WARM_KINDS = ("cnn", "dense_64_64", "denoising_autoencoder", "conv_denoiser", "vae", "cvae")
_warm_up_lock = threading.Lock()
_warm_up_started = False


def start_warm_up() -> bool:
    """Start ``warm_up`` in a background thread, once per server process; True the first
    time. server.py's lifespan hook calls it as the server starts; app.py calls it on every
    run, so ``streamlit run app.py`` pays the warm-up (and its ``gc.freeze``) once too:
    without it, Streamlit's full garbage collection after every run walked TensorFlow's
    objects, several times the CPU per interaction (README.md, "Constants in the code")."""
    global _warm_up_started
    with _warm_up_lock:
        if _warm_up_started:
            return False
        _warm_up_started = True
    threading.Thread(target=warm_up, name="digitlab-warm-up", daemon=True).start()
    return True


def warm_up() -> None:
    """Load, once per server process and after its first page (``first_page_shown``),
    what the pages' first visits would otherwise wait for: TensorFlow, the shipped models
    (each run once, so Keras has traced its graph) and the MNIST test digits. Runs in server.py's background thread; a model that is missing
    or damaged is skipped here and reported by the page that needs it."""
    first_page_shown.wait(WARM_UP_DELAY_S)
    log = logging.getLogger("digitlab.warm_up")
    # The cached loaders' spinners look for a page to draw in; this thread has none, and
    # Streamlit would warn about it once per load.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: record.threadName != threading.current_thread().name)
    start = time.perf_counter()
    # First the Train page's first view, the default model's layer table: it imports
    # TensorFlow, which every later step needs too.
    model_summary(json.dumps(asdict(default_config(next(iter(DEFAULTS))))))
    mnist()
    blank = np.zeros((28, 28), np.float32)
    for kind in WARM_KINDS:
        try:
            entry = cached_model(kind)
        except (FileNotFoundError, cache.CorruptEntryError):
            continue
        if kind in ("cnn", "dense_64_64"):
            probabilities(entry.model, blank)
        elif kind in ("denoising_autoencoder", "conv_denoiser"):
            entry.model.predict_on_batch(blank[None])
        elif kind == "vae":
            test_codes(kind)
    # The Inside page's compiled functions (traced once, not on a visitor's first drawing)
    # and the Mistakes page's default: the seed-0 CNN's predictions on the 10,000 test digits.

    try:
        inspect(cached_model("cnn").model, blank)
        test_analysis("shipped", f"cnn-{default_config('cnn').key()}")
    except (FileNotFoundError, cache.CorruptEntryError):
        pass
    # Fashion-MNIST's test images for the Inside and Mistakes pages' Fashion networks
    # (reading and checking its files, not on a visitor's time).

    try:
        test_set("fashion_mnist")
    except DataUnavailableError:
        pass
    # Streamlit runs a full garbage collection after every script run (runner.postScriptGC);
    # over TensorFlow's and the models' hundreds of thousands of objects it held the lock
    # the server needs to send the page's answer for a noticeable time. Frozen objects are left out of
    # every later collection: they live as long as the server anyway.
    gc.collect()
    gc.freeze()
    log.warning("warm-up done in %.1f s", time.perf_counter() - start)


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def stored_model(store: str, entry: str):
    """A stored entry's ``CachedModel``, loaded once per server process for every page
    (read-only).

    Args:
        store: "shipped" (models_cache/) or "here" (the runs store).
        entry: the entry's folder name, ``<kind>-<key>``.

    Raises FileNotFoundError or CorruptEntryError (one sentence); errors are not cached.
    """
    return mistakes.load_entry(cache.store_dir(store), entry)


@st.cache_data(show_spinner=False, max_entries=16)
def _labelled_runs(shipped: str, here: str, signature: tuple) -> list:
    return compare.comparable_runs(Path(shipped), Path(here))


def labelled_runs() -> list:
    """``core.analysis.compare.comparable_runs`` of the two stores, the one list the Mistakes and
    Compare runs pages pick from (a run has one name on both), read again when either
    store's ``core.analysis.compare.store_signature`` changes."""
    return _labelled_runs(str(cache.cache_dir()), str(cache.runs_dir()),
                          compare.store_signature(cache.cache_dir()) + compare.store_signature(cache.runs_dir()))


@st.cache_resource(show_spinner="Reading the 10,000 test digits with this model…", max_entries=32)
def test_analysis(store: str, entry: str):
    """A classifier's ``core.analysis.mistakes.Analysis`` on the 10,000 test images of its data set (read-only
    arrays), computed once per server process and entry: the model runs here, every later
    visit and cell click only reads the arrays.

    Args:
        store: "shipped" (models_cache/) or "here" (the runs store).
        entry: the entry's folder name, ``<kind>-<key>``.

    Raises FileNotFoundError or CorruptEntryError (one sentence) when the entry is missing
    or damaged; errors are not cached.
    """
    loaded = stored_model(store, entry)
    data = test_set(loaded.metrics.get("config", {}).get("dataset", "mnist"))
    model = loaded.model
    return mistakes.analyse(mistakes.test_predictions(model, data["x_test"]), data["y_test"])


def class_grid(data, per_class: int = 30, delete=None) -> None:
    """The class's drawings (a ``core.classset.samples.ClassSet``) as a grid per class, each
    drawing captioned with its student; newest first, at most ``per_class`` of a class.
    With ``delete`` (a callback taking a sample id: the teacher's), a Delete under each."""
    for label in class_order(data.labels):
        rows = np.flatnonzero(data.labels == label)[::-1]
        st.markdown(f"**{label}** · {len(rows)} drawing{'s' if len(rows) != 1 else ''}")
        with st.container(horizontal=True, key=f"class-grid-{'t' if delete else 's'}-{label}"):
            for i in rows[:per_class]:
                with st.container(width=92, gap=None):
                    st.image(enlarge(data.images[i], 3), caption=str(data.students[i]), clamp=True)
                    if delete is not None:
                        st.button("Delete", key=f"delete-sample-{data.ids[i]}", on_click=delete,
                                  args=(int(data.ids[i]),), help=f"Delete sample #{data.ids[i]}")


@st.cache_resource(show_spinner="Loading the class's model…", max_entries=8)
def class_model(entry: str):
    """A fine-tuned CNN or a symbols head of the runs store (``core.classset``), loaded once
    per server process: its ``CachedModel``. Raises CorruptEntryError (one sentence) when
    missing or damaged; errors are not cached."""
    return cache.load_path(cache.runs_dir() / entry)

