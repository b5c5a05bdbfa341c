"""Latent space: interpolation, the 2-D map, random digits and noisy codes of the VAE,
and digits of a chosen class from the conditional VAE."""

import numpy as np
from plotly.colors import qualitative
import streamlit as st

from core.analysis import latent
from core.present.payloads import latent_map_payload, morph_payload, samples_payload
from core.store import cache
from pages.components.latent_explorer import latent_explorer
from pages.shared import (caption, cached_model, digit_row, explain, mnist, pressed_again, projector, read_link,
                          require_model, test_codes, use_app_navigation, write_link)

use_app_navigation()

st.title("The latent space of a variational autoencoder")
entry = require_model("vae")
encoder, decoder = entry.model.get_layer("encoder"), entry.model.get_layer("decoder")
latent_dim = entry.metrics["config"]["latent_dim"]
data = mnist()
# Projector mode: larger digits for the back of the room.
DIGIT_FACTOR = 3 if projector() else 2
MORPH_STEPS = 41  # the interpolation slider's positions, both digits included
SAMPLE_BATCHES = 8  # sets of 16 conditional samples sent at once; New samples shows the next
GRID_SIZE = 41  # the map's decoded grid a side (README.md, "Latent space in the browser")
x_test, y_test = data["x_test"], data["y_test"]
st.markdown(
    f"A VAE (784-512-256-{latent_dim}-256-512-784, {entry.metrics['param_count']:,} parameters) "
    f"squeezes every digit into {latent_dim} numbers, its *code*; the decoder turns any code "
    "back into a digit. Codes of similar digits lie close together, so walking the space "
    "morphs one digit into another."
)
explain("vae", "latent_code")


codes = test_codes("vae")
# The 2-D map's bounds: whole numbers around every test digit's code.
LOW, HIGH = np.floor(codes.min(axis=0)), np.ceil(codes.max(axis=0))
# A link (core.present.links, "latent"): the map's point (z1, z2), the interpolation's two test digits by
# index and the conditional VAE's digit. The page's view so far, which each part's fragment updates and
# writes back.
on_map = {f"z{i + 1}": lambda v, i=i: latent_dim == 2 and LOW[i] <= v <= HIGH[i] for i in range(2)}
arrival = read_link("latent", allowed=on_map)
if arrival is not None:  # a new visit: the map opens at the link's point, or at its default
    for label, name in (("From", "from"), ("To", "to")):
        if name in arrival:
            st.session_state[f"{label}-how"], st.session_state[f"{label}-index"] = "index", arrival[name]
    if "digit" in arrival:
        st.session_state["cvae-digit"] = arrival["digit"]
    point = (arrival["z1"], arrival["z2"]) if "z1" in arrival and "z2" in arrival else None
    st.session_state["latent-start"] = point
    st.session_state["latent-view"] = {name: value for name, value in arrival.items() if point or name[0] != "z"}
view = st.session_state.setdefault("latent-view", {})


def first_of(digit: int) -> int:
    """The test index of the first example of ``digit``: the interpolation's default pick."""
    return int(np.flatnonzero(y_test == digit)[0])


def pick_digit(label: str, column, default_class: int) -> int:
    how = column.radio(f"{label}: choose by", ["class", "index"], horizontal=True, key=f"{label}-how")
    if how == "index":
        st.session_state.setdefault(f"{label}-index", default_class * 7)
        return int(column.number_input(f"{label}: test index (0-9999)", 0, 9999, key=f"{label}-index"))
    digit = column.selectbox(f"{label}: digit", range(10), default_class, key=f"{label}-class")
    nth = column.number_input(f"{label}: which example of it", 1, 800, 1, key=f"{label}-nth")
    return int(np.flatnonzero(y_test == digit)[nth - 1])


@st.fragment
def interpolation():
    st.subheader("Interpolate between two test digits")
    c1, c2 = st.columns(2)
    a, b = pick_digit("From", c1, 1), pick_digit("To", c2, 7)
    view.update({"from": a if a != first_of(1) else None, "to": b if b != first_of(7) else None})
    write_link("latent", view)
    frames = latent.interpolate(encoder, decoder, x_test[a], x_test[b], MORPH_STEPS)
    latent_explorer(morph_payload(x_test[a], x_test[b], frames, a, b, DIGIT_FACTOR), key="latent-morph")
    caption("Left and right: the originals; in the middle the decoder's digit at a point on the line between "
            "their codes. Drag the slider (or use the arrow keys) to walk from one to the other.")


@st.cache_resource(show_spinner="Decoding the map's grid…")
def map_payload(factor: int) -> dict:
    """The 2-D map's payload, computed once per server process for every session."""
    lo, hi = LOW, HIGH
    grid = latent.latent_grid(decoder, tuple(lo), tuple(hi), GRID_SIZE)
    shown = np.random.default_rng(0).choice(len(codes), 5000, replace=False)
    # Tableau 10 (D3): ten hues far apart (Plotly's own puts 0/3, 6/8 and 4/9 close together).
    return latent_map_payload(grid, tuple(lo), tuple(hi), codes[shown], y_test[shown], qualitative.D3[:10],
                              factor, token=f"vae-{entry.metrics['key']}-{GRID_SIZE}")


@st.fragment
def latent_map():
    st.subheader("The 2-D map")
    if latent_dim != 2:
        st.info(f"The map needs codes of 2 numbers; this model's codes have {latent_dim}.")
        return
    # The map opens at the link's point (the same for the whole visit, so the payload stays the same).
    start = st.session_state.get("latent-start")
    payload = map_payload(DIGIT_FACTOR)
    point = latent_explorer(payload if start is None else {**payload, "start": list(start)}, key="latent-map")
    # A click, a tap or the arrow keys send the point they leave (hovering sends nothing).
    if (isinstance(point, list) and len(point) == 2 and all(type(v) in (int, float) for v in point)
            and all(LOW <= np.asarray(point)) and all(np.asarray(point) <= HIGH)):
        view["z1"], view["z2"] = (round(float(v), 2) + 0.0 for v in point)
    write_link("latent", view)
    caption("5,000 test digits, each at its code (the middle of the spread the encoder gives it), "
            "coloured by true label. Move the pointer over the map (or drag a finger, or use the arrow keys) "
            f"to see the digit the decoder makes of the code under it, blended from a {GRID_SIZE}×{GRID_SIZE} "
            "grid of decoded codes; a click or tap keeps its point in the page's link.")


@st.fragment
def random_digits():
    st.subheader("Random digits from the prior")
    st.session_state.setdefault("sample_seed", 0)
    if st.button("New samples"):
        st.session_state.sample_seed += 1
    _, digits = latent.sample_prior(decoder, 16, latent_dim, st.session_state.sample_seed)
    digit_row(digits, factor=DIGIT_FACTOR)
    caption("Codes drawn at random from the prior N(0, I), each number kept within ±2σ, then decoded.")
    explain("prior")


@st.fragment
def noisy_code():
    st.subheader("A digit's code, with noise")
    c1, c2 = st.columns(2)
    index = int(c1.number_input("Test index", 0, 9999, 0, key="noise-index"))
    sigma = c2.slider("Noise σ (the prior's σ is 1)", 0.0, 1.5, 0.3, 0.05)
    explain("sigma")
    code = codes[index]
    _, variants = latent.perturb(decoder, code, sigma, 8, seed=index)
    digit_row([x_test[index], latent.decode(decoder, code[None])[0], *variants],
              ["original", "decoded"] + [f"+noise {i + 1}" for i in range(8)], factor=DIGIT_FACTOR)


@st.fragment
def conditional_digits():
    st.subheader("Digits to order: the conditional VAE")
    try:
        cvae = cached_model("cvae")
    except FileNotFoundError as exc:
        st.info(f"The conditional VAE is not cached: {exc}")
        return
    cvae_dim = cvae.metrics["config"]["latent_dim"]
    st.markdown(
        f"A second VAE is told which digit it sees, so its {cvae_dim}-number code only has "
        "to hold the *style* (slant, width, stroke). Pick a digit: new codes from the prior, "
        "decoded with that label, give new examples of it."
    )
    explain("cvae")
    # Wrapped onto a second line on a phone (a scrolling row cut the 9 off).
    st.session_state.setdefault("cvae-digit", 3)
    digit = st.pills("Digit", list(range(10)), key="cvae-digit", wrap=True)
    view["digit"] = digit
    write_link("latent", view)
    if pressed_again("cvae-samples", "more"):  # New samples, after the last set in the browser
        st.session_state.cvae_block = st.session_state.get("cvae_block", 0) + 1
    if digit is None:
        st.info("Pick a digit.")
        return
    block = st.session_state.get("cvae_block", 0)
    decoder_c = cvae.model.get_layer("decoder")
    batches = np.stack([latent.generate(decoder_c, digit, 16, cvae_dim,
                                        seed=1000 * (SAMPLE_BATCHES * block + i) + digit)
                        for i in range(SAMPLE_BATCHES)])
    latent_explorer(samples_payload(batches, digit, DIGIT_FACTOR, token=f"{digit}-{block}"), key="cvae-samples")
    caption(f"Codes drawn at random from the prior N(0, I), decoded with label {digit}; New samples shows "
            f"the next 16 at once ({SAMPLE_BATCHES} sets are already in your browser).")


# Projector mode: the map, the page's key figure, first.
if projector():
    latent_map()
interpolation()
conditional_digits()
if not projector():
    latent_map()
random_digits()
noisy_code()

with st.expander("Where this came from"):
    lines = [f"- VAE: `models_cache/vae-{entry.metrics['key']}`, codes of {latent_dim} numbers."]
    try:
        cvae_key = cached_model("cvae").metrics["key"]
        lines.append(f"- Conditional VAE: `models_cache/cvae-{cvae_key}`.")
    except (FileNotFoundError, cache.CorruptEntryError):
        pass
    lines.append("- Both built by `python -m core train vae cvae`; the map shows 5,000 test digits chosen "
                 "with seed 0.")
    st.markdown("\n".join(lines))
