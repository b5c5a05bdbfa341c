"""The load benchmark's protocol client (benchmarks/streamlit_protocol.py) against the real
lab: one short session that speaks Streamlit's WebSocket protocol as a browser does.

benchmarks/load.py itself is not imported: locust monkey-patches the standard library for
gevent on import, which would change every later test in the session."""

import pytest

from benchmarks.classroom import digit_pngs
from benchmarks.streamlit_protocol import ProtocolError, Session
from scripts.harness import lab_stack

PAD, UPLOADER, NOISE = "digitlab_sketchpad", "A PNG or JPEG", "digitlab_noise_slider"
ONE = [[0.5, 0.15 + 0.07 * i] for i in range(11)]  # a vertical stroke down the pad's middle: a 1


@pytest.fixture(scope="module")
def lab():
    with lab_stack() as url:
        yield url


def answer(run, tag: str) -> bool:
    """The Draw page's answer block for drawing ``tag``, with the CNN's digit."""
    return f'data-drawing="{tag}"' in run.text() and 'data-model="CNN"' in run.text()


def test_a_session_over_the_websocket(lab):
    session = Session(lab, timeout=120)  # the first visits load TensorFlow and the models
    try:
        first = session.open()
        assert "Cached models" in first.text() and first.of("dataframe") and not first.exceptions()
        assert first.images > 0  # the Overview's sample digits, fetched from /media
        assert {"Overview", "Denoising", "Draw"} <= set(session.pages)
        # The table (over 10 kB) is cached as in the frontend; shown again, the server sends
        # only its hash, and the client restores it.
        again = session.switch_page("Overview")
        assert session.references >= 1 and again.of("dataframe") and again.images == first.images

        page = session.switch_page("Denoising")
        assert "Salt, pepper" in page.text() and not page.exceptions()
        data = page.component(NOISE)  # every noise level of 8 digits, in one payload
        assert data["token"].startswith("0-3-") and len(data["levels"]) == 21 and data["sprite"].startswith("data:image/png")
        assert page.images == 0  # no image requests: the digits are in the sprite
        component = session.widget("bidi_component", NOISE)
        assert component.fragment_id  # the explorer is a fragment: Other digits reruns only it

        again = session.set_component(NOISE, {"other": 1})  # the component's Other digits, pressed
        assert again.component(NOISE)["token"].startswith("1-3-") and not again.exceptions()
        assert "Salt, pepper" not in again.text()  # a fragment run: the page's title is not sent again

        session.switch_page("Draw")
        with pytest.raises(ProtocolError):
            session.widget("bidi_component", NOISE)  # the Denoising page's widgets are gone
        stroke = session.set_component(PAD, {"drawing": {"version": 1, "strokes": [ONE]}})
        assert answer(stroke, "pad-1") and not stroke.exceptions()
        assert "Or upload a photo" not in stroke.text()  # the pad's fragment only

        upload = session.upload(UPLOADER, "digit.png", digit_pngs(1, 0)[0])
        assert answer(upload, "upload") and not upload.exceptions()
    finally:
        session.close()


def test_tampered_component_states_are_ignored(lab):
    # What our components send comes from the visitor's browser: a forged count or cell is
    # no press and no click, never a traceback.
    session = Session(lab, timeout=120)
    try:
        session.open()
        session.switch_page("Denoising")
        for forged in ("abc", [1, 2], 1e308, True):
            run = session.set_component(NOISE, {"other": forged})
            assert not run.exceptions() and run.component(NOISE)["token"].startswith("0-3-"), forged
        session.switch_page("Mistakes")
        shown = session.set_component("digitlab_confusion_matrix", {"cell": [3, 5]})
        assert "True 3, read as 5" in shown.text()
        for forged in (["x", 1], [99, 0], [1], "no", [True, 2]):
            run = session.set_component("digitlab_confusion_matrix", {"cell": forged})
            assert not run.exceptions() and "True 3, read as 5" in run.text(), forged
    finally:
        session.close()
