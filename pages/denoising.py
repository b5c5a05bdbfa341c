"""Denoising: a noise-level slider over original / seasoned / denoised test digits."""

import numpy as np
import streamlit as st

from core.experiments import best_classifier_config, load_noise_curve
from core.figures import VERSIONS, noise_curve_figure
from core.inference import denoise_and_classify
from pages.shared import digit_row, mnist, require_model, use_app_navigation

use_app_navigation()

st.title("Salt, pepper and denoising")
classifier_config = best_classifier_config()
st.markdown(
    "Each pixel is, with probability *noise level*, replaced by black or white "
    "(salt and pepper). Three denoisers try to recover the clean digit: the course's dense "
    "autoencoder 784-128-96-128-784 (trained at noise 0.4), a convolutional autoencoder "
    "(trained at every level from 0 to 0.8) and, as a baseline without learning, a 3×3 "
    f"median filter. Under each digit: what the best cached classifier (`{classifier_config.kind}`) reads."
)

data = mnist()
denoisers = {"dense": require_model("denoising_autoencoder").model,
             "conv": require_model("conv_denoiser").model}
classifier = require_model(classifier_config.kind).model
curve = load_noise_curve()
st.session_state.setdefault("digit_batch", 0)


@st.fragment
def explorer():
    c1, c2 = st.columns([4, 1])
    noise_level = c1.slider("Noise level", 0.0, 1.0, 0.4, 0.05)
    if c2.button("Other digits"):
        st.session_state.digit_batch += 1
    batch = st.session_state.digit_batch
    indices = np.random.default_rng(batch).choice(len(data["y_test"]), 8, replace=False)
    images, labels = data["x_test"][indices], data["y_test"][indices]
    out = denoise_and_classify(images, noise_level, 1000 + batch, denoisers, classifier)

    def marks(predicted):
        return [f"{p} {'✓' if p == y else '✗'}" for p, y in zip(predicted, labels)]

    st.markdown("**Original** (true label)")
    digit_row(images, [f"{y}" for y in labels])
    st.markdown(f"**Seasoned** at noise {noise_level:.2f} (predicted)")
    digit_row(out["seasoned"], marks(out["seasoned_labels"]))
    for name, label in list(VERSIONS.items())[1:]:
        st.markdown(f"**Denoised by the {label}** (predicted)")
        digit_row(out["denoised"][name], marks(out["denoised_labels"][name]))

    st.subheader("Accuracy against noise, all 10,000 test digits")
    if curve is None:
        st.info("The accuracy-against-noise curve is not cached: build it with "
                "`python -m core train noise_curve`.")
    else:
        st.plotly_chart(noise_curve_figure(curve["rows"], noise_level))
        keys = ", ".join(f"{kind} ({key})" for kind, key in curve["denoisers"].items())
        st.caption(f"Classifier: {curve['classifier_kind']} ({curve['classifier']}); "
                   f"denoisers: {keys}; noise seed {curve['seed']}.")


explorer()
