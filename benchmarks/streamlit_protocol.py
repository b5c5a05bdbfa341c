"""One Streamlit session spoken over its WebSocket, as the browser's frontend speaks it
(Streamlit 1.64): a client for load tests that need many sessions without a browser each.

    session = Session("http://127.0.0.1:8501")
    overview = session.open()                       # GET the page, health, host-config, stream
    page = session.switch_page("Denoising")         # a sidebar link: rerun with the page's hash
    moved = session.set_slider("Noise level", 0.45) # a fragment rerun with every widget state
    answer = session.set_component("digitlab_sketchpad", {"drawing": {...}})
    upload = session.upload("A PNG or JPEG", "digit.png", png_bytes)

What it does, each step checked against Streamlit's source and its frontend bundle:

- Connect: GET the page, then ``/_stcore/health`` (it sets the ``_streamlit_xsrf`` cookie)
  and ``/_stcore/host-config``; open ``/_stcore/stream`` with the subprotocols
  ``["streamlit", <xsrf cookie>]``, the cookie and an Origin header.
- Rerun: a ``BackMsg.rerun_script`` carrying every widget state the page holds, the page's
  ``page_script_hash`` (``page_name`` = the URL path on the first run only), the
  ``fragment_id`` when a widget inside a ``st.fragment`` changed, and the hashes of the
  messages it has cached; then every ``ForwardMsg`` until ``script_finished``.
- The frontend's message cache: messages marked ``cacheable`` are kept by hash, the server
  then sends ``ref_hash`` messages in their place; entries age out after
  ``max_cached_message_age`` script runs, as in the frontend.
- Widget states: a widget's default goes into the states when its element arrives (sliders,
  checkboxes and text inputs do this on mount); states of widgets no longer shown are dropped
  after a run.
- Images: every ``/media/...`` URL of an ``st.image`` is fetched over HTTP as soon as its
  element arrives, up to ``IMAGE_CONNECTIONS`` at once (Chromium's connections per host);
  a URL already shown since the page was opened is not fetched again, and every image of a
  page opened anew is. Chromium, watched doing classroom.py's scenario, came close to that:
  per visit it fetched all 20 of the Overview's images, on average 34 of the Denoising
  page's 40 and 26 of a slider move's 32 new ones (it reuses some from its memory cache).
- Upload: ``BackMsg.file_urls_request``, ``ForwardMsg.file_urls_response``, a multipart PUT
  with the ``X-Xsrftoken`` header, then a rerun with the uploader's ``file_uploader_state_value``.

Not done (none of it is per-interaction server work): the frontend's static files (HTML only),
app heartbeats, reconnecting. Plain sockets (``websocket-client`` and ``requests``): under
gevent's monkey patching, as in locust, they yield to other greenlets while they wait.
"""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
import websocket
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

TIMEOUT_S = 30.0       # per message or HTTP request: a slow answer counts as slow, a stuck one as an error
IMAGE_CONNECTIONS = 6  # Chromium opens at most 6 HTTP/1.1 connections per host
EARLY = ForwardMsg.FINISHED_EARLY_FOR_RERUN  # a run cut short because another one starts
FAILED = (ForwardMsg.FINISHED_WITH_COMPILE_ERROR,)
# Element types that are widgets with a state from the moment they are shown.
STATEFUL_ON_MOUNT = {"slider", "checkbox", "text_input"}
WIDGET_TYPES = STATEFUL_ON_MOUNT | {"file_uploader", "bidi_component", "button"}


class CountedRetry(urllib3.util.Retry):
    """urllib3's Retry, counting in ``CountedRetry.count`` the requests sent again."""

    count = 0

    def increment(self, *args, **kwargs):
        CountedRetry.count += 1
        return super().increment(*args, **kwargs)


class ProtocolError(RuntimeError):
    """The server did not answer as a browser would expect (a timeout, an error status,
    a compile error, a missing widget or page)."""


@dataclass
class Widget:
    """A widget the page shows: its id, type (the Element field), label (component name for
    a ``bidi_component``), the fragment it lives in ("" for none), the script that showed it
    (app.py's hash for the sidebar's) and its state (None while the frontend would send none)."""

    id: str
    kind: str
    label: str
    fragment_id: str
    script_hash: str
    state: WidgetState | None = None


@dataclass
class Run:
    """What one script run (full or fragment) sent back: its new elements in order, the
    images fetched for it (count and bytes), its finish status, its time in seconds from
    the action's start (the first load's HTTP GET, the upload's request for a URL, else the
    BackMsg) to the last message and image, and ``script_seconds`` from the action's first
    BackMsg to ``script_finished`` (the server's part, images aside)."""

    elements: list = field(default_factory=list)
    images: int = 0
    image_bytes: int = 0
    status: int = 0
    seconds: float = 0.0
    script_seconds: float = 0.0

    def of(self, kind: str) -> list:
        """The elements of one type, e.g. "markdown", "html", "imgs", "heading"."""
        return [getattr(e, kind) for e in self.elements if e.WhichOneof("type") == kind]

    def text(self) -> str:
        """Every markdown, heading and HTML body of the run, one per line."""
        return "\n".join(x.body for kind in ("markdown", "heading", "html") for x in self.of(kind))

    def component(self, name: str) -> dict | None:
        """The data (JSON) the run sent to the first ``st.components.v2`` component
        ``name``, None if it sent none."""
        for x in self.of("bidi_component"):
            if x.component_name.endswith(name) and x.json:
                return json.loads(x.json)
        return None

    def exceptions(self) -> list[str]:
        """The messages of exception boxes in the run (a red box in the browser)."""
        return [f"{x.type}: {x.message}" for x in self.of("exception")]


class Session:
    """One browser tab's session with a Streamlit server at ``url`` (http://host:port)."""

    def __init__(self, url: str, timeout: float = TIMEOUT_S):
        self.url, self.timeout = url.rstrip("/"), timeout
        self.http = requests.Session()
        # One retry when a kept-alive connection turns out closed: the server drops idle ones
        # (uvicorn after 5 s) and a request sent on one at that moment is reset; a browser
        # sends it again on a new connection, unseen. Counted in CountedRetry.count.
        retry = CountedRetry(total=1, connect=1, read=1, status=0, allowed_methods=None, raise_on_status=False)
        self.http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=IMAGE_CONNECTIONS, max_retries=retry))
        self.pool = ThreadPoolExecutor(IMAGE_CONNECTIONS)
        self.ws: websocket.WebSocket | None = None
        self.widgets: dict[str, Widget] = {}
        self.pages: dict[str, str] = {}  # page title -> page_script_hash, from the navigation message
        self.page_hash = self.main_hash = ""  # the page shown now; app.py's own hash
        self.fragments: list[str] = []   # the fragments the current run reruns ([]: a full run)
        self.seen: set[str] = set()      # widget ids shown by the current run
        self.session_id = ""
        self.cache: dict[str, list] = {}  # hash -> [ForwardMsg, script run count when last used, fragment id]
        self.runs = 0                    # finished script runs, for the cache's ages
        self.max_age = 2                 # the server's global.maxCachedMessageAge, from new_session
        self.displayed: set[str] = set()  # image URLs loaded since the page was opened
        self.responses: dict[str, ForwardMsg] = {}  # file_urls_response by request id
        self.references = 0              # ref_hash messages resolved from the cache
        self.sent_at: float | None = None  # when the current action's first BackMsg went out

    # --- what a visitor does --------------------------------------------------------------

    def open(self, path: str = "") -> Run:
        """Open the app at ``path`` ("" for the default page), as a new tab: the HTML page,
        health and host-config, then the stream and the first run."""
        t0 = time.perf_counter()
        for part in (f"/{path}", "/_stcore/health", "/_stcore/host-config"):
            self._get(part)
        xsrf = self.http.cookies.get("_streamlit_xsrf", "")
        host = urlsplit(self.url).netloc
        self.ws = websocket.create_connection(
            f"ws://{host}/_stcore/stream", timeout=self.timeout, origin=self.url,
            subprotocols=["streamlit", xsrf] if xsrf else ["streamlit"], cookie=f"_streamlit_xsrf={xsrf}")
        return self._rerun(page_name=path, t0=t0)

    def switch_page(self, title: str) -> Run:
        """Click the sidebar link to page ``title``: a rerun of that page that carries only
        the states of widgets outside the page (the sidebar's)."""
        if title not in self.pages:
            raise ProtocolError(f"no page {title!r}; pages: {', '.join(self.pages)}")
        self.widgets = {k: w for k, w in self.widgets.items() if w.script_hash == self.main_hash}
        self.displayed = set()
        return self._rerun(page_hash=self.pages[title])

    def set_slider(self, label: str, value: float) -> Run:
        """Move slider ``label`` to ``value``."""
        widget = self.widget("slider", label)
        widget.state = WidgetState(id=widget.id)
        widget.state.double_array_value.data.append(value)
        return self._rerun(fragment_id=widget.fragment_id)

    def set_component(self, name: str, value: dict) -> Run:
        """A ``st.components.v2`` component ``name`` calls ``setStateValue``: its whole state
        as JSON (``value``, e.g. {"drawing": {...}})."""
        widget = self.widget("bidi_component", name)
        widget.state = WidgetState(id=widget.id, json_value=json.dumps(value))
        return self._rerun(fragment_id=widget.fragment_id)

    def upload(self, label: str, name: str, data: bytes, mime: str = "image/png") -> Run:
        """Choose file ``name`` in file uploader ``label``: ask for an upload URL, PUT the
        file, rerun with the uploader's state. The time includes the upload."""
        t0, self.sent_at = time.perf_counter(), None
        widget = self.widget("file_uploader", label)
        request_id = uuid.uuid4().hex
        back = BackMsg()
        back.file_urls_request.request_id = request_id
        back.file_urls_request.file_names.append(name)
        back.file_urls_request.session_id = self.session_id
        self._send(back)
        while request_id not in self.responses:
            self._handle(self._receive(), Run())
        urls = self.responses.pop(request_id).file_urls_response
        if urls.error_msg or not urls.file_urls:
            raise ProtocolError(f"no upload URL: {urls.error_msg}")
        target = urls.file_urls[0]
        xsrf = self.http.cookies.get("_streamlit_xsrf", "")
        answer = self.http.put(urljoin(self.url + "/", target.upload_url.lstrip("/")), files={name: (name, data, mime)},
                               headers={"X-Xsrftoken": xsrf} if xsrf else {}, timeout=self.timeout)
        if answer.status_code >= 300:
            raise ProtocolError(f"upload: HTTP {answer.status_code} {answer.text[:200]}")
        widget.state = WidgetState(id=widget.id)
        info = widget.state.file_uploader_state_value.uploaded_file_info.add()
        info.name, info.size, info.file_id = name, len(data), target.file_id
        info.file_urls.CopyFrom(target)
        return self._rerun(fragment_id=widget.fragment_id, t0=t0)

    def widget(self, kind: str, label: str) -> Widget:
        """The widget of type ``kind`` whose label (a component's name) contains ``label``."""
        for w in self.widgets.values():
            if w.kind == kind and label in w.label:
                return w
        raise ProtocolError(f"no {kind} {label!r} on the page; widgets: "
                            + ", ".join(f"{w.kind} {w.label!r}" for w in self.widgets.values()))

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.http.close()

    # --- the protocol -----------------------------------------------------------------------

    def _rerun(self, page_hash: str | None = None, page_name: str = "", fragment_id: str = "",
               t0: float | None = None) -> Run:
        """Send a rerun_script BackMsg as the frontend does; collect the run."""
        if t0 is None:  # not the end of an upload: this BackMsg is the action's first
            t0, self.sent_at = time.perf_counter(), None
        back = BackMsg()
        state = back.rerun_script
        state.page_script_hash = self.page_hash if page_hash is None else page_hash
        state.page_name, state.fragment_id = page_name, fragment_id
        state.widget_states.widgets.extend(w.state for w in self.widgets.values() if w.state is not None)
        state.cached_message_hashes.extend(self.cache)
        info = state.context_info
        info.timezone, info.locale, info.url, info.color_scheme = "UTC", "en-US", self.url, "light"
        self._send(back)
        return self._collect(t0)

    def _collect(self, t0: float) -> Run:
        """Messages until a script run finishes (not one cut short for a rerun); then wait for
        its images. Raises ProtocolError on a compile error or a failed image."""
        run, images = Run(), []
        while True:
            msg = self._receive()
            self._handle(msg, run, images)
            if msg.WhichOneof("type") == "script_finished" and msg.script_finished != EARLY:
                run.script_seconds = time.perf_counter() - self.sent_at
                self.sent_at = None
                break
        for future in images:
            status, size = future.result()
            if status != 200:
                raise ProtocolError(f"image: HTTP {status}")
            run.images, run.image_bytes = run.images + 1, run.image_bytes + size
        run.status, run.seconds = msg.script_finished, time.perf_counter() - t0
        if run.status in FAILED:
            raise ProtocolError("the script did not compile")
        return run

    def _handle(self, msg: ForwardMsg, run: Run, images: list | None = None) -> None:
        """Do what the frontend does with one message; add new elements to ``run``."""
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            new = msg.new_session
            self.page_hash, self.main_hash = new.page_script_hash, new.main_script_hash
            self.fragments, self.seen = list(new.fragment_ids_this_run), set()
            if new.HasField("initialize"):
                self.session_id = new.initialize.session_id
            if new.HasField("config"):
                self.max_age = new.config.max_cached_message_age
        elif kind == "navigation":
            self.pages = {p.page_name: p.page_script_hash for p in msg.navigation.app_pages}
        elif kind == "file_urls_response":
            self.responses[msg.file_urls_response.response_id] = msg
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            run.elements.append(element)
            self._register(element, msg.delta.fragment_id, msg.metadata.active_script_hash)
            if element.WhichOneof("type") == "imgs" and images is not None:
                for img in element.imgs.imgs:
                    if img.url not in self.displayed:
                        self.displayed.add(img.url)
                        images.append(self.pool.submit(self._fetch, img.url))
        elif kind == "script_finished" and msg.script_finished != EARLY:
            self._age_cache()
            # The frontend drops the states of widgets not shown any more: after a fragment
            # run, only among that fragment's widgets.
            self.widgets = {k: w for k, w in self.widgets.items() if k in self.seen or
                            (self.fragments and w.fragment_id not in self.fragments)}

    def _register(self, element: Element, fragment_id: str, script_hash: str) -> None:
        kind = element.WhichOneof("type")
        if kind not in WIDGET_TYPES:
            return
        proto = getattr(element, kind)
        self.seen.add(proto.id)
        if proto.id in self.widgets and not getattr(proto, "set_value", False):
            return  # the frontend keeps what the visitor set
        label = proto.component_name if kind == "bidi_component" else proto.label
        widget = Widget(proto.id, kind, label, fragment_id, script_hash)
        if kind == "slider":
            widget.state = WidgetState(id=proto.id)
            widget.state.double_array_value.data.extend(proto.value if proto.set_value else proto.default)
        elif kind == "checkbox":
            widget.state = WidgetState(id=proto.id, bool_value=proto.value if proto.set_value else proto.default)
        elif kind == "text_input" and (proto.set_value or proto.HasField("default")):
            widget.state = WidgetState(id=proto.id, string_value=proto.value if proto.set_value else proto.default)
        self.widgets[proto.id] = widget

    def _receive(self) -> ForwardMsg:
        """The next ForwardMsg, a ``ref_hash`` replaced by the cached message (with the
        reference's metadata); cacheable messages are cached."""
        try:
            data = self.ws.recv()
        except websocket.WebSocketTimeoutException:
            raise ProtocolError(f"no message within {self.timeout:.0f} s") from None
        msg = ForwardMsg()
        msg.ParseFromString(data)
        if msg.WhichOneof("type") == "ref_hash":
            entry = self.cache.get(msg.ref_hash)
            if entry is None:
                raise ProtocolError(f"cache miss for {msg.ref_hash}")
            entry[1] = self.runs
            self.references += 1
            full = ForwardMsg()
            full.CopyFrom(entry[0])
            full.metadata.CopyFrom(msg.metadata)
            return full
        if msg.metadata.cacheable and msg.hash not in self.cache:
            self.cache[msg.hash] = [msg, self.runs, msg.delta.fragment_id]
        return msg

    def _age_cache(self) -> None:
        """After each finished run, as the frontend: drop entries unused for more than
        ``max_age`` runs; after a fragment run, only that fragment's entries age."""
        self.runs += 1
        for key, (_, used, fragment) in list(self.cache.items()):
            if self.fragments and (not fragment or fragment not in self.fragments):
                continue
            if self.runs - used > self.max_age:
                del self.cache[key]

    def _send(self, back: BackMsg) -> None:
        if self.sent_at is None:
            self.sent_at = time.perf_counter()
        self.ws.send_binary(back.SerializeToString())

    def _get(self, path: str) -> requests.Response:
        answer = self.http.get(self.url + path, timeout=self.timeout)
        if answer.status_code != 200:
            raise ProtocolError(f"GET {path}: HTTP {answer.status_code}")
        return answer

    def _fetch(self, url: str) -> tuple[int, int]:
        """GET one image as the browser's <img> does: (HTTP status, bytes)."""
        answer = self.http.get(urljoin(self.url + "/", url.lstrip("/")), timeout=self.timeout)
        return answer.status_code, len(answer.content)
