"""Denoising: a noise-level slider over original / seasoned / denoised test digits."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.experiments import best_classifier_config, load_noise_curve
from core.inference import denoise_and_classify
from pages.shared import digit_row, mnist, require_model, use_app_navigation

use_app_navigation()

st.title("Salt, pepper and a denoising autoencoder")
classifier_config = best_classifier_config()
st.markdown(
    "Each pixel is, with probability *noise level*, replaced by black or white "
    "(salt and pepper). The course's autoencoder 784-128-96-128-784, trained on "
    "digits seasoned at noise 0.4, tries to recover the clean digit. Under each digit: "
    f"what the best cached classifier (`{classifier_config.kind}`) reads."
)

data = mnist()
denoiser = require_model("denoising_autoencoder").model
classifier = require_model(classifier_config.kind).model
curve = load_noise_curve()

st.session_state.setdefault("digit_batch", 0)


def accuracy_figure(rows, noise_level):
    levels = [r["noise_level"] for r in rows]
    fig = go.Figure()
    for name, column in (("seasoned", "seasoned_accuracy"), ("denoised", "denoised_accuracy")):
        values = [100 * r[column] for r in rows]
        fig.add_trace(go.Scatter(x=levels, y=values, mode="lines+markers", name=name))
        fig.add_trace(go.Scatter(x=[noise_level], y=[np.interp(noise_level, levels, values)],
                                 mode="markers", marker={"size": 14, "symbol": "diamond"},
                                 name=f"{name} at {noise_level:.2f}", showlegend=False))
    fig.add_vline(x=noise_level, line_dash="dot", line_color="gray")
    fig.update_xaxes(title_text="noise level")
    fig.update_yaxes(title_text="test accuracy (%)", range=[0, 100])
    fig.update_layout(height=360, margin={"t": 20}, legend={"orientation": "h"})
    return fig


@st.fragment
def explorer():
    c1, c2 = st.columns([4, 1])
    noise_level = c1.slider("Noise level", 0.0, 1.0, 0.4, 0.05)
    if c2.button("Other digits"):
        st.session_state.digit_batch += 1
    batch = st.session_state.digit_batch
    indices = np.random.default_rng(batch).choice(len(data["y_test"]), 8, replace=False)
    images, labels = data["x_test"][indices], data["y_test"][indices]
    out = denoise_and_classify(images, noise_level, 1000 + batch, denoiser, classifier)

    def marks(predicted):
        return [f"{p} {'✓' if p == y else '✗'}" for p, y in zip(predicted, labels)]

    st.markdown("**Original** (true label)")
    digit_row(images, [f"{y}" for y in labels])
    st.markdown(f"**Seasoned** at noise {noise_level:.2f} (predicted)")
    digit_row(out["seasoned"], marks(out["seasoned_labels"]))
    st.markdown("**Denoised** (predicted)")
    digit_row(out["denoised"], marks(out["denoised_labels"]))

    st.subheader("Accuracy against noise, all 10,000 test digits")
    if curve is None:
        st.info("The accuracy-against-noise curve is not cached: build it with "
                "`python -m core train noise_curve`.")
    else:
        st.plotly_chart(accuracy_figure(curve["rows"], noise_level))
        st.caption(f"Classifier: {curve['classifier_kind']} ({curve['classifier']}); "
                   f"denoiser: denoising_autoencoder ({curve['denoiser']}); noise seed {curve['seed']}.")


explorer()
