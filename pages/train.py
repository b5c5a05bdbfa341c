"""Train: choose a model and its hyperparameters; cached configs show at once, others
train in a background worker with live curves."""

import json
from dataclasses import asdict

import pandas as pd
import streamlit as st

from core import cache, jobs
from core.models import KINDS
from core.summary import layer_table
from core.training import DEFAULTS, TrainConfig, build
from pages.shared import history_figure, poll_job, use_app_navigation

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

LEARNING_RATES = [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.5]

st.title("Train a model")
kind = st.selectbox("Model", KINDS, format_func=LABELS.get)
d = DEFAULTS[kind]

c1, c2, c3, c4 = st.columns(4)
epochs = c1.number_input("Epochs", 1, 200, d.epochs, key=f"{kind}-epochs")
batch_size = c2.select_slider("Batch size", [32, 64, 128, 256, 512], d.batch_size, key=f"{kind}-batch")
optimizer = c3.radio("Optimizer", ["sgd", "adam"], ["sgd", "adam"].index(d.optimizer), horizontal=True,
                     key=f"{kind}-opt")
learning_rate = c4.select_slider("Learning rate", LEARNING_RATES, d.learning_rate, format_func=lambda v: f"{v:g}",
                                 key=f"{kind}-lr")
c1, c2, c3, c4 = st.columns(4)
momentum = c1.number_input("SGD momentum", 0.0, 0.99, d.momentum, 0.1, disabled=optimizer != "sgd",
                           key=f"{kind}-mom")
lr_schedule = c2.radio("Learning-rate schedule", ["constant", "cosine"],
                       ["constant", "cosine"].index(d.lr_schedule), horizontal=True, key=f"{kind}-sched")
seed = c3.number_input("Seed", 0, 10_000, d.seed, key=f"{kind}-seed")
extra = {}
if kind in ("dense_64_64", "dense_500_300", "cnn"):
    extra["augment"] = c3.checkbox("Distort training digits", d.augment, key=f"{kind}-augment",
                                   help="Random shifts, rotations, scaling, slant and stroke width, "
                                        "new for every batch (core.augment)")
if kind == "dense_500_300":
    extra["l2"] = c4.select_slider("L2 weight decay", [0.0, 1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3],
                                   d.l2, format_func=lambda v: f"{v:.0e}" if v else "0", key=f"{kind}-l2")
elif kind == "denoising_autoencoder":
    extra["noise_level"] = c4.slider("Training noise level", 0.0, 1.0, d.noise_level, 0.05, key=f"{kind}-noise")
elif kind == "conv_denoiser":
    extra["noise_level"] = c4.slider("Highest training noise level", 0.05, 1.0, d.noise_level, 0.05,
                                     key=f"{kind}-noise")
elif kind in ("vae", "cvae"):
    extra["latent_dim"] = c4.number_input("latent_dim", 1, 16, d.latent_dim, key=f"{kind}-latent")

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


@st.cache_data(show_spinner=False)
def summary_rows(config_json: str):
    return layer_table(build(TrainConfig(**json.loads(config_json))))


def show_result(history, m):
    cols = st.columns(4)
    if "test_accuracy" in m:
        cols[0].metric("Test accuracy", f"{m['test_accuracy']:.2%}")
    cols[1].metric("Test loss", f"{m['test_loss']:.4f}")
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
    rows = summary_rows(json.dumps(asdict(config)))
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.caption(f"{sum(r['parameters'] for r in rows if not r['layer'].startswith(' ')):,} parameters in all.")
