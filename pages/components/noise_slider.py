"""The Denoising page's slider and digits, a Streamlit component (``st.components.v2``)
of our own: every noise level arrives in one payload (``core.present.payloads.noise_payload``)
and the browser swaps the frames while the slider is dragged, with nothing sent to the
server (Streamlit's own slider sends its value only on release, then waits for the
server's new images)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

_HERE = Path(__file__).parent
_HTML = """<div class="noise-explorer"><div class="controls"><label for="noise-level">Noise level
<output>0.40</output></label><input id="noise-level" type="range" min="0" max="20" step="1"
aria-label="Noise level"><button type="button" class="other">Other digits</button></div>
<div class="rows"></div><div class="chart"></div></div>"""
_CSS = (_HERE / "noise_slider.css").read_text()
_JS = (_HERE / "noise_slider.js").read_text()


def noise_slider(payload: dict, key: str = "noise-slider") -> float | None:
    """Show the slider, its Other digits button, the rows of digits at the slider's level
    and the accuracy-against-noise chart with its markers; ``payload`` from
    ``core.present.payloads.noise_payload``. The presses of Other digits since the
    component was shown are counted in ``st.session_state[key]["other"]``
    (``pages.shared.pressed_again`` reads them).

    Returns the level the slider was last let go at (sent once it rests, never while it is
    dragged), one of ``payload["levels"]``; None before that, or for anything else the
    browser sends (a tampered state)."""
    # Registered on every call: each Streamlit runtime keeps its own registry (see sketchpad.py).
    component = st.components.v2.component("digitlab_noise_slider", html=_HTML, css=_CSS, js=_JS)
    result = component(key=key, data=payload, default={"other": 0, "level": None}, on_other_change=lambda: None,
                       on_level_change=lambda: None, width="stretch", height="content")
    level = result.get("level")
    return next((known for known in payload["levels"] if type(level) in (int, float) and abs(known - level) < 1e-6),
                None)
