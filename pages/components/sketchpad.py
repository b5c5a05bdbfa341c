"""The Draw page's drawing pad, a Streamlit component (``st.components.v2``) of our own.

streamlit-drawable-canvas 0.13 lays its toolbar, invisible until hovered, over the
canvas's top-right corner, where it takes presses meant for the canvas, and its Clear
remounts the canvas, losing strokes drawn in the next second. This pad keeps
Undo and Clear below the drawing area and clears in the browser at once.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.drawing.strokes import BRUSH

_HERE = Path(__file__).parent
_HTML = """<div class="sketchpad"><canvas role="img"></canvas>
<div class="tools"><button type="button" data-action="undo">Undo</button>
<button type="button" data-action="clear">Clear</button></div></div>"""
_CSS = (_HERE / "sketchpad.css").read_text()
_JS = (_HERE / "sketchpad.js").read_text()


def sketchpad(key: str, label: str = "Drawing pad: draw one digit") -> list:
    """Show the pad; return its strokes, each a list of [x, y] points in [0, 1] of the
    pad's side (see ``core.drawing.strokes.to_image``), [] before the first stroke and after Clear.

    The pad reruns the enclosing fragment (or page) after each stroke, Undo and Clear. The
    list comes from the visitor's browser: validate it before use (``to_image`` does).
    """
    # Registered on every call, not once at import: each Streamlit runtime (a test's
    # AppTest makes a new one) keeps its own registry; the same definition again is a no-op.
    pad = st.components.v2.component("digitlab_sketchpad", html=_HTML, css=_CSS, js=_JS)
    result = pad(key=key, data={"brush": BRUSH, "label": label}, default={"drawing": None},
                 on_drawing_change=lambda: None, width="stretch", height="content")
    drawing = result.get("drawing") or {}
    return drawing.get("strokes", []) if isinstance(drawing, dict) else drawing
