"""Denoising: a noise-level slider over original / seasoned / denoised test digits."""

import numpy as np
import streamlit as st

from core.analysis.inference import denoise_and_classify
from core.config import entry_name
from core.present.figures import VERSIONS, larger_type, noise_curve_figure
from core.vocabulary import MODEL_NAMES
from core.training.experiments import best_classifier_config, load_noise_curve
from pages.shared import caption, digit_row, explain, mnist, projector, require_model, use_app_navigation

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
denoisers = {"dense": require_model("denoising_autoencoder").model,
             "conv": require_model("conv_denoiser").model}
classifier = require_model(classifier_config.kind).model
curve = load_noise_curve()
st.session_state.setdefault("digit_batch", 0)

# Marks a class can read from the back of the room: large, bold, and told apart by shape as
# well as colour (✓ and ✗ are in the DejaVu fonts; Chromium here has no emoji font). Only the
# captions of this page's digit rows, through the container's key class; shown in projector
# mode too, which hides other captions.
_MARKS_CSS = ("<style>.st-key-digit-grid [data-testid='stImageCaption'],"
              " .st-key-digit-grid [data-testid='stImageCaption'] [data-testid='stCaptionContainer'],"
              " .st-key-digit-grid [data-testid='stImageCaption'] p"
              " {display: block; font-size: 1.6rem; font-weight: 700; line-height: 1.3; color: inherit;"
              " opacity: 1;}</style>")


def marks(predicted, labels) -> list[str]:
    """Captions for predicted digits: green with ✓ where right, red with ✗ where wrong."""
    return [f":green[{p} ✓]" if p == y else f":red[{p} ✗]" for p, y in zip(predicted, labels)]


@st.fragment
def explorer():
    c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
    noise_level = c1.slider("Noise level", 0.0, 1.0, 0.4, 0.05)
    if c2.button("Other digits"):
        st.session_state.digit_batch += 1
    batch = st.session_state.digit_batch
    indices = np.random.default_rng(batch).choice(len(data["y_test"]), 8, replace=False)
    images, labels = data["x_test"][indices], data["y_test"][indices]
    out = denoise_and_classify(images, noise_level, 1000 + batch, denoisers, classifier)

    factor = 4 if projector() else 3
    with st.container(key="digit-grid"):
        st.html(_MARKS_CSS)
        st.markdown("**Original** (true label)")
        digit_row(images, [f"{y}" for y in labels], factor)
        st.markdown(f"**Seasoned** at noise {noise_level:.2f} (what the {classifier_name} reads)")
        digit_row(out["seasoned"], marks(out["seasoned_labels"], labels), factor)
        for name, label in list(VERSIONS.items())[1:]:
            st.markdown(f"**Denoised by the {label}** (what the {classifier_name} reads)")
            digit_row(out["denoised"][name], marks(out["denoised_labels"][name], labels), factor)

    st.subheader("Accuracy against noise, all 10,000 test digits")
    if curve is None:
        st.info("The accuracy-against-noise curve is not cached: build it with "
                "`python -m core train noise_curve`.")
    else:
        fig = noise_curve_figure(curve["rows"], noise_level)
        st.plotly_chart(larger_type(fig) if projector() else fig)
        caption(f"Left: the share of the 10,000 test digits the {classifier_name} reads right. Right: how "
                "close each version is to the clean digit. The diamonds mark the slider's noise level.")
        explain("psnr")
        with st.expander("Where this came from"):
            keys = ", ".join(f"`{entry_name(kind, key)}`" for kind, key in curve["denoisers"].items())
            st.markdown(f"Classifier `{curve['classifier_kind']}-{curve['classifier']}`; denoisers {keys}; "
                        f"noise seed {curve['seed']}; built by `python -m core train noise_curve`.")


with first if projector() else st.container():
    explorer()
