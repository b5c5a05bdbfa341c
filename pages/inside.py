"""Inside the CNN: for one digit (drawn here, carried over from the Draw page or taken
from the test set) the CNN's answer, what it looks at and its feature maps; then the
first layers' learned weights of the CNN and of the dense 64-64 net."""

import numpy as np
import streamlit as st

from core import inside
from core.answers import answer_html
from core.preprocess import NoInkError, ScribbleError, SpeckError, to_mnist
from core.strokes import StrokeError, to_image
from pages.shared import cached_model, caption, explain, mnist, require_model, use_app_navigation
from pages.sketchpad import sketchpad

use_app_navigation()

st.title("Inside the CNN")
cnn = require_model("cnn").model
caption("Pick a digit and watch what the convolutional network does with it: which pixels its answer "
        "depends on, and the pictures each layer makes on the way. Edit the drawing and watch them change.")
explain("cnn")

DRAW, CARRIED, TEST = "Draw here", "My drawing from the Draw page", "A test digit"


def drawn_here():
    """The pad's digit (28, 28) and its tag, or (None, None) with a sentence on why not."""
    strokes = sketchpad("inside-pad")
    if not strokes:
        st.info("Draw a digit on the pad: the answer, the maps and the layers follow every stroke.")
        return None, None
    try:
        return to_mnist(to_image(strokes)), f"inside-pad-{len(strokes)}"
    except StrokeError:
        st.error("This drawing could not be read: press Clear and draw again.")
    except SpeckError:
        st.info("That is only a dot: draw a bigger digit.")
    except NoInkError:
        st.info("Draw a digit on the pad to see inside the network.")
    except ScribbleError:
        st.warning("The ink covers most of the pad: clear it and draw one digit.")
    return None, None


def test_digit():
    """A test digit chosen by its index or by its class, and its tag."""
    data = mnist()
    by = st.radio("Pick it by", ["index", "class"], horizontal=True, key="inside-by")
    if by == "index":
        index = st.number_input("Index in the 10,000 test digits", 0, 9999, 0, key="inside-index")
    else:
        digit_class = st.selectbox("Class", list(range(10)), index=7, key="inside-class")
        indices = np.flatnonzero(data["y_test"] == digit_class)
        # Classes have 892 to 1135 test digits: keep a number chosen for a larger class in range.
        if st.session_state.get("inside-nth", 1) > len(indices):
            st.session_state["inside-nth"] = len(indices)
        nth = st.number_input(f"Which {digit_class} (1 to {len(indices)})", 1, len(indices), 1,
                              key="inside-nth")
        index = int(indices[nth - 1])
    st.image(np.kron(data["x_test"][index], np.ones((8, 8), np.float32)), clamp=True,
             caption=f"Test digit {index}, labelled {data['y_test'][index]}")
    return data["x_test"][index], f"test-{index}"


def show(digit, tag: str) -> dict:
    """The CNN's answer and both saliency maps side by side; returns ``core.inside.inspect``'s result."""
    result = inside.inspect(cnn, digit)
    st.html(answer_html(digit, {"CNN": result["probabilities"]}, tag))
    st.markdown(f"**What the network looks at** to answer {result['answer']}: red pixels count for that "
                "answer, blue ones against it.")
    left, right = st.columns(2)
    with left:
        st.image(inside.saliency_image(result["occlusion"], digit), caption="Occlusion")
        caption(f"A {inside.PATCH} × {inside.PATCH} black square hides each part of the digit in turn; a "
                "pixel is as red as the probability drops when it is hidden (Zeiler and Fergus, 2014).")
    with right:
        st.image(inside.saliency_image(result["gradients"], digit), caption="Integrated gradients")
        caption(f"The digit fades in from black in {inside.STEPS} steps; each pixel gets its share of the "
                "rise in probability, its ink times its mean gradient (Sundararajan, Taly and Yan, 2017).")
    explain("occlusion", "integrated_gradients")
    return result


def show_layers(layers) -> None:
    """Every feature-map layer's grid with its name and shape, three layers a row."""
    st.subheader("Feature maps, layer by layer")
    caption("Each small picture is one filter's output, brightest where it found its pattern (each scaled "
            "to its own brightest pixel; a black one did not fire on this digit).")
    explain("feature_map", "pooling")
    for i, (title, shape, grid) in enumerate(layers):
        # A new row of columns every three layers, so that on a phone, where columns stack,
        # the layers still come in order.
        if i % 3 == 0:
            columns = st.columns(3)
        with columns[i % 3]:
            st.markdown(f"**{i + 1}. {title}** · {shape[0]}×{shape[1]}×{shape[2]}")
            st.image(grid, output_format="PNG")


@st.fragment
def digit_view() -> None:
    # A new stroke or choice reruns only this part; the weights below do not change.
    carried = st.session_state.get("drawn_digit")
    source = st.segmented_control("Which digit?", [DRAW, CARRIED, TEST],
                                  default=CARRIED if carried is not None else DRAW, key="inside-source")
    left, right = st.columns([2, 3], gap="medium")
    with left:
        if source == DRAW:
            digit, tag = drawn_here()
        elif source == CARRIED:
            if carried is None:
                st.info("Nothing drawn on the Draw page yet: draw there, then follow “See inside the CNN”.")
                digit, tag = None, None
            else:
                digit, tag = np.asarray(carried, np.float32), "carried"
                st.image(np.kron(digit, np.ones((8, 8), np.float32)), clamp=True,
                         caption="Your drawing from the Draw page, as the networks see it")
        elif source == TEST:
            digit, tag = test_digit()
        else:
            st.info("Choose where the digit comes from.")
            digit, tag = None, None
    if digit is None:
        return
    with right:
        result = show(digit, tag)
    show_layers(result["layers"])


digit_view()


@st.cache_resource(show_spinner=False)
def filter_grid(kind: str) -> np.ndarray:
    """The shipped model's first-layer filters as one colour grid (read-only)."""
    weights = inside.first_layer_filters(cached_model(kind).model)
    return inside.tile_rgb(inside.diverging(weights), columns=8, scale=12, gap=2)


@st.cache_resource(show_spinner=False)
def unit_grid(kind: str) -> np.ndarray:
    """The shipped model's first dense layer, one 28x28 picture per unit (read-only)."""
    weights = inside.dense_unit_weights(cached_model(kind).model)
    return inside.tile_rgb(inside.diverging(weights), columns=16, scale=2, gap=2)


st.subheader("What the first layer learned")
explain("filter")
st.image(filter_grid("cnn"), output_format="PNG",
         caption="The CNN's 32 first-layer filters, 5 × 5 weights each: red weights add, blue ones subtract")
caption("Training started from random numbers; these 5 × 5 patterns are what it settled on. Feature map 1 "
        "above shows where each one fires on your digit.")

st.subheader("The dense 64-64 net's first layer")
require_model("dense_64_64")  # a sentence and a stop if it is missing
st.image(unit_grid("dense_64_64"), output_format="PNG",
         caption="Each of the 64 first-layer units: its 784 weights, one per pixel, as a 28 × 28 picture")
caption("A dense unit has one weight per pixel of the whole picture, so it looks for a whole shape at one "
        "place: red pixels raise its output when they are inked, blue ones lower it. The CNN's 5 × 5 filters "
        "instead look for small strokes anywhere.")
explain("dense")
