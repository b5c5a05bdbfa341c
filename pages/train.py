"""Train: choose a model and its hyperparameters; cached configs show at once, others
train in a background worker with live curves."""

import json
from dataclasses import asdict

import pandas as pd
import streamlit as st

from core import cache, jobs
from core.config import (BATCH_SIZES, BOUNDS, CLASSIFIERS, DEFAULTS, KINDS, L2_CHOICES, LEARNING_RATES,
                         TrainConfig)
from core.figures import history_figure
from pages.shared import poll_job, use_app_navigation

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

st.title("Train a model")
kind = st.selectbox("Model", KINDS, format_func=LABELS.get)
d = DEFAULTS[kind]

c1, c2, c3, c4 = st.columns(4)
epochs = c1.number_input("Epochs", *BOUNDS["epochs"], d.epochs, key=f"{kind}-epochs")
batch_size = c2.select_slider("Batch size", BATCH_SIZES, d.batch_size, key=f"{kind}-batch")
optimizer = c3.radio("Optimizer", ["sgd", "adam"], ["sgd", "adam"].index(d.optimizer), horizontal=True,
                     key=f"{kind}-opt")
learning_rate = c4.select_slider("Learning rate", LEARNING_RATES, d.learning_rate, format_func=lambda v: f"{v:g}",
                                 key=f"{kind}-lr")
c1, c2, c3, c4 = st.columns(4)
momentum = c1.number_input("SGD momentum", *BOUNDS["momentum"], d.momentum, 0.1, disabled=optimizer != "sgd",
                           key=f"{kind}-mom")
lr_schedule = c2.radio("Learning-rate schedule", ["constant", "cosine"],
                       ["constant", "cosine"].index(d.lr_schedule), horizontal=True, key=f"{kind}-sched")
seed = c3.number_input("Seed", *BOUNDS["seed"], d.seed, key=f"{kind}-seed")
extra = {}
if kind in CLASSIFIERS:
    extra["augment"] = c3.checkbox("Distort training digits", d.augment, key=f"{kind}-augment",
                                   help="Random shifts, rotations, scaling, slant and stroke width, "
                                        "new for every batch (core.augment)")
if kind == "dense_500_300":
    extra["l2"] = c4.select_slider("L2 weight decay", sorted({*L2_CHOICES, d.l2}), d.l2,
                                   format_func=lambda v: f"{v:.2g}" if v else "0", key=f"{kind}-l2")
elif kind == "denoising_autoencoder":
    extra["noise_level"] = c4.slider("Training noise level", *BOUNDS["noise_level"], d.noise_level, 0.05,
                                     key=f"{kind}-noise")
elif kind == "conv_denoiser":
    extra["noise_level"] = c4.slider("Highest training noise level", 0.05, BOUNDS["noise_level"][1], d.noise_level, 0.05,
                                     key=f"{kind}-noise")
elif kind in ("vae", "cvae"):
    extra["latent_dim"] = c4.number_input("latent_dim", *BOUNDS["latent_dim"], d.latent_dim, key=f"{kind}-latent")

try:
    config = TrainConfig(kind, epochs=int(epochs), batch_size=int(batch_size), optimizer=optimizer,
                         learning_rate=float(learning_rate),
                         momentum=float(momentum) if optimizer == "sgd" else 0.0,
                         lr_schedule=lr_schedule, seed=int(seed), **extra)
    config.validate()
except ValueError as exc:
    st.error(f"These settings cannot be trained: {exc}")
    st.stop()

key = config.key()


@st.cache_data(show_spinner="Building the model…")
def model_summary(config_json: str) -> tuple[list[dict], int]:
    """(layer rows, parameter count) of the model a config builds (imports TensorFlow)."""
    from core.summary import layer_table
    from core.training import build

    model = build(TrainConfig(**json.loads(config_json)))
    return layer_table(model), model.count_params()


ONCE = "Measured once, on the 10,000 test digits, after training; nothing is chosen from it."


def show_result(history, m):
    cols = st.columns(4)
    if "val_accuracy" in history:
        cols[0].metric("Validation accuracy", f"{history['val_accuracy'][-1]:.2%}")
    if "test_accuracy" in m:
        cols[1].metric("Test accuracy", f"{m['test_accuracy']:.2%}", help=ONCE)
    else:
        cols[1].metric("Test loss", f"{m['test_loss']:.4f}", help=ONCE)
    cols[2].metric("Parameters", f"{m['param_count']:,}")
    cols[3].metric("Training time", f"{m['training_seconds']:.0f} s")
    st.plotly_chart(history_figure(history), key="final-curves")


@st.fragment(run_every=1.0)
def live_progress():
    def describe(state):
        epoch, total = state.get("epoch", 0), state.get("epochs") or config.epochs
        return epoch / total, (f"Training in the background: epoch {epoch} of {total}. You can leave "
                               "this page; the run goes on and is cached when it ends.")

    state = poll_job(key, describe)
    if state.get("history"):
        st.plotly_chart(history_figure(state["history"]), key="live-curves")


state = jobs.status(key)
if cache.is_cached(config):
    st.success(f"This configuration is cached (entry `{kind}-{key}`): shown at once, no training.")
    show_result(*cache.load_records(config))
elif state.get("status") == "running":
    live_progress()
else:
    if state.get("status") == "failed":
        st.error(f"The last run of this configuration failed: {state.get('message', '')[-600:]}")
    st.info(f"Not cached yet: {config.epochs} epochs of {kind} on 55,000 digits. "
            "Training runs in a background worker; the result is added to the cache.")
    if st.button("Train", type="primary"):
        jobs.start(key, ["train", "--config", json.dumps(asdict(config))])
        st.rerun()

with st.expander("Model summary: layers, output shapes, parameters", expanded=True):
    rows, parameters = model_summary(json.dumps(asdict(config)))
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.caption(f"{parameters:,} parameters in all.")
