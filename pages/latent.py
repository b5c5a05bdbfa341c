"""Latent space: interpolation, the 2-D map, random digits and noisy codes of the VAE,
and digits of a chosen class from the conditional VAE."""

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
import streamlit as st

from core.analysis import latent
from core.present.figures import larger_type
from core.store import cache
from pages.shared import (caption, cached_model, digit_row, enlarge, explain, mnist, projector, require_model,
                          test_codes, use_app_navigation)

use_app_navigation()

st.title("The latent space of a variational autoencoder")
entry = require_model("vae")
encoder, decoder = entry.model.get_layer("encoder"), entry.model.get_layer("decoder")
latent_dim = entry.metrics["config"]["latent_dim"]
data = mnist()
# Projector mode: larger digits for the back of the room.
DIGIT_FACTOR = 3 if projector() else 2
x_test, y_test = data["x_test"], data["y_test"]
st.markdown(
    f"A VAE (784-512-256-{latent_dim}-256-512-784, {entry.metrics['param_count']:,} parameters) "
    f"squeezes every digit into {latent_dim} numbers, its *code*; the decoder turns any code "
    "back into a digit. Codes of similar digits lie close together, so walking the space "
    "morphs one digit into another."
)
explain("vae", "latent_code")


codes = test_codes("vae")


def pick_digit(label: str, column, default_class: int) -> int:
    how = column.radio(f"{label}: choose by", ["class", "index"], horizontal=True, key=f"{label}-how")
    if how == "index":
        return int(column.number_input(f"{label}: test index (0-9999)", 0, 9999, default_class * 7,
                                       key=f"{label}-index"))
    digit = column.selectbox(f"{label}: digit", range(10), default_class, key=f"{label}-class")
    nth = column.number_input(f"{label}: which example of it", 1, 800, 1, key=f"{label}-nth")
    return int(np.flatnonzero(y_test == digit)[nth - 1])


@st.fragment
def interpolation():
    st.subheader("Interpolate between two test digits")
    c1, c2, c3 = st.columns([2, 2, 1])
    a, b = pick_digit("From", c1, 1), pick_digit("To", c2, 7)
    steps = c3.slider("Steps", 3, 20, 10)
    strip = latent.interpolate(encoder, decoder, x_test[a], x_test[b], steps)
    digit_row([x_test[a]] + list(strip) + [x_test[b]],
              [f"#{a}"] + [f"{t:.2f}" for t in np.linspace(0, 1, steps)] + [f"#{b}"], factor=DIGIT_FACTOR)
    caption("Left and right: the originals; between them the decoded walk from one code to the other.")


@st.fragment
def latent_map():
    st.subheader("The 2-D map")
    if latent_dim != 2:
        st.info(f"The map needs codes of 2 numbers; this model's codes have {latent_dim}.")
        return
    lo, hi = np.floor(codes.min(axis=0)), np.ceil(codes.max(axis=0))
    st.session_state.setdefault("z1", 0.0)
    st.session_state.setdefault("z2", 0.0)
    clicked = st.session_state.get("latent_map", {})
    points = (clicked.get("selection") or {}).get("points") or []
    if points and points[0] != st.session_state.get("last_click"):
        st.session_state.last_click = points[0]
        st.session_state.z1 = float(np.clip(points[0]["x"], lo[0], hi[0]))
        st.session_state.z2 = float(np.clip(points[0]["y"], lo[1], hi[1]))
    left, right = st.columns([3, 1])
    z1 = right.slider("z₁", float(lo[0]), float(hi[0]), step=0.05, key="z1")
    z2 = right.slider("z₂", float(lo[1]), float(hi[1]), step=0.05, key="z2")
    right.image(enlarge(latent.decode(decoder, np.array([[z1, z2]]))[0], 6), clamp=True,
                caption=f"decoded at ({z1:.2f}, {z2:.2f})")
    shown = np.random.default_rng(0).choice(len(codes), 5000, replace=False)
    fig = go.Figure()
    # An invisible grid under the digits, so a click on empty space also picks a code.
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 49), np.linspace(lo[1], hi[1], 49))
    fig.add_trace(go.Scattergl(x=gx.ravel(), y=gy.ravel(), mode="markers", showlegend=False,
                               marker={"size": 9, "opacity": 0}, name="grid",
                               hovertemplate="decode (%{x:.2f}, %{y:.2f})<extra></extra>"))
    for digit in range(10):
        idx = shown[y_test[shown] == digit]
        fig.add_trace(go.Scattergl(x=codes[idx, 0], y=codes[idx, 1], mode="markers", name=str(digit),
                                   marker={"size": 4, "opacity": 0.7,
                                           # Tableau 10 (D3): ten hues far apart (Plotly's own
                                           # puts 0/3, 6/8 and 4/9 close together).
                                           "color": qualitative.D3[digit]}))
    # WebGL like the points, and last: a plain Scatter would be drawn under the WebGL layer.
    fig.add_trace(go.Scattergl(x=[z1], y=[z2], mode="markers", name="decoded point",
                               marker={"size": 20, "symbol": "x", "color": "black",
                                       "line": {"width": 2, "color": "white"}}))
    fig.update_layout(height=520, xaxis_title="z₁", yaxis_title="z₂", margin={"t": 10},
                      legend={"title": "label"})
    with left:
        st.plotly_chart(larger_type(fig) if projector() else fig, on_select="rerun", selection_mode="points",
                        key="latent_map")
    caption("5,000 test digits, each at its code (the middle of the spread the encoder gives it), "
            "coloured by true label. Click anywhere on the map, or move the sliders, to decode that code.")


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
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    # Wrapped onto a second line on a phone: in a column Streamlit keeps button groups on one
    # scrolling row, which cut the 9 off.
    digit = c1.pills("Digit", list(range(10)), default=3, key="cvae-digit", wrap=True)
    st.session_state.setdefault("cvae_seed", 0)
    if c2.button("New samples", key="cvae-new"):
        st.session_state.cvae_seed += 1
    if digit is None:
        st.info("Pick a digit.")
        return
    digits = latent.generate(cvae.model.get_layer("decoder"), digit, 16, cvae_dim,
                             seed=1000 * st.session_state.cvae_seed + digit)
    digit_row(digits, factor=DIGIT_FACTOR)
    caption(f"Codes drawn at random from the prior N(0, I), decoded with label {digit}.")


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
