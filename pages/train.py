"""Train: choose a data set, a model and its hyperparameters, or build your own network
from a layer list (its shapes and parameters shown live, before anything trains). Shipped
and already-trained settings show at once; new ones join the server's training queue, with
live curves, and land in "trained here"."""

import json
from dataclasses import asdict

import pandas as pd
import streamlit as st

from core.data import registry as datasets
from core.nets import layers
from core.queue import classroom, jobs
from core.store import cache
from core.config import BATCH_SIZES, BOUNDS, CLASSIFIERS, L2_CHOICES, LEARNING_RATES, QUICK_LOOK_SIZE, TrainConfig
from core.present.figures import export_config, history_figure, larger_type
from core.present.links import (SUGGESTED, TRAIN_ADDRESS, decode_train, encode_train, models_for, refusal_sentence,
                                starting_config, train_datasets, train_words)
from core.present.glossary import tip
from core.present.runs import epochs_text, run_name, settings_text, subset_text
from core.store.leaderboard import diverged, leaderboard
from core.vocabulary import DATASET_TITLES, MODEL_CHOICES, OPTIMIZER_NAMES
from pages.identity import student, teacher_grant
from pages.run_code import code_view, stored_folder
from pages.shared import (caption, collect_runs, duration, explain, job_status_text, model_summary,
                          projector, put_address, use_app_navigation)

use_app_navigation()

FIELDS = ("epochs", "batch_size", "optimizer", "learning_rate", "momentum", "lr_schedule", "seed", "augment",
          "l2", "noise_level", "latent_dim", "label_smoothing")
LABEL_SMOOTHING = (0.0, 0.05, 0.1, 0.2)
DAMAGED_TEXT = "The stored result for these settings is damaged; train it again to replace it."
# What one epoch trains on: the lab keeps the last 5,000 training images of each set for validation.
TRAINING_IMAGES = {"mnist": "55,000 digits", "fashion_mnist": "55,000 pictures of clothes",
                   "cifar10": "45,000 photos"}
# CIFAR-10 is offered only where the server has a copy (core.data.registry.available).
DATASET_CHOICES = train_datasets()
# Who queues here: the student's name in the class (the sidebar asks for it), or the teacher.
grant = teacher_grant()
owner = student() or ("Teacher" if grant else "")


def namespace(dataset: str, kind: str) -> str:
    """The prefix of a (data set, model) pair's widget keys: the kind alone on MNIST (the
    keys the tests and benchmarks use, "dense_64_64-epochs"), "fashion_mnist-cnn" elsewhere,
    so each pair opens with its own recipe."""
    return kind if dataset == "mnist" else f"{dataset}-{kind}"


def widget_key(ns: str, field: str) -> str:
    return f"{ns}-{field}"


def load_stack(ns: str, stack) -> None:
    """Put ``stack`` in the layer editor of ``ns``: a fresh editor (a new key), so no edit
    of the previous list is applied to the new one."""
    st.session_state[f"{ns}-rows"] = layers.to_rows(stack)
    st.session_state[f"{ns}-version"] = st.session_state.get(f"{ns}-version", 0) + 1


def load_preset(ns: str) -> None:
    """Preset picker callback: load the chosen preset, then clear the picker, so choosing
    the same preset again after editing reloads it."""
    name = st.session_state.get(f"{ns}-preset")
    if name in layers.PRESETS:
        load_stack(ns, layers.PRESETS[name])
    st.session_state[f"{ns}-preset"] = None


def show_settings(fields: dict) -> None:
    """Button callback: put a job's settings (data set, model, layers and all) into the
    widgets, so its panel shows (the button sits in a fragment: ``show-pending`` makes it
    rerun the whole page)."""
    st.session_state["show-pending"] = True
    put_settings(TrainConfig.from_fields(fields))


def put_settings(config: TrainConfig) -> None:
    """Put ``config``'s settings (data set, model, layers and all) into the widgets."""
    st.session_state["train-dataset"] = config.dataset
    st.session_state["train-kind"] = config.kind
    ns = namespace(config.dataset, config.kind)
    for field in FIELDS:
        st.session_state[widget_key(ns, field)] = getattr(config, field)
    st.session_state[widget_key(ns, "quick_look")] = config.train_size == QUICK_LOOK_SIZE
    st.session_state[widget_key(ns, "bfloat16")] = config.precision == "mixed_bfloat16"
    if config.kind == "custom":
        load_stack(ns, config.layers)


# The shown settings live in the page's address too (?kind=cnn&epochs=3), so a reconnect
# after a server restart, a reload or a shared link opens them again (core.present.links).
ADDRESS = TRAIN_ADDRESS


def read_address() -> None:
    """Once per browser session, before the widgets: put the settings the page's address
    names into them. Those the page cannot use keep their defaults (all of them when the
    data set or model is not offered here), said in one sentence."""
    if st.session_state.get("address-read"):
        return
    st.session_state["address-read"] = True
    params = {name: value for name, value in st.query_params.to_dict().items() if name in ADDRESS}
    if not params:
        return
    config, refused, whole = decode_train(params, DATASET_CHOICES)
    put_settings(config)
    if refused:
        st.info(refusal_sentence(train_words(refused), whole))


def write_address(config: TrainConfig) -> None:
    """Keep the shown settings in the page's address: the data set, the model and the
    fields away from its start (so a default page's address stays short); the address's
    other parameters (``mode``) stay as they are."""
    put_address(ADDRESS, encode_train(config))


def who(state: dict) -> str:
    """Who queued a job, in words: "you", "the teacher" or the student's name."""
    if owner and state.get("owner") == owner:
        return "you"
    return "the teacher" if state.get("teacher") else (state.get("owner") or "someone in the class")


def may_cancel(state: dict) -> bool:
    return bool(grant) or bool(owner and state.get("owner") == owner)


def cancel_job(jid: str) -> None:
    """Cancel button callback: the teacher cancels any job, a student their own; a refusal
    or a silent queue leaves one sentence for the next run."""
    try:
        if grant:
            classroom.cancel_any(grant, jid)
        else:
            jobs.cancel(jid, owner)
    except PermissionError as exc:
        st.session_state["queue-message"] = f"The job could not be cancelled: {exc}"
    except jobs.QUEUE_ERRORS as exc:
        st.session_state["queue-message"] = jobs.problem(exc)


def rule_text(rules: classroom.Rules) -> str:
    """The queue's rule in one sentence, as the teacher set it."""
    if rules.limit == 0:
        return "The teacher has closed the training queue to students for now."
    each = "one job" if rules.limit == 1 else f"{rules.limit} jobs"
    return (f"In this class each student may have {each} in the line, each at most {duration(rules.cap_seconds)} "
            f"of a worker's time; quick jobs (at most {duration(jobs.QUICK_SECONDS)}) go first.")


def layer_table(rows: list[dict]) -> None:
    """``core.nets.layers.walk``'s rows as a table: the student's layers numbered as the error
    sentences number them, the lab's Flatten and output layer marked "lab"."""
    numbers, names, n = [], [], 0
    for row in rows:
        added = "added by the lab" in row["layer"]
        n += not added
        numbers.append("lab" if added else str(n))
        # The "lab" mark says who added it: the names stay short enough for a phone.
        names.append(row["layer"].replace(" (the output, added by the lab)", ": the output")
                     .replace(" (added by the lab)", ""))
    st.dataframe(pd.DataFrame({
        "#": numbers,
        "layer": names,
        "output shape": [layers.shape_text(r["output shape"]) for r in rows],
        "parameters": [r["parameters"] for r in rows],
        "multiply-adds": [r["multiply_adds"] for r in rows],
    }), hide_index=True, height="content", column_config={
        # Widths in proportion (they stretch to the page): on a phone the output shape shows
        # without scrolling sideways.
        "#": st.column_config.TextColumn(width=36),
        "layer": st.column_config.TextColumn(width=190),
        "output shape": st.column_config.TextColumn(width=100, help=tip("output_shape")),
        "parameters": st.column_config.NumberColumn(width=90, format="localized", help=tip("parameters")),
        "multiply-adds": st.column_config.NumberColumn(
            width=110, format="localized",
            help="Multiplications (each with an addition) the layer does for one image: what makes a network "
                 "slow to train and to run.")})
    caption("Rows marked \u201clab\u201d are added for you: the Flatten that turns the image into one long row "
            "of numbers before the first Dense layer, and the output layer with one unit per class.")


def layer_columns() -> dict:
    """The layer editor's columns: their widths, menus and the help that gives each range."""
    return {
        # Widths in proportion (they stretch to the page), so "BatchNormalization" shows whole.
        "layer": st.column_config.SelectboxColumn(
            width=150, options=layers.LAYER_TYPES, format_func=layers.LAYER_NAMES.get, default="dense", required=True,
            help="The layer's type; the lab adds the Flatten before the first Dense layer and the output layer."),
        "units or filters": st.column_config.TextColumn(
            width=110, alignment="right", default="64",
            help=f"Dense: its number of units, {layers.UNITS.low} to {layers.UNITS.high}; Conv2D: its "
                 f"number of filters, {layers.FILTERS.low} to {layers.FILTERS.high}."),
        "kernel": st.column_config.TextColumn(
            width=70, alignment="right",
            help=f"Conv2D only: the side of its square window, {layers.KERNEL.low} to "
                 f"{layers.KERNEL.high} (3 for 3x3)."),
        "activation": st.column_config.SelectboxColumn(width=90, options=layers.ACTIVATIONS, default="relu",
                                                       help="Dense and Conv2D: the function applied to each output."),
        "dropout rate": st.column_config.TextColumn(
            width=100, alignment="right",
            help="Dropout only: the share of its inputs switched off at each training step, "
                 f"{layers.RATE.low:g} to {layers.RATE.high:g}.")}


def stack_summary(stack: tuple, walked: list[dict], input_shape: tuple) -> None:
    """Under the layer list: each layer's output shape, parameters and multiply-adds
    (``core.nets.layers.walk``), the totals against this server's limits, and the preset
    the list equals, if any."""
    with st.expander("Model summary: layers, output shapes, parameters", expanded=True):
        layer_table(walked)
        parameters = sum(r["parameters"] for r in walked)
        macs = sum(r["multiply_adds"] for r in walked)
        # "27,776", not "0.0 million", for a small net.
        macs_text = f"{macs / 1e6:,.1f} million" if macs >= 1e6 else f"{macs:,}"
        st.markdown(f"In all: **{parameters:,} parameters** (this server trains up to "
                    f"{layers.MAX_PARAMETERS:,}) and **{macs_text} multiply-adds** per image (up to "
                    f"{layers.MAX_MULTIPLY_ADDS / 1e6:,.0f} million), for {layers.shape_text(input_shape)} images.")
        preset = next((name for name, value in layers.PRESETS.items() if value == stack), None)
        if preset:
            caption(f"This list is the preset \u201c{preset}\u201d.")


def layer_editor(ns: str, start: tuple, input_shape: tuple) -> tuple | None:
    """The preset picker, the editable layer list and, live, each layer's output shape,
    parameters and multiply-adds for ``input_shape``; the stack, or None after showing,
    right under the list, the one sentence saying why the list cannot be built. A list of
    over ``layers.MAX_LAYERS`` layers (a paste) is cut to its first ones in the editor
    itself, with a sentence above it."""
    st.selectbox("Start from a preset", list(layers.PRESETS), index=None, key=f"{ns}-preset",
                 placeholder="Choose one to replace the list below", on_change=load_preset, args=(ns,))
    version = st.session_state.setdefault(f"{ns}-version", 0)
    editor = f"{ns}-layers-{version}"
    if editor not in st.session_state:
        # A new editor (first visit, a preset, "Show", or back from another model) starts
        # from the last list this session saw; an existing one applies its edits to its base.
        last = st.session_state.get(f"{ns}-rows")
        st.session_state[f"{ns}-base"] = layers.to_rows(start) if last is None else last
    if st.session_state.get(f"{ns}-cut") == version:
        # Above the list, where it is seen (a pasted list ran thousands of pixels down).
        st.warning(layers.TOO_MANY_LAYERS)
    frame = pd.DataFrame(st.session_state[f"{ns}-base"], columns=layers.ROW_FIELDS)
    for field in layers.NUMBER_FIELDS:
        # Text cells: a number column changed what was typed without a word (64.7 became
        # 647, -5 became 5); core.nets.layers reads the text and refuses it with a sentence.
        frame[field] = frame[field].map(layers.cell_text).astype("string")
    # Blank, not "None", in the cells a layer's type does not use.
    edited = st.data_editor(frame, key=editor, num_rows="dynamic", hide_index=True, width="stretch", placeholder="",
                            height="content",  # every layer in view: the CIFAR lab's list has 15
                            column_config=layer_columns())
    rows, cut = layers.first_layers(edited.astype(object).to_dict("records"))
    st.session_state[f"{ns}-rows"] = rows
    if cut:
        # Rebuilt with the first MAX_LAYERS layers, as load_stack does (a new editor key):
        # the rows beyond leave the editor itself, and the sentence above it says so.
        st.session_state[f"{ns}-version"] = st.session_state[f"{ns}-cut"] = version + 1
        st.rerun()
    try:
        stack = layers.from_rows(rows)
        walked = layers.walk(stack, input_shape)
        stack = layers.check(stack, input_shape)
    except layers.StackError as exc:
        # Right under the list, where the cell was typed; the Train button goes with it.
        st.error(str(exc))
        stack = None
    caption("Each row is one layer, from the picture to the answer; a row uses only the cells its type needs "
            "(units for Dense, filters and kernel for Conv2D, the rate for Dropout). Add a row at the bottom, "
            "delete one by ticking it on the left.")
    explain("layer_list", "batch_normalization")
    if stack is None:
        return None
    stack_summary(stack, walked, input_shape)
    return stack


st.title("Train a model")
read_address()
st.session_state.setdefault("train-dataset", "mnist")
if st.session_state["train-dataset"] not in DATASET_CHOICES:
    st.session_state["train-dataset"] = "mnist"
dataset = st.radio("Data set", DATASET_CHOICES, format_func=DATASET_TITLES.get, horizontal=True,
                   key="train-dataset")
if "cifar10" not in DATASET_CHOICES:
    caption("CIFAR-10's colour photos are offered here once the server has a copy of them.")
explain("cifar10")
offered = models_for(dataset)
if st.session_state.get("train-kind") not in offered:
    st.session_state["train-kind"] = SUGGESTED if SUGGESTED in offered else offered[0]
kind = st.selectbox("Model", offered, format_func=MODEL_CHOICES.get, key="train-kind")
explain("dense", "cnn", "quick_cnn", "autoencoder", "vae")
# Projector mode: the result (metrics and curves) above the settings, as the page's key figure.
first = st.container()
ns = namespace(dataset, kind)
start = starting_config(dataset, kind)
for field in FIELDS:
    # Widgets take their first value from here, so "Show" in the job list can set them.
    st.session_state.setdefault(widget_key(ns, field), getattr(start, field))
st.session_state.setdefault(widget_key(ns, "quick_look"), False)
st.session_state.setdefault(widget_key(ns, "bfloat16"), start.precision == "mixed_bfloat16")


def k(field):
    return widget_key(ns, field)


stack = ()
if kind == "custom":
    stack = layer_editor(ns, start.layers, datasets.INPUT_SHAPES[dataset])


def typed(value):
    """A number field's value as a config holds it: a whole number as int (12.0 -> 12, as
    the cache keys spell it), anything else as typed (2.5, for validate to refuse)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


c1, c2, c3, c4 = st.columns(4)
# Each setting's "?" says in one sentence what it is (core.present.glossary), where a learner meets it;
# Epochs has none, since its help button's label would also match "Epochs" (the browser test
# and the classroom benchmark find the field by it): the expander below the settings explains it.
# No min or max on the number fields: with them an out-of-range value only turned red, its reason in a
# tooltip; TrainConfig.validate's sentence says it below. Float fields shown as typed ("%g"): a whole-number
# field read "2.5" as 2 and "1e3" as 1 without a word (checked in Chromium).
epochs = typed(c1.number_input("Epochs", step=1.0, format="%g", key=k("epochs")))
# A job shown from the list may carry a value the sliders do not offer: offer it too.
batch_size = c2.select_slider("Batch size", sorted({*BATCH_SIZES, st.session_state[k("batch_size")]}),
                              key=k("batch_size"), help=tip("batch"))
optimizer = c3.radio("Optimizer", list(OPTIMIZER_NAMES), format_func=OPTIMIZER_NAMES.get, horizontal=True,
                     key=k("optimizer"), help=tip("optimizer"))
learning_rate = c4.select_slider("Learning rate", sorted({*LEARNING_RATES, st.session_state[k("learning_rate")]}),
                                 format_func=lambda v: f"{v:g}", key=k("learning_rate"), help=tip("learning_rate"))
c1, c2, c3, c4 = st.columns(4)
momentum = c1.number_input("SGD momentum", step=0.1, format="%g", disabled=optimizer != "sgd",
                           key=k("momentum"), help=tip("momentum"))
lr_schedule = c2.radio("Learning-rate schedule", ["constant", "cosine"], horizontal=True, key=k("lr_schedule"),
                       help=tip("lr_schedule"))
seed = typed(c3.number_input("Seed", step=1.0, format="%g", key=k("seed"), help=tip("seed")))
extra = {}
if kind == "dense_500_300":
    extra["l2"] = c4.select_slider("L2 weight decay", sorted({*L2_CHOICES, st.session_state[k("l2")]}),
                                   format_func=lambda v: f"{v:.2g}" if v else "0", key=k("l2"), help=tip("l2"))
elif kind == "denoising_autoencoder":
    extra["noise_level"] = c4.slider("Training noise level", *BOUNDS["noise_level"], step=0.05, key=k("noise_level"),
                                     help=tip("salt_and_pepper"))
elif kind == "conv_denoiser":
    extra["noise_level"] = c4.slider("Highest training noise level", 0.05, BOUNDS["noise_level"][1], step=0.05,
                                     key=k("noise_level"), help=tip("salt_and_pepper"))
elif kind in ("vae", "cvae"):
    extra["latent_dim"] = typed(c4.number_input("Numbers in a digit's code", step=1.0, format="%g",
                                                 key=k("latent_dim"), help=tip("latent_code")))
if kind in CLASSIFIERS and dataset == "mnist":
    # A row of its own: in a quarter column its label was cut short at 1024 px.
    extra["augment"] = st.checkbox("Distort the training digits", key=k("augment"), help=tip("distorted_digits"))
elif kind in CLASSIFIERS:
    # Slants and stroke widths are a digit's; clothes and photos are mirrored and shifted instead.
    extra["augment"] = st.checkbox("Mirror and shift the training images", key=k("augment"), help=tip("mirroring"))
# Rows and half rows, not thirds: in a third of a column the labels were cut short at 1024 px.
quick_look = st.checkbox(f"Quick look: train on the first {QUICK_LOOK_SIZE:,} images", key=k("quick_look"),
                         help=tip("quick_look"))
precision = start.precision
if kind in CLASSIFIERS:
    c1, c2 = st.columns(2)
    precision = "mixed_bfloat16" if c1.checkbox("Compute in bfloat16 (faster here)", key=k("bfloat16"),
                                                help=tip("bfloat16")) else "float32"
    extra["label_smoothing"] = c2.select_slider(
        "Label smoothing", sorted({*LABEL_SMOOTHING, st.session_state[k("label_smoothing")]}),
        format_func=lambda v: f"{v:g}" if v else "none", key=k("label_smoothing"), help=tip("label_smoothing"))
explain("epoch")

# None while the settings cannot be trained: the page then shows why (a layer list's one
# sentence is already under the list) and no Train button, but keeps the job list and
# the leaderboard.
config = None
if stack is not None:
    try:
        config = TrainConfig(kind, epochs=epochs, batch_size=int(batch_size), optimizer=optimizer,
                             learning_rate=float(learning_rate),
                             momentum=float(momentum) if optimizer == "sgd" else 0.0,
                             lr_schedule=lr_schedule, seed=seed, dataset=dataset, layers=stack,
                             train_size=QUICK_LOOK_SIZE if quick_look else None, precision=precision, **extra)
        config.validate()
    except ValueError as exc:
        st.error(f"These settings cannot be trained: {exc}.")
        config = None
if config is not None:
    write_address(config)


def show_result(history, m):
    size = m.get("config", {}).get("train_size")
    if size:
        st.markdown(f"**{subset_text(size).capitalize()}**: trained on {size:,} images, not the whole training set, "
                    "so it scores a little lower than the same settings on all of them.")
    cols = st.columns(4)
    if "val_accuracy" in history:
        # No "?" here: it would cut the label short; the expander under the curves explains it.
        cols[0].metric("Validation accuracy", f"{history['val_accuracy'][-1]:.2%}")
    if "test_accuracy" in m:
        cols[1].metric("Test accuracy", f"{m['test_accuracy']:.2%}", help=tip("test_accuracy"))
    else:
        cols[1].metric("Test loss", f"{m['test_loss']:.4f}", help=tip("loss"))
    cols[2].metric("Parameters", f"{m['param_count']:,}", help=tip("parameters"))
    cols[3].metric("Training time", f"{m['training_seconds']:.0f} s")
    fig = history_figure(history, "digits" if dataset == "mnist" else "images")
    st.plotly_chart(larger_type(fig) if projector() else fig, key="final-curves",
                    config=export_config(f"{m.get('kind', 'run')}-{m.get('key', 'curves')}-curves"))
    explain("validation", "loss")


def queue_panel(state: dict) -> None:
    """This configuration's job: queued, running, failed or cancelled, or a Train button."""
    if state.get("state") in ("queued", "running"):
        st.info(f"{job_status_text(state)} Queued by {who(state)}.")
        if state["state"] == "running":
            done = min(state["progress"], state["epochs"])
            st.progress(done / max(1, state["epochs"]),
                        text=f"epoch {min(int(done) + 1, state['epochs'])} of {state['epochs']}: "
                             f"{done - int(done):.0%} of it done" if done < state["epochs"] else "finishing")
            if state["history"].get("loss"):
                st.plotly_chart(history_figure(state["history"], "digits" if dataset == "mnist" else "images"),
                                key="live-curves")
        if may_cancel(state):
            st.button("Cancel", key="cancel", on_click=cancel_job, args=(state["id"],))
        return
    if state.get("state") == "failed":
        st.error(f"The last run of these settings failed: {state['reason']}.")
        with st.expander("The worker's log"):
            st.code(state["log"][-4000:] or "(empty)", language=None)
    elif state.get("state") == "cancelled":
        st.info("The last run of these settings was cancelled.")
    what = "your own network" if kind == "custom" else f"the {MODEL_CHOICES[kind]}"
    images = TRAINING_IMAGES[dataset]
    if config.train_size:
        images = f"the first {config.train_size:,} images" + (" (a quick look)"
                                                              if config.train_size == QUICK_LOOK_SIZE else "")
    seconds = jobs.job_seconds(config)
    st.info(f"Not trained yet: {epochs_text(config.epochs)} of {what} on {images}, about {duration(seconds)} of a "
            "worker's time here (its start included). It joins the server's training queue; the result is kept "
            "under \"trained here\".")
    try:
        rules = classroom.rules()
    except jobs.QUEUE_ERRORS as exc:
        st.warning(jobs.problem(exc))
        return
    if grant:
        caption("You are the teacher: your jobs go first in the line, with no limit or cap.")
    else:
        caption(rule_text(rules))
        if seconds > rules.cap_seconds:
            per_epoch = max(1e-6, (seconds - jobs.START_SECONDS - jobs.FINISH_SECONDS) / config.epochs)
            fits = int((rules.cap_seconds - jobs.START_SECONDS - jobs.FINISH_SECONDS) // per_epoch)
            change = f"choose at most {fits} epochs" if fits >= 1 else "choose a smaller model or a quick look"
            st.warning(f"This job needs about {duration(seconds)} of a worker's time and this class's cap is "
                       f"{duration(rules.cap_seconds)}: {change}, or ask the teacher to train it.")
            return
        if not owner:
            st.warning("Pick your name in the class (in the sidebar) to train: your jobs and leaderboard rows "
                       "carry it.")
    if st.button("Train", type="primary", disabled=not owner):
        try:
            classroom.submit(config, owner, grant=grant)
        except jobs.Refused as exc:
            st.warning(str(exc))
            return
        except classroom.NotTeacher as exc:
            st.session_state.pop("teacher-grant", None)
            st.warning(str(exc))
            return
        except jobs.QUEUE_ERRORS as exc:
            st.warning(jobs.problem(exc))
            return
        st.rerun(scope="app")


def config_panel() -> None:
    """The shown settings' job (``queue_panel``), watched every few seconds whatever its
    state, so the panel follows a job queued, or ended, in another session or app process."""
    try:
        state = jobs.status(jobs.job_id(config))
    except jobs.QUEUE_ERRORS as exc:
        st.warning(jobs.problem(exc))
        state = {"state": "unanswered"}
    if state.get("state") == "done":
        # It finished after this run's collect: write it, then show it. Rerun only once it is
        # written (an unwritable store would rerun the page forever), tried again every few seconds.
        @st.fragment(run_every=5.0)
        def written():
            if collect_runs(show=False) is None and cache.whole_entry(cache.runs_dir(), jobs.job_id(config)):
                st.rerun(scope="app")

        written()
        st.info("These settings have finished training: their result waits in the training queue and shows "
                "here once it is written to the runs store.")
        return
    shown = state.get("state")
    if shown not in ("queued", "running", "unanswered"):
        queue_panel(state)

    # Polled in every state, not only while this session's job runs: a job queued from
    # another session or app process (compose.yaml's replicas) must show within seconds,
    # and so must its end and a queue that answers again. An idle poll is a few Redis reads.
    @st.fragment(run_every=3.0)
    def watch():
        try:
            now = jobs.status(jobs.job_id(config))
        except jobs.QUEUE_ERRORS as exc:
            if shown != "unanswered":
                st.warning(jobs.problem(exc))
            return
        if shown in ("queued", "running"):
            if now.get("state") not in ("queued", "running"):
                st.rerun(scope="app")
            queue_panel(now)
        elif now.get("state") != shown:
            st.rerun(scope="app")

    watch()


def result_section() -> None:
    """The chosen settings' result when shipped or trained here, else their job or a Train
    button; a damaged entry trained here counts as not trained (training it again replaces it)."""
    shipped = cache.is_cached(config)
    here = not shipped and cache.is_cached(config, cache.runs_dir())
    damaged = False
    try:
        if shipped:
            records = cache.load_records(config)
        elif here:
            # Checked whole, model.keras included: a truncated one must not pass for a result.
            records = cache.check_entry(cache.entry_path(config, cache.runs_dir()))
    except cache.CorruptEntryError as exc:
        if shipped:  # the shipped cache is read-only: app.py's warning says how to rebuild it
            st.warning(f"{exc} Its results cannot be shown.")
            return
        here, damaged = False, True
    with first if projector() else st.container():
        if shipped:
            st.success("These settings are shipped with the lab: shown at once, no training.")
            show_result(*records)
        elif here:
            history, metrics = records
            st.success("These settings were trained here, on this server: shown at once, no training.")
            if diverged(history):
                st.warning("This run diverged: its accuracy stayed near chance (10%). The learning rate was "
                           "probably too high for these settings; try a smaller one.")
            show_result(history, metrics)
        else:
            if damaged:
                st.warning(DAMAGED_TEXT)
            config_panel()


# Shown above the result and again in the job list when the runs store cannot be written.
store_problem = collect_runs()
if config is not None:
    result_section()
    # The settings' Keras script, trained or not; a stored run's model and history beside it.
    code_view(config, stored_folder(config), key="train-code")


def job_list() -> None:
    """Every job of the server, refreshed every few seconds whether or not any runs, so
    the list is never stale (a job queued in another browser shows within seconds)."""
    st.subheader("Jobs on this server")
    if store_problem:
        st.warning(store_problem, icon=":material/save:")
    if st.session_state.get("queue-message"):
        st.warning(st.session_state.pop("queue-message"))

    @st.fragment(run_every=5.0)
    def refresh():
        if st.session_state.pop("show-pending", False):
            st.rerun(scope="app")
        try:
            rows = jobs.active()
        except jobs.QUEUE_ERRORS as exc:
            st.warning(jobs.problem(exc))
            return
        if not rows:
            caption("No training is queued or running right now (this list refreshes every 5 seconds).")
        job_rows(rows)

    refresh()


def job_rows(active: list[dict]) -> None:
    for state in active:
        fields = state["config"] or {}
        what = run_name(fields) if state["kind"] == "train" else (state.get("title") or "Weight-decay sweep")
        left, show, cancel = st.columns([8, 1, 1], vertical_alignment="center")
        settings = f" ({settings_text(fields)})" if state["kind"] == "train" else ""
        left.markdown(f"**{what}**{settings}, queued by {who(state)} · {job_status_text(state)}")
        if state["state"] == "running" and state["epochs"]:
            left.progress(min(1.0, state["progress"] / state["epochs"]))
        if state["kind"] == "train":
            show.button("Show", key=f"show-{state['id']}", on_click=show_settings, args=(fields,))
        if may_cancel(state) and state["state"] in ("queued", "running", "waiting"):
            cancel.button("Cancel", key=f"cancel-{state['id']}", on_click=cancel_job, args=(state["id"],))


job_list()

def leaderboard_table(board: list[dict]) -> None:
    """One data set's classifiers trained here, best validation accuracy first."""
    st.dataframe(pd.DataFrame({
        "rank": range(1, len(board) + 1),
        "model": [MODEL_CHOICES[r["kind"]] + (f": {layers.describe(r['config'].get('layers') or ())}"
                                       if r["kind"] == "custom" else "") for r in board],
        "settings": [settings_text(r["config"])
                     + (f", {subset_text(r['config']['train_size'])}" if r["config"].get("train_size") else "")
                     for r in board],
        "student": [r["student"] or "\u2014" for r in board],
        "validation accuracy": [100 * r["val_accuracy"] for r in board],
        "test accuracy": [100 * (r["test_accuracy"] or 0) for r in board],
        "training time (s)": [r["training_seconds"] for r in board],
        "": ["diverged: learning rate too high?" if r["diverged"] else "" for r in board],
    }), hide_index=True, height="content", column_config={
        "validation accuracy": st.column_config.NumberColumn(format="%.2f%%"),
        "test accuracy": st.column_config.NumberColumn(format="%.2f%%"),
        "training time (s)": st.column_config.NumberColumn(format="%.0f")})


board = leaderboard()
if board:
    st.subheader("Trained here: the class leaderboard")
    # One ranking per data set: 90% on clothes beats 90% on digits, so they are not ranked together.
    by_set = {name: [r for r in board if r["config"].get("dataset", "mnist") == name] for name in datasets.DATASETS}
    by_set = {name: rows for name, rows in by_set.items() if rows}
    for name, rows in by_set.items():
        if len(by_set) > 1:
            st.markdown(f"**{DATASET_TITLES[name]}**")
        leaderboard_table(rows)
    caption("Classifiers trained on this server, ranked by accuracy on the 5,000 validation images of their data "
            "set; the test accuracy beside it was measured once, after training.")

# Your own network's summary is above, under its layer list, updated as it is edited. The
# named classifiers are sized the same way, in plain Python: on a fresh server this page
# would otherwise wait for TensorFlow's import to show a table.
if kind in layers.NAMED_STACKS and config is not None:
    with st.expander("Model summary: layers, output shapes, parameters", expanded=True):
        walked = layers.walk(layers.NAMED_STACKS[kind], datasets.INPUT_SHAPES[dataset])
        layer_table(walked)
        caption(f"{sum(r['parameters'] for r in walked):,} parameters in all.")
elif kind != "custom" and config is not None:
    with st.expander("Model summary: layers, output shapes, parameters", expanded=True):
        rows, parameters = model_summary(json.dumps(asdict(config)))
        st.dataframe(pd.DataFrame(rows), hide_index=True, height="content",
                     column_config={"output shape": st.column_config.TextColumn(help=tip("output_shape")),
                                    "parameters": st.column_config.NumberColumn(format="localized",
                                                                                help=tip("parameters"))})
        caption(f"{parameters:,} parameters in all.")
