"""Denoising: a noise-level slider over original / seasoned / denoised test digits."""

import base64
import io

import numpy as np
import streamlit as st
from PIL import Image

from core.experiments import best_classifier_config, load_noise_curve
from core.figures import VERSIONS, larger_type, noise_curve_figure
from core.glossary import MODEL_NAMES
from core.inference import denoise_and_classify
from pages.shared import caption, explain, mnist, projector, require_model, use_app_navigation

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
# well as colour (✓ and ✗ are in the DejaVu fonts; Chromium here has no emoji font).
RIGHT, WRONG, PLAIN = "#15803d", "#c62828", "inherit"


def png(image: np.ndarray) -> str:
    """A (28, 28) digit in [0, 1] as a base64 PNG; the browser enlarges it, pixelated."""
    buffer = io.BytesIO()
    Image.fromarray((np.clip(image, 0, 1) * 255).astype(np.uint8)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


# Eight digits a row, as wide as the page allows up to 45rem (84 px a digit; projector mode's
# larger root font makes them larger too); four a row on a phone, so they stay big enough.
_MARKS_CSS = ("<style>.dl-marks{display:grid;grid-template-columns:repeat(8,minmax(0,1fr));gap:0.4rem;"
              "max-width:45rem}@media (max-width:640px){.dl-marks{grid-template-columns:repeat(4,minmax(0,1fr))}}"
              ".dl-marks figure{margin:0;text-align:center}.dl-marks img{width:100%;aspect-ratio:1/1;"
              "image-rendering:pixelated;display:block}.dl-marks figcaption{font-size:1.6rem;font-weight:700;"
              "line-height:1.3}</style>")


def digit_marks(images, labels, truth=None) -> None:
    """One row of digits, each with its label below: a true label plain, a prediction green
    with ✓ or red with ✗ (against ``truth``)."""
    cells = []
    for image, label, true in zip(images, labels, truth if truth is not None else [None] * len(labels)):
        if true is None:
            text, color, said = f"{label}", PLAIN, f"digit {label}"
        elif label == true:
            text, color, said = f"{label} ✓", RIGHT, f"read as {label}: right"
        else:
            text, color, said = f"{label} ✗", WRONG, f"read as {label}: wrong, it is a {true}"
        cells.append(f'<figure title="{said}"><img src="data:image/png;base64,{png(image)}" alt="{said}">'
                     f'<figcaption style="color:{color}">{text}</figcaption></figure>')
    st.html(_MARKS_CSS + '<div class="dl-marks">' + "".join(cells) + "</div>")


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

    st.markdown("**Original** (true label)")
    digit_marks(images, labels)
    st.markdown(f"**Seasoned** at noise {noise_level:.2f} (what the {classifier_name} reads)")
    digit_marks(out["seasoned"], out["seasoned_labels"], labels)
    for name, label in list(VERSIONS.items())[1:]:
        st.markdown(f"**Denoised by the {label}** (what the {classifier_name} reads)")
        digit_marks(out["denoised"][name], out["denoised_labels"][name], labels)

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
            keys = ", ".join(f"`{kind}-{key}`" for kind, key in curve["denoisers"].items())
            st.markdown(f"Classifier `{curve['classifier_kind']}-{curve['classifier']}`; denoisers {keys}; "
                        f"noise seed {curve['seed']}; built by `python -m core train noise_curve`.")


with first if projector() else st.container():
    explorer()
