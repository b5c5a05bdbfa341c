"""Draw: a canvas and an upload box; the CNN and the dense net classify live."""

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from core.figures import probability_bars
from core.inference import probabilities
from core.preprocess import NoInkError, ScribbleError, SpeckError, to_mnist
from core.upload import UploadError, read_image
from pages.shared import enlarge, require_model, use_app_navigation

use_app_navigation()

st.title("Draw a digit")
st.caption("Your drawing is cropped, scaled and centred like an MNIST digit. The CNN learned "
           "from digits randomly shifted, rotated, scaled, slanted and made thinner or thicker, "
           "so off-centre, slanted, thick or thin strokes are still read.")
models = {"CNN": require_model("cnn"), "Dense 64-64": require_model("dense_64_64")}
st.session_state.setdefault("canvas_version", 0)


def show_predictions(image, source: str) -> None:
    """Preprocess ``image`` like MNIST, then show the model input and both models' answers."""
    drawn = source == "canvas"
    try:
        digit = to_mnist(image)
    except SpeckError:
        st.info("That is only a dot: draw a bigger digit." if drawn else
                "Only a speck of ink was found: upload a photo in which the digit is bigger.")
        return
    except NoInkError:
        st.info("Draw a digit on the canvas (or upload a photo of one) to see it classified." if drawn else
                "No ink was found in this image: upload a digit with clear contrast to its paper.")
        return
    except ScribbleError:
        st.warning("The ink covers most of the canvas: clear it and draw one digit." if drawn else
                   "Most of this photo looks like ink: crop it to one digit on plain paper.")
        return
    except ValueError as exc:
        st.error(f"This image cannot be read as a digit: {exc}.")
        return
    cols = st.columns([1, 2, 2])
    cols[0].image(enlarge(digit, 5), caption="the 28×28 model input", clamp=True)
    for col, (name, entry) in zip(cols[1:], models.items()):
        p = probabilities(entry.model, digit)
        col.metric(name, str(int(np.argmax(p))), f"{p.max():.0%} sure", delta_color="off", delta_arrow="off")
        col.plotly_chart(probability_bars(p), key=f"bars-{source}-{name}")


@st.fragment
def canvas():
    left, right = st.columns([1, 2])
    with left:
        result = st_canvas(stroke_width=22, stroke_color="#FFFFFF", background_color="#000000",
                           height=280, width=280, drawing_mode="freedraw", return_image_data=True,
                           key=f"canvas-{st.session_state.canvas_version}")
        if st.button("Clear"):
            st.session_state.canvas_version += 1
            st.rerun(scope="fragment")
    with right:
        image = result.image_data if result is not None else None
        if image is None:
            st.info("Draw a digit on the canvas to see it classified.")
        else:
            show_predictions(image, "canvas")


canvas()

st.subheader("Or upload a photo of a digit")
upload = st.file_uploader("A PNG or JPEG, dark ink on light paper or light on dark",
                          type=["png", "jpg", "jpeg", "bmp", "webp"])
if upload is not None:
    try:
        photo = read_image(upload.getvalue())
    except UploadError as exc:  # its message is one plain sentence
        st.error(str(exc))
    else:
        show_predictions(photo, "upload")
