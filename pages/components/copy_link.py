"""The "Copy link" button every page has (app.py puts it in the page's header bar), a
Streamlit component (``st.components.v2``) of our own: Streamlit has no clipboard API, and
a link composed on the server would miss what changed since its run (a fragment's cell of
the Mistakes page, the Denoising slider's level), while the browser's own address always
holds the page's current link (``core.present.links``).

The click copies ``window.location.href`` with ``navigator.clipboard``; where there is none
(plain http on a class server's network address is not a secure context) or it is refused,
the link is shown in a field, selected, for Ctrl+C."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

_HERE = Path(__file__).parent
_HTML = """<div class="copy-link"><button type="button" title="Copy this page's link: it opens the same view">
<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M3.9 12a3.1 3.1 0 0 1 3.1-3.1h4V7H7a5 5 0 0 0 0 10h4v-1.9H7
A3.1 3.1 0 0 1 3.9 12zM8 13h8v-2H8v2zm9-6h-4v1.9h4a3.1 3.1 0 0 1 0 6.2h-4V17h4a5 5 0 0 0 0-10z"/></svg>
<span>Copy link</span></button><input type="text" readonly hidden aria-label="This page's link">
<span class="note" role="status"></span></div>"""
_CSS = (_HERE / "copy_link.css").read_text()
_JS = (_HERE / "copy_link.js").read_text()


def copy_link(key: str = "copy-link") -> None:
    """Show the button. Nothing comes back to the server: the copy happens in the browser."""
    # Registered on every call: each Streamlit runtime keeps its own registry (see sketchpad.py).
    component = st.components.v2.component("digitlab_copy_link", html=_HTML, css=_CSS, js=_JS)
    component(key=key, data={}, width="content", height="content")
