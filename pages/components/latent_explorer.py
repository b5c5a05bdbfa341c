"""The Latent space page's live views, a Streamlit component (``st.components.v2``) of our
own: the 2-D map that decodes the code under the pointer, the morphing interpolation and
the conditional VAE's samples, each from frames the server computed once
(``core.present.payloads``), so moving the pointer or the slider sends nothing to the server."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

_HERE = Path(__file__).parent
_CSS = (_HERE / "latent_explorer.css").read_text()
_JS = (_HERE / "latent_explorer.js").read_text()


def latent_explorer(payload: dict, key: str):
    """Show one view (``payload["mode"]``: "map", "morph" or "samples"). The samples view
    counts its requests for new ones in ``st.session_state[key]["more"]``. Returns the map's
    point [x, y] where a click, a tap or the arrow keys last left it (hovering sends
    nothing), None before that and for the other views; it comes from the visitor's
    browser: check it before use."""
    # Registered on every call: each Streamlit runtime keeps its own registry (see sketchpad.py).
    component = st.components.v2.component("digitlab_latent_explorer", html='<div class="latent-explorer"></div>',
                                           css=_CSS, js=_JS)
    result = component(key=key, data=payload, default={"more": 0, "point": None}, on_more_change=lambda: None,
                       on_point_change=lambda: None, width="stretch", height="content")
    return result.get("point")
