"""The lab's web server: Streamlit's ASGI app around app.py, with the slow loads done at
start. Run it with ``streamlit run server.py`` (scripts/run_app.sh does).

Without this, the first visitor after a start waits 7-12 s while TensorFlow is imported
and the shipped models and the test digits are read (issue 9). The lifespan hook starts
that work in a background thread as the server starts, so it does not delay the server
accepting visitors; a page that needs a model before it is ready waits for the same
cached load (``st.cache_resource`` computes each value once) instead of starting another.
"""

from contextlib import asynccontextmanager

import streamlit as st


@asynccontextmanager
async def lifespan(app):
    from pages.shared import start_warm_up

    start_warm_up()
    yield


app = st.App("app.py", lifespan=lifespan)
