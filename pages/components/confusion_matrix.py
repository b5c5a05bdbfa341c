"""The Mistakes page's confusion matrix, a Streamlit component (``st.components.v2``) of our
own: a grid of buttons, so a click, a tap on a phone or the keyboard selects a cell at
once (a plotly chart's point selection lagged one tap behind on a touch screen)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

_HERE = Path(__file__).parent
_CSS = (_HERE / "confusion_matrix.css").read_text()
_JS = (_HERE / "confusion_matrix.js").read_text()


def confusion_matrix(payload: dict, key: str, on_change) -> None:
    """Show the matrix (``core.present.payloads.confusion_payload``); a selected cell calls
    ``on_change`` before the rerun, with ``st.session_state[key]["cell"]`` = [true, answer]."""
    # Registered on every call: each Streamlit runtime keeps its own registry (see sketchpad.py).
    component = st.components.v2.component("digitlab_confusion_matrix", html='<div class="confusion"></div>',
                                           css=_CSS, js=_JS)
    component(key=key, data=payload, default={"cell": None}, on_cell_change=on_change, width="stretch",
              height="content")
