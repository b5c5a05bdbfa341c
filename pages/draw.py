"""Draw: a pad and an upload box; the CNN and the dense net classify live."""

import streamlit as st

from core.analysis.inference import probabilities
from core.analysis.inside import named_answer_html
from core.classset import evaluate, symbols
from core.drawing.preprocess import NoInkError, ScribbleError, SpeckError, to_mnist
from core.drawing.strokes import StrokeError, to_image
from core.drawing.upload import UploadError, read_image
from core.present.answers import answer_html
from core.store import cache
from pages.shared import caption, class_model, explain, require_model, use_app_navigation
from pages.components.sketchpad import sketchpad

use_app_navigation()

st.title("Draw a digit")
models = {"CNN": require_model("cnn"), "Dense 64-64": require_model("dense_64_64")}


@st.cache_data(ttl=10, show_spinner=False)
def newest_head(runs: str) -> tuple[str, tuple[str, ...]] | None:
    """(entry, symbol names) of the newest new-symbols head of the runs store (Class models
    page), or None; looked for again at most every 10 s."""
    heads = symbols.stored()
    return (f"{symbols.KIND}-{heads[0]['key']}", tuple(heads[0]["names"])) if heads else None


head = newest_head(str(cache.runs_dir()))
SYMBOLS = f"the class's symbols ({' '.join(head[1])})" if head else ""
reader = "digits"
if head:
    reader = st.radio("Read my drawing as", ["digits", SYMBOLS], horizontal=True, key="draw-reader",
                      help="The class's symbols are learned on the Class models page, on the CNN's frozen features.")


def show_predictions(image, source: str, tag: str) -> None:
    """Preprocess ``image`` like MNIST, then show both models' answers, the model input
    and the probability bars."""
    drawn = source == "pad"
    try:
        digit = to_mnist(image)
    except SpeckError:
        st.info("That is only a dot: draw a bigger digit." if drawn else
                "Only a speck of ink was found: upload a photo in which the digit is bigger.")
        return
    except NoInkError:
        st.info("Draw a digit on the pad (or upload a photo of one) to see it classified." if drawn else
                "No ink was found in this image: upload a digit with clear contrast to its paper.")
        return
    except ScribbleError:
        st.warning("The ink covers most of the pad: clear it and draw one digit." if drawn else
                   "Most of this photo looks like ink: crop it to one digit on plain paper.")
        return
    except ValueError as exc:
        st.error(f"This image cannot be read as a digit: {exc}.")
        return
    if drawn and reader == SYMBOLS:
        try:
            net = class_model(head[0]).model
        except cache.CorruptEntryError as exc:
            st.warning(f"{exc} Train the symbols again on the Class models page.")
            return
        st.html(named_answer_html(digit, evaluate.probabilities(net, digit[None])[0], head[1], f"{tag}-symbols"))
        st.session_state["drawn_digit"] = digit
        st.page_link("pages/inside.py", label="See inside the network", icon=":material/visibility:")
        explain("transfer_learning")
        return
    answers = {name: probabilities(entry.model, digit) for name, entry in models.items()}
    # The answer is the page's key figure: large enough to read from the back of a room.
    st.html(answer_html(digit, answers, tag))
    # The Inside page opens on this digit (the session state outlives the page switch).
    st.session_state["drawn_digit"] = digit
    st.page_link("pages/inside.py", label="See inside the CNN", icon=":material/visibility:")
    explain("softmax")


def uploaded_photo() -> tuple:
    """(image, None) for the uploaded photo (``read_image``), (None, its one-sentence
    problem) for a file that cannot be read, (None, None) before any upload. Each file is
    decoded once: the pad beside it and the upload box below both ask."""
    upload = st.session_state.get("upload")
    if upload is None:
        return None, None
    if st.session_state.get("upload_read", (None,))[0] != upload.file_id:
        try:
            st.session_state.upload_read = (upload.file_id, read_image(upload.getvalue()), None)
        except UploadError as exc:  # its message is one plain sentence
            st.session_state.upload_read = (upload.file_id, None, str(exc))
    return st.session_state.upload_read[1:]


@st.fragment
def pad() -> None:
    left, right = st.columns(2, gap="medium")
    with left:
        strokes = sketchpad("pad")
    photo = uploaded_photo()[0]
    if strokes and photo is not None:
        # Under the drawing's answer, above the upload box: in this fragment, so a stroke
        # keeps it in view.
        st.markdown("**Your photo**")
        show_predictions(photo, "upload", tag="upload")
    with right:
        if not strokes and photo is not None:
            # Beside the pad, in view, rather than under the upload box below the fold.
            st.markdown("**Your photo**")
            show_predictions(photo, "upload", tag="upload")
            caption("Draw on the pad to see the networks read your drawing instead.")
            return
        if not strokes:
            st.info("Draw a digit on the pad: the two networks answer after every stroke.")
            caption("Your drawing is cropped, scaled and centred like an MNIST digit. The CNN learned "
                    "from digits randomly shifted, rotated, scaled, slanted and made thinner or thicker, "
                    "so off-centre, slanted, thick or thin strokes are still read.")
            return
        try:
            image = to_image(strokes)
        except StrokeError:
            st.error("This drawing could not be read: press Clear and draw again.")
            return
        show_predictions(image, "pad", tag=f"pad-{len(strokes)}")


pad()

st.subheader("Or upload a photo of a digit")
st.file_uploader("A PNG or JPEG, dark ink on light paper or light on dark",
                 type=["png", "jpg", "jpeg", "bmp", "webp"], key="upload")
problem = uploaded_photo()[1]
if problem:
    st.error(problem)
