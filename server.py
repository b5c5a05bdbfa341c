"""The lab's web server: Streamlit's ASGI app around app.py, with the slow loads done at
start. Run it with ``streamlit run server.py`` (scripts/run_app.sh does).

Without this, the first visitor after a start waits 7-12 s while TensorFlow is imported
and the shipped models and the test digits are read. The lifespan hook starts
that work in a background thread as the server starts, so it does not delay the server
accepting visitors; a page that needs a model before it is ready waits for the same
cached load (``st.cache_resource`` computes each value once) instead of starting another.
"""

from contextlib import asynccontextmanager
from urllib.parse import urlencode

import streamlit as st
from starlette.middleware import Middleware
from starlette.responses import RedirectResponse

from pages.shared import start_warm_up

# The first path segments Streamlit itself serves (its API, media, components, bundles, app
# static files, login): never a page.
STREAMLIT_ROOTS = frozenset({"_stcore", "static", "media", "component", "app", "auth", "oauth2callback"})
NOT_FOUND_PARAM = "page_not_found"  # app.py turns it into one sentence


@asynccontextmanager
async def lifespan(app):
    start_warm_up()
    yield


class NestedPathNotFound:
    """ASGI middleware: a browser opening a page path with a second "/" (``/train/x``) is
    sent to the app's root with ``?page_not_found=train/x``, which app.py says in one
    sentence. Streamlit would answer such a path with its index.html, whose relative
    script URLs then resolve under ``/train/`` and fail: a blank white page. Only page
    loads (GET asking for HTML) are redirected; Streamlit's own routes pass untouched."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "GET":
            base = "/" + (st.get_option("server.baseUrlPath") or "").strip("/")
            path = scope["path"]
            if base != "/" and (path + "/").startswith(base + "/"):
                path = path[len(base):]
            parts = [part for part in path.split("/") if part]
            accept = dict(scope["headers"]).get(b"accept", b"")
            if len(parts) > 1 and parts[0] not in STREAMLIT_ROOTS and b"text/html" in accept:
                query = scope.get("query_string", b"").decode("latin-1")
                query = (query + "&" if query else "") + urlencode({NOT_FOUND_PARAM: "/".join(parts)})
                root = base.rstrip("/") + "/"
                await RedirectResponse(f"{root}?{query}", status_code=302,
                                       headers={"Cache-Control": "no-cache"})(scope, receive, send)
                return
        await self.app(scope, receive, send)


app = st.App("app.py", lifespan=lifespan, middleware=[Middleware(NestedPathNotFound)])
