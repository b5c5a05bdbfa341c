"""Denoising: a noise-level slider over original / seasoned / denoised test digits."""

import zlib

import numpy as np
import streamlit as st

from core.analysis.inference import noise_frames
from core.config import entry_name
from core.present.links import NOISE_START
from core.present.payloads import noise_payload
from core.training.experiments import best_classifier_config, load_noise_curve
from core.vocabulary import MODEL_NAMES
from pages.components.noise_slider import noise_slider
from pages.shared import (caption, explain, mnist, pressed_again, projector, read_link, require_model,
                          use_app_navigation, write_link)

use_app_navigation()

st.title("Salt, pepper and denoising")
# Projector mode: the slider and the digits straight under the title, the text after them.
first = st.container()
classifier_config = best_classifier_config()
classifier_name = MODEL_NAMES.get(classifier_config.kind, classifier_config.kind)
st.markdown(
    "Each pixel is, with probability *noise level*, replaced by black or white "
    "(salt and pepper). Three denoisers try to recover the clean digit: the course's dense "
    "autoencoder 784-128-96-128-784 (trained at noise 0.4), a convolutional autoencoder "
    "(trained at every level from 0 to 0.8) and, as a baseline without learning, a 3×3 "
    f"median filter. Under each digit: what the lab's best classifier, the {classifier_name}, reads, "
    "with a :green[**✓**] when it is right and a :red[**✗**] when it is wrong."
)
explain("salt_and_pepper", "autoencoder", "denoising_autoencoder", "median_filter")

data = mnist()
curve = load_noise_curve()
# A link (core.present.links, "denoising"): the noise level the slider opens at and which 8 digits.
link = read_link("denoising") or {}
if "digits" in link:
    st.session_state["digit_batch"] = link["digits"]
if "noise" in link:
    st.session_state["noise-start"] = link["noise"]
st.session_state.setdefault("digit_batch", 0)
SLIDER_KEY = "noise-slider"


denoisers = {"dense": require_model("denoising_autoencoder").model,
             "conv": require_model("conv_denoiser").model}
classifier = require_model(classifier_config.kind).model


@st.cache_resource(show_spinner="Seasoning and denoising the digits at every noise level…", max_entries=64)
def frames_payload(batch: int, factor: int, models: str, _denoisers: dict, _classifier) -> dict:
    """The component's data for the ``batch``-th set of 8 test digits, shared by every
    session that shows it (a class starts on the same set); ``models`` names the shipped
    models the frames come from (the leading underscores keep the models out of the key)."""
    indices = np.random.default_rng(batch).choice(len(data["y_test"]), 8, replace=False)
    images, labels = data["x_test"][indices], data["y_test"][indices]
    frames = noise_frames(images, 1000 + batch, _denoisers, _classifier)
    # The token names the set: the component redraws only when it changes (new digits, a
    # projector's sizes, or other shipped models).
    return noise_payload(images, labels, frames, curve["rows"] if curve else None, classifier_name,
                         start=0.4, factor=factor, token=f"{batch}-{factor}-{zlib.crc32(models.encode()):08x}")


@st.fragment
def explorer():
    models = " ".join(model.name for model in (*denoisers.values(), classifier)) + f" {classifier_config.key()}"
    if pressed_again(SLIDER_KEY, "other"):  # Other digits
        st.session_state.digit_batch += 1
    payload = frames_payload(st.session_state.digit_batch, 4 if projector() else 3, models, denoisers, classifier)
    levels = payload["levels"]
    # The slider opens at the link's level (the same for the whole visit, so the payload stays the same).
    start = st.session_state.get("noise-start", NOISE_START)
    payload = {**payload, "start": min(range(len(levels)), key=lambda i: abs(levels[i] - start))}
    level = noise_slider(payload, key=SLIDER_KEY)
    # The address follows the slider (sent when it is let go) and the set of digits.
    write_link("denoising", {"noise": level if level in levels else levels[payload["start"]],
                             "digits": st.session_state.digit_batch})
    caption("Drag the slider (or use the arrow keys): every level of these 8 digits is already in your browser. "
            f"Chart, left: the share of the 10,000 test digits the {classifier_name} reads right; right: how "
            "close each version is to the clean digit. The diamonds mark the slider's noise level.")
    explain("psnr")
    if curve is None:
        st.info("The accuracy-against-noise curve is not cached: build it with "
                "`python -m core train noise_curve`.")
    else:
        with st.expander("Where this came from"):
            keys = ", ".join(f"`{entry_name(kind, key)}`" for kind, key in curve["denoisers"].items())
            st.markdown(f"Classifier `{curve['classifier_kind']}-{curve['classifier']}`; denoisers {keys}; "
                        f"noise seed {curve['seed']}; built by `python -m core train noise_curve`.")


with first if projector() else st.container():
    explorer()
