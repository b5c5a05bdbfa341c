"""Inside the CNN: for one picture (a digit drawn here, carried over from the Draw page or
taken from the test set; for Fashion-MNIST a test picture of clothes) a convolutional
network's answer, what it looks at and its feature maps; then the first layers' learned
weights of that network and of the dense 64-64 net of the same data set.

The network is chosen at the top: the shipped MNIST CNN (the default, whose drawing path
``core.bench`` times), the shipped Fashion-MNIST CNN, or any network of your own with a
convolution, shipped or trained here."""

import numpy as np
import streamlit as st

from core.analysis import adversarial, inside
from core.classset import symbols
from core.config import default_config
from core.data.images import DataUnavailableError
from core.data.registry import class_names
from core.drawing.preprocess import NoInkError, ScribbleError, SpeckError, to_mnist
from core.drawing.strokes import StrokeError, to_image
from core.present.answers import answer_html
from core.store import cache
from core.vocabulary import DATASET_TITLES as TITLES
from pages.shared import (cached_model, caption, class_model, explain, read_link, require_model, stored_model, test_set,
                          use_app_navigation, write_link)
from pages.components.sketchpad import sketchpad

use_app_navigation()

st.title("Inside the CNN")
caption("Pick a picture and watch what a convolutional network does with it: which pixels its answer "
        "depends on, and the pictures each layer makes on the way. On digits, edit your drawing and watch them "
        "change.")
explain("cnn")

DRAW, CARRIED, TEST = "Draw here", "My drawing from the Draw page", "A test digit"


@st.cache_data(ttl=30, show_spinner=False)
def choices(shipped: str, runs: str) -> list:
    """``core.analysis.inside.model_choices`` of the two stores, then the newest head of the
    class's symbols (Class models page) on the CNN's frozen layers; read again at most every 30 s."""
    found = inside.model_choices(shipped, runs)
    heads = symbols.stored()
    if heads:
        names = tuple(heads[0]["names"])
        found.append(inside.Choice(f"The CNN's layers with the class's symbols ({' '.join(names)})", "class",
                                     f"{symbols.KIND}-{heads[0]['key']}", default_config("cnn"), names))
    return found


def model_of(choice: inside.Choice):
    """The Keras model of a choice; the shipped MNIST CNN through ``cached_model``, the same
    object server.py's warm-up has already run (its compiled functions are ready)."""
    if choice == options[0]:
        return require_model("cnn").model
    try:
        if choice.store == "class":
            return class_model(choice.entry).model
        return stored_model(choice.store, choice.entry).model
    except FileNotFoundError:
        st.warning("This network is no longer stored here: pick another one.")
    except cache.CorruptEntryError as exc:
        st.warning(f"{exc} Pick another network.")
    st.stop()


options = choices(str(cache.cache_dir()), str(cache.runs_dir()))
# A link (core.present.links, "inside"): the network, a test picture by its index, the method that fools it.
link = read_link("inside", allowed={"model": lambda entry: any(c.entry == entry for c in options)}) or {}
if "model" in link:
    st.session_state["inside-model"] = next(c for c in options if c.entry == link["model"])
if "index" in link:
    st.session_state["inside-source"] = TEST
    st.session_state["inside-by"] = "index"
    st.session_state["inside-index"] = link["index"]
if "method" in link:
    st.session_state["fool-method"] = link["method"].upper()
chosen = st.selectbox("Which network?", options, format_func=lambda c: c.label, key="inside-model",
                      help="The lab's CNN on digits, the same CNN trained on clothes, or a network of your own "
                           "with at least one convolution (the Train page builds them).")
if chosen is None:  # the stores changed under a kept choice: back to the default
    chosen = options[0]
model = model_of(chosen)
MNIST = chosen.dataset == "mnist"
if len(options) == 1:
    caption("Train a network of your own with a convolution on the Train page and it can be opened here too.")


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


def test_picture(dataset: str):
    """A test image of ``dataset`` chosen by its index or by its class, and its tag; (None,
    None) with one sentence when the data set cannot be read."""
    try:
        data = test_set(dataset)
    except DataUnavailableError as exc:
        st.warning(str(exc))
        return None, None
    labels = class_names(dataset)
    noun = "digit" if dataset == "mnist" else "image"
    by = st.radio("Pick it by", ["index", "class"], horizontal=True, key="inside-by")
    if by == "index":
        index = st.number_input(f"Index in the 10,000 test {noun}s", 0, 9999, key="inside-index")
    else:
        chosen_class = st.selectbox("Class", list(range(10)), index=7, format_func=labels.__getitem__,
                                    key="inside-class")
        indices = np.flatnonzero(data["y_test"] == chosen_class)
        # Classes have 892 to 1135 test digits: keep a number chosen for a larger class in range.
        if st.session_state.get("inside-nth", 1) > len(indices):
            st.session_state["inside-nth"] = len(indices)
        nth = st.number_input(f"Which {labels[chosen_class]} (1 to {len(indices)})", 1, len(indices), 1,
                              key="inside-nth")
        index = int(indices[nth - 1])
    st.image(np.kron(data["x_test"][index], np.ones((8, 8), np.float32)), clamp=True,
             caption=f"Test {noun} {index}, labelled {labels[data['y_test'][index]]}")
    return data["x_test"][index], f"test-{index}"


def show(net, choice: inside.Choice, image, tag: str) -> dict:
    """The network's answer and both saliency maps side by side; returns ``core.analysis.inside.inspect``'s result."""
    result = inside.inspect(net, image)
    labels = choice.names or class_names(choice.dataset)
    if choice.dataset == "mnist" and not choice.names:
        name = "CNN" if choice == options[0] else "Your network"
        st.html(answer_html(image, {name: result["probabilities"]}, tag))
    else:
        st.html(inside.named_answer_html(image, result["probabilities"], labels, tag))
    st.markdown(f"**What the network looks at** to answer {labels[result['answer']]}: red pixels count for "
                "that answer, blue ones against it.")
    left, right = st.columns(2)
    thing = "digit" if choice.dataset == "mnist" else "picture"
    with left:
        st.image(inside.saliency_image(result["occlusion"], image), caption="Occlusion")
        caption(f"A {inside.PATCH} × {inside.PATCH} black square hides each part of the {thing} in turn; a "
                "pixel is as red as the probability drops when it is hidden (Zeiler and Fergus, 2014).")
    with right:
        st.image(inside.saliency_image(result["gradients"], image), caption="Integrated gradients")
        caption(f"The {thing} fades in from black in {inside.STEPS} steps; each pixel gets its share of the "
                "rise in probability, its ink times its mean gradient (Sundararajan, Taly and Yan, 2017).")
    explain("occlusion", "integrated_gradients")
    return result


def show_layers(layers) -> None:
    """Every feature-map layer's grid with its name and shape, three layers a row."""
    st.subheader("Feature maps, layer by layer")
    caption("Each small picture is one filter's output, brightest where it found its pattern (each scaled "
            "to its own brightest pixel; a black one did not fire on this picture).")
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
def digit_view(net, choice: inside.Choice) -> None:
    # A new stroke or choice reruns only this part; the weights below do not change.
    if choice.dataset != "mnist":
        caption(f"This network was trained on {TITLES[choice.dataset]}: drawing clothes is not the point, "
                "so the picture comes from its 10,000 test images.")
        left, right = st.columns([2, 3], gap="medium")
        with left:
            image, tag = test_picture(choice.dataset)
    else:
        carried = st.session_state.get("drawn_digit")
        # A link's test picture put TEST here first (a default too would be a second first value).
        st.session_state.setdefault("inside-source", CARRIED if carried is not None else DRAW)
        source = st.segmented_control("Which digit?", [DRAW, CARRIED, TEST], key="inside-source")
        left, right = st.columns([2, 3], gap="medium")
        with left:
            if source == DRAW:
                image, tag = drawn_here()
            elif source == CARRIED:
                if carried is None:
                    st.info("Nothing drawn on the Draw page yet: draw there, then follow “See inside the CNN”.")
                    image, tag = None, None
                else:
                    image, tag = np.asarray(carried, np.float32), "carried"
                    st.image(np.kron(image, np.ones((8, 8), np.float32)), clamp=True,
                             caption="Your drawing from the Draw page, as the networks see it")
            elif source == TEST:
                image, tag = test_picture("mnist")
            else:
                st.info("Choose where the digit comes from.")
                image, tag = None, None
    # The address follows the view: the network, the test picture (none for a drawing), the method.
    write_link("inside", {"model": choice.entry, "index": int(tag[5:]) if tag and tag.startswith("test-") else None,
                          "method": (st.session_state.get("fool-method") or "FGSM").lower()})
    if image is None:
        return
    with right:
        result = show(net, choice, image, tag)
    show_layers(result["layers"])
    fool(net, choice, image, tag)


def dense_of(choice: inside.Choice):
    """The shipped dense 64-64 net of the choice's data set (to try the same change on), or
    None for the class's symbols (other classes) or when it is not stored."""
    if choice.names:
        return None
    try:
        if choice.dataset == "mnist":
            return cached_model("dense_64_64").model
        return stored_model("shipped", inside.dense_partner(choice.dataset).entry).model
    except (FileNotFoundError, cache.CorruptEntryError, ValueError):
        return None


def fool(net, choice: inside.Choice, image, tag: str) -> None:
    """The smallest FGSM or PGD change that flips the network's answer, an epsilon slider,
    and whether the same change fools the dense 64-64 net (transfer)."""
    st.subheader("Fool the network")
    st.markdown("A small change to every pixel, made on purpose, can flip the network's answer while you still see "
                "the same picture: it does not read pictures the way people do, which matters wherever a network is "
                "trusted with what it sees.")
    explain("adversarial")
    labels = choice.names or class_names(choice.dataset)
    st.session_state.setdefault("fool-method", "FGSM")
    method = st.segmented_control("Method", ["FGSM", "PGD"], key="fool-method",
                                  help="FGSM: one step along the gradient's sign (Goodfellow et al. 2015). PGD: ten "
                                       "smaller steps, each kept within ε (Madry et al. 2018).") or "FGSM"
    smallest = adversarial.smallest_fgsm if method == "FGSM" else adversarial.smallest_pgd
    attack = smallest(net, image)
    found = attack.epsilon is not None
    if found:
        st.markdown(f"The smallest {method} change that flips its answer: **ε = {attack.epsilon:.3f}** (no pixel "
                    f"moves by more than {attack.epsilon:.1%} of black to white); it then reads "
                    f"**{labels[attack.after]}** instead of {labels[attack.before]}.")
    else:
        st.info(f"No {method} change up to ε = {adversarial.EPSILONS[-1]} flips its answer ({labels[attack.before]}).")
    # The grid value at or just above the smallest epsilon (computed in float32, hence the slack).
    start = next(e for e in adversarial.EPSILONS if e >= (attack.epsilon if found else adversarial.EPSILONS[-1]) - 1e-6)
    epsilon = st.select_slider("ε: how far any pixel may move (of the range black to white)",
                               options=adversarial.EPSILONS, value=start, key=f"fool-epsilon-{tag}-{method}")
    attack_at = adversarial.fgsm if method == "FGSM" else adversarial.pgd
    changed = attack_at(net, image, epsilon, attack.before)
    p_before = np.asarray(net(image[None], training=False))[0]
    p_after = np.asarray(net(changed[None], training=False))[0]
    after = int(np.argmax(p_after))
    c1, c2, c3 = st.columns(3)
    # A fixed width: a caption wider than its image would stretch the image.
    c1.image(np.kron(image, np.ones((6, 6), np.float32)), clamp=True, width=168,
             caption=f"Original: {labels[attack.before]} ({p_before[attack.before]:.0%} sure)")
    c2.image(np.kron(adversarial.visible(changed - image), np.ones((6, 6, 1), np.float32)), clamp=True, width=168,
             caption=f"The change, scaled to be seen (ε = {epsilon:.3f}; red brighter, blue darker)")
    c3.image(np.kron(changed, np.ones((6, 6), np.float32)), clamp=True, width=168,
             caption=f"Changed: {labels[after]} ({p_after[after]:.0%} sure)")
    dense = dense_of(choice)
    if dense is not None:
        d_before, d_after = (int(np.argmax(np.asarray(dense(x[None], training=False))[0])) for x in (image, changed))
        fooled = "fools it too (the change transfers)" if d_after != d_before else "does not fool it"
        st.markdown(f"The dense 64-64 net reads the original as **{labels[d_before]}** and the changed picture as "
                    f"**{labels[d_after]}**: the change made for this network {fooled}.")


digit_view(model, chosen)


@st.cache_resource(show_spinner=False, max_entries=16)
def filter_grid(store: str, entry: str) -> tuple[np.ndarray, tuple]:
    """A stored network's first-layer filters as one colour grid (read-only) and their
    (count, height, width)."""
    if (store, entry) == (options[0].store, options[0].entry):
        net = cached_model("cnn").model
    else:
        net = class_model(entry).model if store == "class" else stored_model(store, entry).model
    weights = inside.first_layer_filters(net)
    # Eight a row (the CNN's 32 filters: four rows), 16 beyond 64 filters, fewer than 8 in one row.
    columns = min(len(weights), 8 if len(weights) <= 64 else 16)
    # Filters of any size about 60 px a side.
    scale = max(4, 60 // weights.shape[1])
    # Each filter scaled to its own strongest weight: the Fashion-MNIST CNN has a few filters with
    # weights three times the others', which left the rest nearly black on a shared scale.
    strongest = np.abs(weights).max(axis=(1, 2), keepdims=True)
    scaled = weights / np.where(strongest > 0, strongest, 1)
    return inside.tile_rgb(inside.diverging(scaled, limit=1.0), columns=columns, scale=scale, gap=2), weights.shape


@st.cache_resource(show_spinner=False, max_entries=4)
def unit_grid(store: str, entry: str) -> np.ndarray:
    """A stored dense net's first layer, one 28x28 picture per unit (read-only)."""
    net = cached_model("dense_64_64").model if entry == f"dense_64_64-{inside.dense_partner('mnist').key()}" \
        else stored_model(store, entry).model
    weights = inside.dense_unit_weights(net)
    return inside.tile_rgb(inside.diverging(weights), columns=16, scale=2, gap=2)


st.subheader("What the first layer learned")
explain("filter")
grid, (count, k, _) = filter_grid(chosen.store, chosen.entry)
who = "The CNN" if chosen.config.kind == "cnn" else "Your network"
st.image(grid, output_format="PNG",
         caption=f"{who}'s {count} first-layer filters, {k} × {k} weights each")
# The image caption stays short: a caption wider than its image stretches the image.
caption(f"Red weights add, blue ones subtract; each filter is scaled to its own strongest weight. Training "
        f"started from random numbers; these {k} × {k} patterns are what it settled on. Once there is a picture "
        "above, the first layer's feature maps show where each one fires on it.")

partner = inside.dense_partner(chosen.dataset)
st.subheader("The dense 64-64 net's first layer" + ("" if MNIST else f" on {TITLES[chosen.dataset]}"))
if MNIST:
    require_model("dense_64_64")  # a sentence and a stop if it is missing
elif not cache.is_cached(partner):
    st.info(f"The dense 64-64 net trained on {TITLES[chosen.dataset]} is not stored here, so its first layer "
            "cannot be shown.")
    st.stop()
try:
    units = unit_grid("shipped", partner.entry)
except cache.CorruptEntryError as exc:
    st.warning(f"{exc} Its first layer cannot be shown.")
    st.stop()
st.image(units, output_format="PNG",
         caption="Each of the 64 first-layer units: its 784 weights, one per pixel, as a 28 × 28 picture")
caption("A dense unit has one weight per pixel of the whole picture, so it looks for a whole shape at one "
        f"place: red pixels raise its output when they are inked, blue ones lower it. {who}'s {k} × {k} filters "
        "instead look for small patterns anywhere.")
explain("dense")
