"""The app in a real browser: headless Chromium driven by Playwright.

Starts the lab as scripts/run_app.sh does (`streamlit run server.py`), times the first
page, visits every page, moves the noise slider, orders digits from the conditional VAE,
and draws on the pad: a vertical stroke the CNN must read as "1", an off-centre, slanted
"7", strokes starting in each corner and right after Clear, with the mouse on a desktop
and with a finger on a phone.
"""

import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.analysis import compare, mistakes
from core.config import DROPOUT_PAIR, FASHION, default_config
from core.data import registry as datasets
from core.data.registry import class_names
from core.nets import layers
from core.present import runs
from core.store import cache
from core.targets import TARGETS
from scripts.harness import CHROMIUM, CHROMIUM_ARGS, draw, lab_stack, settle

# A page's first visit loads TensorFlow and models: give expect() as long as page.wait_for.
expect.set_options(timeout=90_000)

PAGES = {"": "Digit Lab", "train": "Train a model", "regularization": "Weight decay",
         "denoising": "Salt, pepper", "latent": "latent space", "draw": "Draw a digit",
         "collect": "Collect the class's handwriting", "class_models": "Models on the class's handwriting",
         "inside": "Inside the CNN", "mistakes": "Mistakes", "compare": "Compare runs"}

# Skipped without Chromium, except where DIGITLAB_REQUIRE_BROWSER=1 (scripts/run_tests.sh, CI).
if not Path(CHROMIUM).exists():
    if os.environ.get("DIGITLAB_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    pytestmark = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")


TEACHER_PASSWORD = "a password for the test"


@pytest.fixture(scope="module")
def class_database(tmp_path_factory):
    """The class's database the server uses: a SQLite file this test module can read too."""
    return f"sqlite:///{tmp_path_factory.mktemp('class') / 'class.sqlite'}"


@pytest.fixture(scope="module")
def server(class_database):
    # The lab as scripts/run_app.sh runs it: Redis, one worker, Streamlit; the shipped cache
    # itself (conftest checks after every test that nothing changed it); teacher mode on.
    with lab_stack(env={"DIGITLAB_TEACHER_PASSWORD": TEACHER_PASSWORD,
                        "DIGITLAB_DATABASE_URL": class_database}) as url:
        yield url


def join(page, name: str) -> None:
    """Pick ``name`` in the sidebar's "Your name in this class" unless this browser has one."""
    field = page.get_by_label("Your name in this class", exact=True)
    if field.count():
        field.fill(name)
        page.get_by_role("button", name="Join").click()
        settle(page)
    expect(page.get_by_test_id("stSidebar").get_by_text(f"You are {name} in this class.")).to_be_visible()


def expect_no_exception(page) -> None:
    """No exception box in the page: waits (expect's timeout) for late ones to go, says how many stay."""
    expect(page.get_by_test_id("stException")).to_have_count(0)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        tab.set_default_timeout(90_000)
        yield tab
        browser.close()


def test_direct_link_on_a_fresh_server_keeps_the_navigation(server, page):
    # Must run first: the server has served no page yet.
    page.goto(f"{server}/denoising")
    settle(page)
    page.get_by_role("heading").filter(has_text="Salt, pepper").first.wait_for()
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_text("Latent space")).to_be_visible()
    expect(nav.get_by_text("shared")).to_have_count(0)


def test_first_page_after_a_server_start(page):
    # A server of its own, asked for its first page the moment it is healthy, while
    # server.py's warm-up is still loading TensorFlow and the models.
    tab = page.context.browser.new_page(viewport={"width": 1400, "height": 900})
    with lab_stack() as url:
        start = time.perf_counter()
        tab.goto(url)
        tab.get_by_role("heading").filter(has_text="Digit Lab").first.wait_for()
        tab.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
        seconds = time.perf_counter() - start
    tab.close()
    print(f"first page after the server start: {seconds:.1f} s")
    # benchmarks/browser.py measures it against the target; here twice the target, as a
    # busy CI machine may be slower. Without server.py's warm-up it took 7-12 s.
    assert seconds <= 2 * TARGETS["first_page_s"].value


@pytest.mark.parametrize("path, heading", PAGES.items())
def test_every_page_loads(server, page, path, heading):
    page.goto(f"{server}/{path}")
    settle(page)
    expect(page.get_by_role("heading").filter(has_text=heading).first).to_be_visible()
    expect_no_exception(page)


@pytest.mark.parametrize("path, shown", [("train/x", "/train/x"), ("no-such-page/a/b", "/no-such-page/a/b"),
                                         ("nope", "does not seem to exist")])
def test_an_unknown_path_says_page_not_found(server, page, path, shown):
    # With a second "/" Streamlit served its index.html, whose relative script URLs then
    # failed under /train/: a blank white page. Now server.py sends it to the main page,
    # which says so; a one-segment path gets Streamlit's own "Page not found".
    page.goto(f"{server}/{path}")
    settle(page)
    expect(page.get_by_text("Page not found").first).to_be_visible()
    expect(page.get_by_text(shown, exact=False).first).to_be_visible()
    expect(page.get_by_role("heading").filter(has_text="Digit Lab").first).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav").get_by_text("Train", exact=True)).to_be_visible()
    expect_no_exception(page)
    if "/" in path:
        expect(page).to_have_url(f"{server}/")  # the parameter is spent: a reload shows no sentence


def drag_messages(page) -> list:
    """Every message the page's WebSocket sends to the server from now on."""
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    return sent


def pixels(page, selector: str) -> str:
    """A canvas's picture as a data URL (inside a component's shadow root)."""
    return page.locator(selector).first.evaluate("(c) => c.toDataURL()")


def test_noise_slider_swaps_frames_while_dragged_without_asking_the_server(server, page):
    sent = drag_messages(page)
    page.goto(f"{server}/denoising")
    settle(page)
    explorer = page.locator(".noise-explorer")
    expect(explorer).to_have_attribute("data-token", re.compile(r"^0-3-"))
    expect(explorer.get_by_text("Seasoned at noise 0.40")).to_be_visible()
    expect(explorer.locator("canvas")).to_have_count(40)  # original, seasoned and three denoised rows of 8
    seasoned = ".noise-explorer [data-row='seasoned'] canvas"
    original = pixels(page, ".noise-explorer [data-row='original'] canvas")
    slider = explorer.locator("input[type=range]")
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 0.4 * box["width"], y)
    page.mouse.down()
    before = len(sent)
    seen = {}
    for fraction in (0.5, 0.65, 0.8, 0.95):
        page.mouse.move(box["x"] + fraction * box["width"], y, steps=4)
        page.wait_for_timeout(100)
        seen[explorer.get_attribute("data-level")] = pixels(page, seasoned)
    during = len(sent) - before
    page.mouse.up()
    # The digits changed at several positions before the button was released, and the drag
    # sent nothing to the server.
    assert len(seen) >= 3 and len(set(seen.values())) == len(seen), list(seen)
    assert during == 0, f"{during} messages to the server during the drag"
    assert pixels(page, ".noise-explorer [data-row='original'] canvas") == original
    # The keyboard moves it as on any slider, and a level shows the same pixels each time.
    slider.focus()
    level = float(explorer.get_attribute("data-level"))
    slider.press("ArrowLeft")
    expect(explorer).to_have_attribute("data-level", f"{level - 0.05:.2f}")
    slider.press("ArrowRight")
    assert pixels(page, seasoned) == seen[f"{level:.2f}"]
    # Other digits asks the server once, for a new set.
    page.get_by_role("button", name="Other digits").click()
    expect(explorer).to_have_attribute("data-token", re.compile(r"^1-3-"))
    expect_no_exception(page)


def latent_map(tab, server: str):
    """Open Latent space; its map component (once its frames are in) and the map's canvas, in view."""
    tab.goto(f"{server}/latent")
    settle(tab)
    view = tab.locator(".latent-explorer[data-mode='map']")
    expect(view).to_have_attribute("data-token", re.compile("vae-"))
    scatter = view.locator("canvas.scatter")
    scatter.scroll_into_view_if_needed()
    return view, scatter


def test_latent_map_decodes_under_the_pointer_without_asking_the_server(server, page):
    sent = drag_messages(page)
    view, scatter = latent_map(page, server)
    box = scatter.bounding_box()
    before = len(sent)
    seen = {}
    for fx, fy in ((0.3, 0.3), (0.5, 0.5), (0.7, 0.4), (0.8, 0.8)):
        page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"], steps=3)
        page.wait_for_timeout(100)
        seen[view.get_attribute("data-z")] = pixels(page, ".latent-explorer .decoded canvas")
    assert len(seen) == 4 and len(set(seen.values())) == 4, list(seen)
    assert len(sent) == before, "the map sent messages to the server while hovered"
    morph = page.locator(".latent-explorer[data-mode='morph']")
    expect(morph).to_have_attribute("data-token", re.compile("-41"))
    morph.locator("input[type=range]").focus()
    start = pixels(page, ".latent-explorer[data-mode='morph'] .middle canvas")
    morph.locator("input[type=range]").press("End")
    expect(morph).to_have_attribute("data-t", "1.000")
    assert pixels(page, ".latent-explorer[data-mode='morph'] .middle canvas") != start
    assert len(sent) == before
    expect_no_exception(page)


def cnn_answer(page):
    return page.locator("[data-model='CNN'] .dl-digit")


def expect_cnn_reads(server, page, stroke, digit: str) -> None:
    """Draw ``stroke`` on a fresh Draw page; the CNN's answer must become ``digit``
    (on failure, expect's message says what it read instead)."""
    page.goto(f"{server}/draw")
    settle(page)
    draw(page, stroke)
    expect(page.locator("[data-drawing='pad-1']")).to_be_visible(timeout=30_000)
    expect(cnn_answer(page)).to_have_text(digit)


def test_vertical_stroke_is_read_as_one(server, page):
    expect_cnn_reads(server, page, [(0.5, 0.14), (0.5, 0.86)], "1")


def test_off_centre_slanted_seven(server, page):
    # Top bar, then a long slanted down-stroke, all in the pad's right-hand part.
    expect_cnn_reads(server, page, [(0.46, 0.18), (0.89, 0.18), (0.61, 0.89)], "7")


def test_inside_page_follows_a_drawing(server, page):
    page.goto(f"{server}/inside")
    settle(page)
    expect(page.get_by_text("Draw a digit on the pad")).to_be_visible()
    draw(page, [(0.5, 0.14), (0.5, 0.86)])
    expect(page.locator("[data-drawing='inside-pad-1']")).to_be_visible(timeout=30_000)
    expect(cnn_answer(page)).to_have_text("1")
    for shape in ("24×24×32", "4×4×64"):
        expect(page.get_by_text(shape)).to_be_visible()
    expect(page.get_by_text("Integrated gradients", exact=True)).to_be_visible()
    expect_no_exception(page)


# Strokes that start in a corner of the pad (its top-right corner is where the old
# canvas's invisible toolbar took presses) and run towards the middle.
CORNERS = {"top-left": [(0.03, 0.03), (0.4, 0.4)], "top-right": [(0.97, 0.03), (0.6, 0.4)],
           "bottom-left": [(0.03, 0.97), (0.4, 0.6)], "bottom-right": [(0.97, 0.97), (0.6, 0.6)]}


def test_no_stroke_is_lost_in_any_corner_or_right_after_clear(server, page):
    page.goto(f"{server}/draw")
    settle(page)
    for n, (corner, stroke) in enumerate(CORNERS.items(), start=1):
        draw(page, stroke)
        # The answer names the drawing it classified by its number of strokes.
        expect(page.locator(f"[data-drawing='pad-{n}']"), f"stroke from the {corner} corner").to_be_visible()
    page.get_by_role("button", name="Clear").click()
    draw(page, [(0.5, 0.14), (0.5, 0.86)])  # at once, without waiting for the page
    expect(page.locator("[data-drawing='pad-1']")).to_be_visible()
    expect(cnn_answer(page)).to_have_text("1")
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_text("Draw a digit on the pad")).to_be_visible()
    expect_no_exception(page)


def touch_draw(tab, points) -> None:
    """One stroke with a finger through ``points`` (fractions of the pad's side)."""
    box = tab.locator(".sketchpad canvas").bounding_box()
    at = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]
    cdp = tab.context.new_cdp_session(tab)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": at[0][0], "y": at[0][1]}]})
    for (ax, ay), (bx, by) in zip(at, at[1:]):
        for t in range(1, 11):
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [
                {"x": ax + (bx - ax) * t / 10, "y": ay + (by - ay) * t / 10}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


@pytest.mark.parametrize("width, height, phone", [(1024, 768, False), (390, 844, True)])
def test_pad_and_answer_fit_the_screen(server, page, width, height, phone):
    context = page.context.browser.new_context(viewport={"width": width, "height": height},
                                               is_mobile=phone, has_touch=phone)
    try:
        tab = context.new_page()
        tab.set_default_timeout(90_000)
        tab.goto(f"{server}/draw")
        settle(tab)
        pad = tab.locator(".sketchpad canvas")
        expect(pad).to_be_in_viewport(ratio=1.0)
        side = pad.bounding_box()["width"]
        assert 200 <= side <= 400, f"pad {side:.0f} px a side"
        stroke = [(0.5, 0.14), (0.5, 0.86)]
        touch_draw(tab, stroke) if phone else draw(tab, stroke)
        expect(tab.locator("[data-drawing='pad-1']")).to_be_visible(timeout=30_000)
        # Seen without scrolling: the whole pad and the CNN's big answer.
        expect(pad).to_be_in_viewport(ratio=1.0)
        expect(cnn_answer(tab)).to_be_in_viewport(ratio=1.0)
        expect(cnn_answer(tab)).to_have_text("1")
    finally:
        context.close()


def test_conditional_vae_draws_the_chosen_digit(server, page):
    page.goto(f"{server}/latent")
    settle(page)
    expect(page.get_by_text("Digits to order")).to_be_visible()
    page.get_by_test_id("stButtonGroup").get_by_text("8", exact=True).click()
    settle(page)
    expect(page.get_by_text("decoded with label 8")).to_be_visible()
    # New samples: the next 16 of the 8 sets in the browser, then 8 more from the server.
    samples = page.locator(".latent-explorer[data-mode='samples']")
    expect(samples).to_have_attribute("data-batch", "8-0:0")
    for shown in range(1, 8):
        samples.get_by_role("button", name="New samples").click()
        expect(samples).to_have_attribute("data-batch", f"8-0:{shown}")
    samples.get_by_role("button", name="New samples").click()
    expect(samples).to_have_attribute("data-batch", "8-1:0")
    expect_no_exception(page)


def test_train_through_the_queue(server, page):
    page.goto(f"{server}/train")
    settle(page)
    expect(page.get_by_text("These settings are shipped with the lab")).to_be_visible()
    epochs = page.get_by_label("Epochs")
    epochs.fill("1")
    epochs.press("Enter")
    settle(page)
    expect(page.get_by_text("Not trained yet")).to_be_visible()
    join(page, "Ada")
    page.get_by_role("button", name="Train", exact=True).click()
    # The worker takes the job: the page shows it in the server's job list, then its result.
    expect(page.get_by_text("Jobs on this server")).to_be_visible()
    expect(page.get_by_text("These settings were trained here")).to_be_visible(timeout=180_000)
    expect(page.get_by_text("Validation accuracy", exact=True)).to_have_count(1)
    expect(page.get_by_text("Trained here: the class leaderboard")).to_be_visible()
    expect_no_exception(page)


def test_a_name_survives_a_reload_and_a_new_tab_and_cancel_is_still_there(server, page):
    page.goto(f"{server}/train")
    settle(page)
    join(page, "Ada")
    page.get_by_role("combobox", name="Model").click()
    page.get_by_role("option", name="Dense 500-300 with L2 weight decay").click()
    settle(page)
    epochs = page.get_by_label("Epochs")
    epochs.fill("40")  # about 1.5 min of the worker's time: a long job, under the 5-minute cap
    epochs.press("Enter")
    settle(page)
    page.get_by_role("button", name="Train", exact=True).click()
    settle(page)
    expect(page.get_by_text("Queued by you.")).to_be_visible()
    page.reload()
    settle(page)
    expect(page.get_by_test_id("stSidebar").get_by_text("You are Ada in this class.")).to_be_visible()
    # The reloaded page opens on the same settings (kept in its address); Ada's job is in the
    # list, hers to cancel.
    row = page.get_by_test_id("stHorizontalBlock").filter(has_text="queued by you ·")
    expect(row.get_by_role("button", name="Cancel")).to_be_visible()
    row.get_by_role("button", name="Show").click()
    settle(page)
    expect(page.get_by_text("Queued by you.")).to_be_visible()
    # A new tab of the same browser is Ada too; another browser cannot take the name.
    # (The fixture's page owns its context: a new tab is a context with the same cookies.)
    same_browser = page.context.browser.new_context(storage_state=page.context.storage_state())
    tab = same_browser.new_page()
    tab.goto(f"{server}/train")
    settle(tab)
    expect(tab.get_by_test_id("stSidebar").get_by_text("You are Ada in this class.")).to_be_visible()
    same_browser.close()
    other = page.context.browser.new_context()
    stranger = other.new_page()
    stranger.goto(f"{server}/train")
    settle(stranger)
    stranger.get_by_label("Your name in this class", exact=True).fill("ada")
    stranger.get_by_role("button", name="Join").click()
    expect(stranger.get_by_text("Someone in the class is using the name")).to_be_visible()
    other.close()
    page.get_by_role("button", name="Cancel").first.click()
    expect(page.get_by_text("The last run of these settings was cancelled.")).to_be_visible()
    expect_no_exception(page)


def test_the_teacher_page_is_locked_until_the_password(server, page):
    context = page.context.browser.new_context()
    teacher = context.new_page()
    teacher.goto(f"{server}/teacher")
    settle(teacher)
    expect(teacher.get_by_text("Every job")).to_have_count(0)
    field = teacher.get_by_label("The teacher's password")
    field.fill("a guess")
    teacher.get_by_role("button", name="Unlock").click()
    expect(teacher.get_by_text("That is not the teacher's password.")).to_be_visible()
    teacher.get_by_label("The teacher's password").fill(TEACHER_PASSWORD)
    teacher.get_by_role("button", name="Unlock").click()
    expect(teacher.get_by_role("heading", name="Every job")).to_be_visible()
    expect(teacher.get_by_role("button", name="Pause the queue")).to_be_visible()
    expect_no_exception(teacher)
    context.close()


def test_a_tap_on_a_phone_selects_its_cell_at_once(server, page):
    # A plotly chart's point selection lagged one tap behind on a touch screen: the first tap
    # did nothing, each later one showed the cell tapped before it.
    phone = page.context.browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                                             is_mobile=True)
    try:
        tab = phone.new_page()
        tab.set_default_timeout(90_000)
        tab.goto(f"{server}/mistakes")
        settle(tab)
        heading = tab.locator(".st-key-cell-digits").get_by_role("heading")
        for true, read in ((3, 5), (7, 2), (9, 4)):
            cell = tab.locator(f".confusion [data-cell='{true}-{read}']")
            cell.scroll_into_view_if_needed()
            cell.tap()
            settle(tab)
            expect(heading).to_contain_text(f"True {true}, read as {read}:")
        # The latent map decodes where a finger touches it, at the first tap.
        view, scatter = latent_map(tab, server)
        before = view.get_attribute("data-z")
        box = scatter.bounding_box()
        tab.touchscreen.tap(box["x"] + 0.8 * box["width"], box["y"] + 0.2 * box["height"])
        expect(view).not_to_have_attribute("data-z", before)
    finally:
        phone.close()


def test_mistakes_cell_click_shows_its_digits(server, page, test_set):
    import numpy as np


    # The cell to click: the CNN's second most frequent mistake (the page opens on the first).
    analysis = mistakes.analyse(mistakes.test_predictions(cache.load(default_config("cnn")).model, test_set[0]),
                                test_set[1])
    errors = np.where(np.eye(10, dtype=bool), 0, analysis.matrix)
    first = np.unravel_index(np.argmax(errors), errors.shape)
    errors[first] = 0
    true, read = np.unravel_index(np.argmax(errors), errors.shape)
    count = errors[true, read]
    assert count > 0
    page.goto(f"{server}/mistakes")
    settle(page)
    cell = page.locator(".st-key-cell-digits")
    expect(cell.get_by_role("heading")).to_contain_text(f"True {first[0]}, read as {first[1]}:")
    # One button per cell (pages/components/confusion_matrix.*).
    page.locator(f".confusion [data-cell='{true}-{read}']").click()
    settle(page)
    expect(page.locator(".confusion")).to_have_attribute("data-selected", f"{true}-{read}")
    expect(cell.get_by_role("heading")).to_have_text(f"True {true}, read as {read}: {count} digit"
                                                     + ("s" if count > 1 else ""))
    expect(cell.get_by_test_id("stImage").locator("img")).to_have_count(int(count))
    expect(cell.get_by_text(f"true {true} · read {read} · ").first).to_be_visible()
    expect_no_exception(page)


def test_compare_preset_click_overlays_its_runs(server, page):

    page.goto(f"{server}/compare")
    settle(page)
    expect(page.get_by_role("button", name="With and without dropout")).to_be_enabled()
    page.get_by_role("button", name="Weight decay on and off").click()
    settle(page)
    expect(page.get_by_role("heading", name="Weight decay on and off")).to_be_visible()
    expect(page.get_by_text("These runs differ in L2 weight decay")).to_be_visible()
    # One legend entry per run, plus what solid and dashed mean.
    for config in compare.preset("weight_decay").configs:
        expect(page.locator(".js-plotly-plot .legendtext", has_text=runs.run_label(config))).to_have_count(1)
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    expect_no_exception(page)



def test_a_figure_downloads_as_png_from_plotlys_own_button(server, page, tmp_path):
    # plotly.js draws the PNG in the browser from the copy Streamlit serves: no network, no server work.
    page.goto(f"{server}/compare?preset=weight_decay")
    settle(page)
    chart = page.locator(".js-plotly-plot").first
    chart.hover()
    with page.expect_download() as download:
        chart.locator(".modebar-btn[data-title='Download plot as a PNG']").click()
    assert download.value.suggested_filename == "compare-runs-curves.png"
    saved = tmp_path / "curves.png"
    download.value.save_as(saved)
    data = saved.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


# Train page: your own network
def test_own_network_preset_shows_its_shapes_and_parameters(server, page):

    page.goto(f"{server}/train")
    settle(page)
    page.get_by_test_id("stSelectbox").filter(has_text="Model").click()
    page.get_by_role("option", name="Your own network").click()
    settle(page)
    # The course's 64-64 to start with, measured before anything trains.
    expect(page.get_by_text("55,050 parameters")).to_be_visible()
    page.get_by_test_id("stSelectbox").filter(has_text="Start from a preset").click()
    page.get_by_role("option", name="The lab's CNN").click()
    settle(page)
    expect(page.get_by_text("188,746 parameters")).to_be_visible()
    summary = page.get_by_test_id("stExpander").filter(has_text="Model summary")
    for row in layers.walk(layers.PRESETS["The lab's CNN"]):
        expect(summary.get_by_text(layers.shape_text(row["output shape"]), exact=True).first).to_be_attached()
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_visible()
    expect_no_exception(page)


# Inside/Overview: data sets
def test_fashion_mnist_beside_mnist_and_inside_its_cnn(server, page):

    page.goto(server)
    settle(page)
    expect(page.get_by_role("heading", name="The same network, a harder data set")).to_be_visible()
    expect(page.get_by_text("Fashion-MNIST clothes", exact=True)).to_be_visible()
    expect(page.get_by_text("Ankle boot", exact=True)).to_be_visible()
    expect(page.get_by_test_id("stTable")).to_have_count(3)  # MNIST, Fashion-MNIST, benchmark
    expect_no_exception(page)
    # On a phone the two data sets stack and their tables fit the screen.
    phone = page.context.browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                             has_touch=True)
    try:
        tab = phone.new_page()
        tab.set_default_timeout(90_000)
        tab.goto(server)
        settle(tab)
        for i in range(2):
            box = tab.get_by_test_id("stTable").nth(i).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    finally:
        phone.close()
    page.goto(f"{server}/inside")
    settle(page)
    page.get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name="The same CNN on Fashion-MNIST clothes").click()
    settle(page)
    expect(page.get_by_text("drawing clothes is not the point", exact=False)).to_be_visible()
    expect(page.locator(".sketchpad")).to_have_count(0)
    expect(page.get_by_text("Test image 0, labelled Ankle boot")).to_be_visible()
    answer = page.locator("[data-drawing='test-0'] [data-answer]")
    expect(answer).to_be_visible()
    assert answer.get_attribute("data-answer") in class_names("fashion_mnist")
    for shape in ("24×24×32", "4×4×64"):
        expect(page.get_by_text(shape)).to_be_visible()
    expect(page.get_by_role("heading", name="The dense 64-64 net's first layer on Fashion-MNIST clothes")) \
        .to_be_visible()
    expect_no_exception(page)


# Mistakes/Compare: data sets and dropout
def test_dropout_preset_and_fashion_mistakes(server, page):

    page.goto(f"{server}/compare")
    settle(page)
    page.get_by_role("button", name="With and without dropout").click()
    settle(page)
    expect(page.get_by_role("heading", name="With and without dropout")).to_be_visible()
    expect(page.get_by_text("These runs differ in layers")).to_be_visible()
    expect(page.get_by_text("Training minus validation accuracy at the last epoch")).to_be_visible()
    # Two runs and the two line styles in the legend; the long names wrap onto lines (tspans).
    legend = page.locator(".js-plotly-plot .legendtext")
    expect(legend).to_have_count(4)
    expect(legend.nth(0)).to_contain_text(runs.layers_text(DROPOUT_PAIR[0].layers))
    expect(legend.nth(1)).to_contain_text("dropout 0.35")
    expect_no_exception(page)
    # On a phone the wrapped names stay inside the screen.
    phone = page.context.browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.set_default_timeout(90_000)
    phone.goto(f"{server}/compare")
    settle(phone)
    phone.get_by_role("button", name="With and without dropout").click()
    settle(phone)
    legend = phone.locator(".js-plotly-plot .legendtext")
    expect(legend).to_have_count(4)
    for i in range(2):
        box = legend.nth(i).bounding_box()
        assert box["x"] + box["width"] <= 390, box
    phone.close()
    # Mistakes on the Fashion-MNIST CNN: class names on the axes, the cell's heading and captions.
    page.goto(f"{server}/mistakes")
    settle(page)
    page.get_by_test_id("stSelectbox").filter(has_text="Classifier").click()
    page.keyboard.type(runs.run_label(FASHION[0]))
    page.keyboard.press("Enter")
    settle(page)
    names = datasets.class_names("fashion_mnist")
    expect(page.locator(".confusion .head.col", has_text="Ankle boot")).to_have_count(1)
    heading = page.locator(".st-key-cell-digits").get_by_role("heading")
    expect(heading).to_contain_text(" images")
    assert any(heading.inner_text().startswith(f"True {name}, ") for name in names), heading.inner_text()
    first = page.locator(".st-key-cell-digits").get_by_test_id("stImage").locator("img").first
    expect(first).to_be_visible()
    assert first.bounding_box()["width"] == 128  # not stretched to its long caption
    expect(page.get_by_text("Per-class accuracy")).to_be_visible()
    expect_no_exception(page)


def save_drawings(tab, server: str, name: str, count: int) -> list[str]:
    """As student ``name`` in ``tab``: draw and save ``count`` drawings of whatever the
    Collect page asks for (a rough stroke each: the label is what is asked); the labels asked."""
    tab.goto(f"{server}/collect")
    settle(tab)
    # The sidebar's name form is drawn with the page: wait for the page, then join.
    expect(tab.get_by_text("Pick your name in the class (in the sidebar) to start")).to_be_visible()
    tab.get_by_label("Your name in this class", exact=True).fill(name)
    tab.get_by_role("button", name="Join").click()
    settle(tab, 1000)
    join(tab, name)
    asked = []
    for _ in range(count):
        # .last: while the page reruns, Streamlit may still show the previous run's copy for a moment.
        heading = tab.get_by_role("heading", name=re.compile(r"^Draw an? ")).last
        expect(heading).to_be_visible()
        label = heading.inner_text().split()[-1]
        draw(tab, [(0.3, 0.2), (0.7, 0.25), (0.45, 0.85)])
        expect(tab.get_by_text("What the models will read (28×28)").last).to_be_visible()
        tab.get_by_role("button", name="Save").last.click()
        expect(tab.get_by_text(re.compile(rf"Saved your {re.escape(label)} \(sample #\d+\)"))).to_be_visible()
        settle(tab)  # the whole page reruns after a save: let its old elements go before the next drawing
        asked.append(label)
    return asked


def test_two_students_collect_and_the_teacher_deletes_one_and_exports(server, page, class_database, monkeypatch,
                                                                       tmp_path):
    import numpy as np

    from core.classset import db, samples

    browser = page.context.browser
    ada_context, bo_context, teacher_context = (browser.new_context() for _ in range(3))
    ada, bo, teacher = (c.new_page() for c in (ada_context, bo_context, teacher_context))
    assert save_drawings(ada, server, "Noor", 2) == ["0", "1"]  # balanced: the classes the set lacks, in order
    assert save_drawings(bo, server, "Kofi", 2) == ["2", "3"]
    # Kofi sees his own drawings and the class's counts, not Noor's drawings.
    expect(bo.get_by_text("4 drawings from 2 students; 2 of them are yours.")).to_be_visible()
    expect(bo.get_by_role("heading", name="The class's drawings")).to_have_count(0)
    teacher.goto(f"{server}/teacher")
    settle(teacher)
    teacher.get_by_label("The teacher's password").fill(TEACHER_PASSWORD)
    teacher.get_by_role("button", name="Unlock").click()
    expect(teacher.get_by_role("heading", name="The class's handwriting")).to_be_visible()
    expect(teacher.get_by_text("4 drawings by 2 students")).to_be_visible()
    monkeypatch.setenv(db.DATABASE_ENV_VAR, class_database)
    db.dispose()
    before = samples.load()
    bo_first = int(before.ids[before.students == "Kofi"][0])
    choose = teacher.get_by_role("combobox", name="Drawings of")
    choose.click()
    choose.fill("2")
    choose.press("Enter")
    settle(teacher)
    teacher.get_by_role("button", name="Delete", exact=True).click()  # the one drawing of a 2: Kofi's first
    expect(teacher.get_by_text(f"Sample #{bo_first} is deleted.")).to_be_visible()
    expect(teacher.get_by_text("3 drawings by 2 students")).to_be_visible()
    with teacher.expect_download() as download:
        teacher.get_by_role("button", name="Download the set (.npz, like MNIST)").click()
    path = tmp_path / "class-digits.npz"
    download.value.save_as(path)
    after = samples.load()
    assert len(after) == 3 and bo_first not in after.ids.tolist()
    with np.load(path, allow_pickle=False) as exported:
        np.testing.assert_array_equal(exported["images"], after.images)
        assert exported["classes"][exported["labels"]].tolist() == after.labels.tolist() == ["0", "1", "3"]
        assert exported["students"].tolist() == ["Noor", "Noor", "Kofi"]
    for tab in (ada, bo, teacher):
        expect_no_exception(tab)
    for context in (ada_context, bo_context, teacher_context):
        context.close()
    db.dispose()



# ---------------------------------------------------------------------------------------
# Links that reopen a view (core.present.links) and every page's "Copy link"

def new_tab(page, **options):
    """A tab in a context of its own: a new browser session, as a shared link opens."""
    context = page.context.browser.new_context(**{"viewport": {"width": 1400, "height": 1000}, **options})
    tab = context.new_page()
    tab.set_default_timeout(90_000)
    return context, tab


def test_a_shared_link_opens_the_same_view_in_projector_mode(server, page, test_set):
    context, tab = new_tab(page)
    try:
        # Inside the CNN on test digit 123, as a class on the projector sees it.
        link = f"{server}/inside?index=123&mode=class"
        tab.goto(link)
        settle(tab)
        expect(tab.get_by_text(f"Test digit 123, labelled {test_set[1][123]}")).to_be_visible()
        expect(tab.get_by_role("radiogroup", name="Pick it by").get_by_role("radio", name="index")).to_be_checked()
        expect(tab.get_by_label("Index in the 10,000 test digits")).to_have_value("123")
        expect(tab.locator("html")).to_have_css("font-size", "22px")  # projector mode
        expect(tab).to_have_url(link)
        # Denoising at noise 0.55 on the third set of digits, projector-sized (4 x 28 px).
        link = f"{server}/denoising?noise=0.55&digits=2&mode=class"
        tab.goto(link)
        settle(tab)
        explorer = tab.locator(".noise-explorer")
        expect(explorer).to_have_attribute("data-token", re.compile(r"^2-4-"))
        expect(explorer).to_have_attribute("data-level", "0.55")
        expect(explorer.get_by_text("Seasoned at noise 0.55")).to_be_visible()
        expect(tab).to_have_url(link)
        # The slider, let go elsewhere, takes the address with it; the other parameters stay.
        explorer.locator("input[type=range]").focus()
        explorer.locator("input[type=range]").press("ArrowRight")
        expect(tab).to_have_url(re.compile(r"[?&]noise=0\.60(&|$)"))
        expect(tab).to_have_url(re.compile(r"[?&]mode=class(&|$)"))
        expect(tab).to_have_url(re.compile(r"[?&]digits=2(&|$)"))
        # A tampered link: the defaults, one sentence, no traceback.
        tab.goto(f"{server}/denoising?noise=1e999&digits=" + "9" * 5000)
        settle(tab)
        expect(tab.get_by_text("This page's address named settings it cannot use (noise level, digits), so those "
                               "keep their defaults.")).to_be_visible()
        expect(explorer).to_have_attribute("data-level", "0.40")
        expect(tab).to_have_url(f"{server}/denoising")
        expect_no_exception(tab)
    finally:
        context.close()


def test_a_latent_point_link_opens_the_map_there_and_a_click_keeps_another(server, page):
    context, tab = new_tab(page)
    try:
        tab.goto(f"{server}/latent?z1=1.25&z2=-0.80&from=123")
        settle(tab)
        view = tab.locator(".latent-explorer[data-mode='map']")
        expect(view).to_have_attribute("data-z", "1.250,-0.800")
        expect(tab.locator(".latent-explorer[data-mode='morph'] .from figcaption")).to_have_text("#123")
        scatter = view.locator("canvas.scatter")
        scatter.scroll_into_view_if_needed()
        box = scatter.bounding_box()
        tab.mouse.click(box["x"] + 0.7 * box["width"], box["y"] + 0.3 * box["height"])
        x, y = (float(v) for v in view.get_attribute("data-z").split(","))
        expect(tab).to_have_url(re.compile(rf"[?&]z1={x:.2f}&z2={y:.2f}(&|$)"))
        expect(tab).to_have_url(re.compile(r"[?&]from=123(&|$)"))
        expect_no_exception(tab)
    finally:
        context.close()


def test_copy_link_copies_the_current_view_and_reopens_it(server, page):
    context, tab = new_tab(page)
    try:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
        tab.goto(f"{server}/mistakes")
        settle(tab)
        # A click on a cell (a fragment's rerun) changes the view; the button copies the link as it is now.
        tab.locator(".confusion [data-cell='3-3']").click()
        settle(tab)
        expect(tab).to_have_url(f"{server}/mistakes?true=3&read=3")
        button = tab.get_by_role("button", name="Copy link")
        expect(button).to_be_in_viewport()
        button.click()
        expect(tab.get_by_role("button", name="Link copied")).to_be_visible()
        copied = tab.evaluate("navigator.clipboard.readText()")
        assert copied == f"{server}/mistakes?true=3&read=3"
        # The copied link, opened in a new session, shows the same cell.
        other_context, other = new_tab(page)
        try:
            other.goto(copied)
            settle(other)
            expect(other.locator(".confusion")).to_have_attribute("data-selected", "3-3")
            expect(other.locator(".st-key-cell-digits").get_by_role("heading")).to_contain_text("True 3, read right:")
            expect_no_exception(other)
        finally:
            other_context.close()
    finally:
        context.close()


def test_on_a_phone_the_open_sidebar_closes_under_its_own_button(server, page):
    # The open sidebar lies over the page, its close button where Copy link sits: Copy link hides meanwhile.
    context, tab = new_tab(page, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        tab.goto(f"{server}/lessons")
        settle(tab)
        tab.get_by_test_id("stExpandSidebarButton").click()
        close = tab.get_by_test_id("stSidebarCollapseButton")
        expect(close).to_be_visible()
        expect(tab.get_by_role("button", name="Copy link")).to_be_hidden()
        close.locator("button").click()
        expect(tab.get_by_role("button", name="Copy link")).to_be_visible()
    finally:
        context.close()


def test_copy_link_without_a_clipboard_shows_the_link_selected(server, page):
    # Over plain http on a class server's network address navigator.clipboard is undefined.
    context, tab = new_tab(page, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        context.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
        tab.goto(f"{server}/latent?digit=8")
        settle(tab)
        expect(tab.locator(".latent-explorer[data-mode='samples']")).to_have_attribute("data-token", re.compile("^8-"))
        tab.get_by_role("button", name="Copy link").click()
        root = tab.locator(".copy-link")
        expect(root).to_have_attribute("data-copied", re.compile("selection|shown"))
        expect(root).to_have_attribute("data-link", f"{server}/latent?digit=8")
        if root.get_attribute("data-copied") == "shown":  # the older way did not copy either: the link, selected
            expect(root.locator("input")).to_have_value(f"{server}/latent?digit=8")
            assert root.locator("input").evaluate("(f) => f.selectionEnd - f.selectionStart") == len(
                f"{server}/latent?digit=8")
        expect_no_exception(tab)
    finally:
        context.close()
