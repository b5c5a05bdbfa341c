"""Train: choose a model and its hyperparameters. Shipped and already-trained settings show at
once; new ones join the server's training queue, with live curves, and land in "trained here"."""

import json
from dataclasses import asdict

import pandas as pd
import streamlit as st

from core import cache, jobs
from core.config import (BATCH_SIZES, BOUNDS, CLASSIFIERS, DEFAULTS, KINDS, L2_CHOICES, LEARNING_RATES,
                         TrainConfig)
from core.figures import history_figure, larger_type
from core.glossary import tip
from core.leaderboard import diverged, leaderboard
from pages.shared import (caption, collect_runs, duration, explain, job_status_text, model_summary, projector,
                          session_owner, use_app_navigation)

use_app_navigation()

LABELS = {
    "dense_64_64": "Dense 64-64 (the course's small net)",
    "dense_500_300": "Dense 500-300 with L2 weight decay",
    "cnn": "Convolutional network (CNN)",
    "denoising_autoencoder": "Denoising autoencoder 784-128-96-128-784",
    "conv_denoiser": "Convolutional denoising autoencoder",
    "vae": "Variational autoencoder (latent space)",
    "cvae": "Conditional VAE (digits to order)",
}
FIELDS = ("epochs", "batch_size", "optimizer", "learning_rate", "momentum", "lr_schedule", "seed", "augment",
          "l2", "noise_level", "latent_dim")
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam"}
owner = session_owner()


def widget_key(kind: str, field: str) -> str:
    return f"{kind}-{field}"


def show_settings(fields: dict) -> None:
    """Button callback: put a job's settings into the widgets, so its panel shows (the
    button sits in a fragment: ``show-pending`` makes it rerun the whole page)."""
    st.session_state["show-pending"] = True
    st.session_state["train-kind"] = fields["kind"]
    for field in FIELDS:
        st.session_state[widget_key(fields["kind"], field)] = fields[field]


st.title("Train a model")
st.session_state.setdefault("train-kind", KINDS[0])
kind = st.selectbox("Model", KINDS, format_func=LABELS.get, key="train-kind")
explain("dense", "cnn", "autoencoder", "vae")
# Projector mode: the result (metrics and curves) above the settings, as the page's key figure.
first = st.container()
d = DEFAULTS[kind]
for field in FIELDS:
    # Widgets take their first value from here, so "Show" in the job list can set them.
    st.session_state.setdefault(widget_key(kind, field), getattr(d, field))


def k(field):
    return widget_key(kind, field)


c1, c2, c3, c4 = st.columns(4)
# Each setting's "?" says in one sentence what it is (core.glossary), where a learner meets it;
# Epochs has none, since its help button's label would also match "Epochs" (the browser test
# and the classroom benchmark find the field by it): the expander below the settings explains it.
epochs = c1.number_input("Epochs", *BOUNDS["epochs"], key=k("epochs"))
# A job shown from the list may carry a value the sliders do not offer: offer it too.
batch_size = c2.select_slider("Batch size", sorted({*BATCH_SIZES, st.session_state[k("batch_size")]}),
                              key=k("batch_size"), help=tip("batch"))
optimizer = c3.radio("Optimizer", list(OPTIMIZERS), format_func=OPTIMIZERS.get, horizontal=True,
                     key=k("optimizer"), help=tip("optimizer"))
learning_rate = c4.select_slider("Learning rate", sorted({*LEARNING_RATES, st.session_state[k("learning_rate")]}),
                                 format_func=lambda v: f"{v:g}", key=k("learning_rate"), help=tip("learning_rate"))
c1, c2, c3, c4 = st.columns(4)
momentum = c1.number_input("SGD momentum", *BOUNDS["momentum"], step=0.1, disabled=optimizer != "sgd",
                           key=k("momentum"), help=tip("momentum"))
lr_schedule = c2.radio("Learning-rate schedule", ["constant", "cosine"], horizontal=True, key=k("lr_schedule"),
                       help=tip("lr_schedule"))
seed = c3.number_input("Seed", *BOUNDS["seed"], key=k("seed"), help=tip("seed"))
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
    extra["latent_dim"] = c4.number_input("Numbers in a digit's code", *BOUNDS["latent_dim"], key=k("latent_dim"),
                                           help=tip("latent_code"))
if kind in CLASSIFIERS:
    # A row of its own: in a quarter column its label was cut short at 1024 px.
    extra["augment"] = st.checkbox("Distort the training digits", key=k("augment"), help=tip("distorted_digits"))
explain("epoch")

try:
    config = TrainConfig(kind, epochs=int(epochs), batch_size=int(batch_size), optimizer=optimizer,
                         learning_rate=float(learning_rate),
                         momentum=float(momentum) if optimizer == "sgd" else 0.0,
                         lr_schedule=lr_schedule, seed=int(seed), **extra)
    config.validate()
except ValueError as exc:
    st.error(f"These settings cannot be trained: {exc}")
    st.stop()


def show_result(history, m):
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
    fig = history_figure(history)
    st.plotly_chart(larger_type(fig) if projector() else fig, key="final-curves")
    explain("validation", "loss")


def queue_panel(state: dict) -> None:
    """This configuration's job: queued, running, failed or cancelled, or a Train button."""
    mine = state.get("owner") == owner
    if state.get("state") in ("queued", "running"):
        st.info(job_status_text(state) + (" Queued by you." if mine else " Queued by someone else in the class."))
        if state["state"] == "running":
            done = min(state["progress"], state["epochs"])
            st.progress(done / max(1, state["epochs"]),
                        text=f"epoch {min(int(done) + 1, state['epochs'])} of {state['epochs']}: "
                             f"{done - int(done):.0%} of it done" if done < state["epochs"] else "finishing")
            if state["history"].get("loss"):
                st.plotly_chart(history_figure(state["history"]), key="live-curves")
        if mine and st.button("Cancel", key="cancel"):
            try:
                jobs.cancel(state["id"], owner)
            except jobs.QUEUE_ERRORS as exc:
                st.warning(f"The job could not be cancelled: the training queue did not answer ({exc}).")
                return
            st.rerun(scope="app")
        return
    if state.get("state") == "failed":
        st.error(f"The last run of these settings failed: {state['reason']}.")
        with st.expander("The worker's log"):
            st.code(state["log"][-4000:] or "(empty)", language=None)
    elif state.get("state") == "cancelled":
        st.info("The last run of these settings was cancelled.")
    st.info(f"Not trained yet: {config.epochs} epochs of the {LABELS[kind]} on 55,000 digits, about "
            f"{duration(jobs.estimate_seconds(config))} of a worker's time here. It joins the server's "
            "training queue; the result is kept under \"trained here\".")
    if st.button("Train", type="primary"):
        try:
            jobs.submit(config, owner)
        except jobs.QUEUE_ERRORS as exc:
            st.warning(f"The training could not be queued: the training queue did not answer ({exc}).")
            return
        st.rerun(scope="app")


def config_panel() -> None:
    try:
        state = jobs.status(jobs.job_id(config))
    except jobs.QUEUE_ERRORS as exc:
        st.warning(str(exc))
        return
    if state.get("state") == "done":
        collect_runs()
        st.rerun(scope="app")
    if state.get("state") not in ("queued", "running"):
        queue_panel(state)
        return

    # Only a queued or running job is polled: an idle panel costs the server nothing.
    @st.fragment(run_every=3.0)
    def watch():
        try:
            now = jobs.status(jobs.job_id(config))
        except jobs.QUEUE_ERRORS:
            st.warning("The training queue stopped answering; the job's progress is not up to date.")
            return
        if now.get("state") not in ("queued", "running"):
            st.rerun(scope="app")
        queue_panel(now)

    watch()


collect_runs()
shipped = cache.is_cached(config)
here = not shipped and cache.is_cached(config, cache.runs_dir())
try:
    records = cache.load_records(config, None if shipped else cache.runs_dir()) if shipped or here else None
except cache.CorruptEntryError as exc:
    st.warning(f"{exc} Its results cannot be shown.")
    st.stop()
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
        config_panel()


def job_list() -> None:
    try:
        active = jobs.active()
    except jobs.QUEUE_ERRORS:
        return
    st.subheader("Jobs on this server")
    if not active:
        caption("No training is queued or running (this list refreshes when you change a setting).")
        return

    # Polled only while jobs run: an idle Train page left open costs the server nothing.
    @st.fragment(run_every=5.0)
    def refresh():
        if st.session_state.pop("show-pending", False):
            st.rerun(scope="app")
        try:
            rows = jobs.active()
        except jobs.QUEUE_ERRORS:
            st.warning("The training queue stopped answering; this list is not up to date.")
            return
        if not rows:
            st.rerun(scope="app")
        job_rows(rows)

    refresh()


def job_rows(active: list[dict]) -> None:
    for state in active:
        fields = state["config"] or {}
        what = LABELS.get(fields.get("kind"), state["id"]) if state["kind"] == "train" else "Weight-decay sweep"
        left, right = st.columns([5, 1], vertical_alignment="center")
        mine = " (yours)" if state["owner"] == owner else ""
        left.markdown(f"**{what}**{mine} · {job_status_text(state)}")
        if state["state"] == "running" and state["epochs"]:
            left.progress(min(1.0, state["progress"] / state["epochs"]))
        if state["kind"] == "train":
            right.button("Show", key=f"show-{state['id']}", on_click=show_settings, args=(fields,))


job_list()

board = leaderboard()
if board:
    st.subheader("Trained here: the class leaderboard")
    st.dataframe(pd.DataFrame({
        "rank": range(1, len(board) + 1),
        "model": [LABELS[r["kind"]] for r in board],
        "settings": [f"{r['config']['epochs']} epochs, batch {r['config']['batch_size']}, "
                     f"{OPTIMIZERS.get(r['config']['optimizer'])}, learning rate {r['config']['learning_rate']:g}, "
                     f"seed {r['config']['seed']}" for r in board],
        "validation accuracy": [100 * r["val_accuracy"] for r in board],
        "test accuracy": [100 * (r["test_accuracy"] or 0) for r in board],
        "training time (s)": [r["training_seconds"] for r in board],
        "": ["diverged: learning rate too high?" if r["diverged"] else "" for r in board],
    }), hide_index=True, height="content", column_config={
        "validation accuracy": st.column_config.NumberColumn(format="%.2f%%"),
        "test accuracy": st.column_config.NumberColumn(format="%.2f%%"),
        "training time (s)": st.column_config.NumberColumn(format="%.0f")})
    caption("Classifiers trained on this server, ranked by accuracy on the 5,000 validation digits; "
            "the test accuracy beside it was measured once, after training.")

with st.expander("Model summary: layers, output shapes, parameters", expanded=True):
    rows, parameters = model_summary(json.dumps(asdict(config)))
    st.dataframe(pd.DataFrame(rows), hide_index=True, height="content",
                 column_config={"output shape": st.column_config.TextColumn(help=tip("output_shape")),
                                "parameters": st.column_config.NumberColumn(format="localized",
                                                                            help=tip("parameters"))})
    caption(f"{parameters:,} parameters in all.")
