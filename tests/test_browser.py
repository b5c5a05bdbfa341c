"""The app in a real browser: headless Chromium driven by Playwright.

Starts `streamlit run app.py`, visits every page, moves the noise slider, orders digits
from the conditional VAE, and draws on the canvas: a vertical stroke the CNN must read as
"1", and an off-centre, slanted "7".
"""

import os
import shutil
from pathlib import Path

import pytest

from scripts.serve import CHROMIUM, CHROMIUM_ARGS, ROOT, draw, settle, streamlit_server

PAGES = {"": "Digit Lab", "train": "Train a model", "regularization": "Weight decay",
         "denoising": "Salt, pepper", "latent": "latent space", "draw": "Draw a digit"}

# Skipped without Chromium, except where DIGITLAB_REQUIRE_BROWSER=1 (scripts/run_tests.sh, CI).
if not Path(CHROMIUM).exists():
    if os.environ.get("DIGITLAB_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    pytestmark = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # A copy of the cache, so the Train test's new entry never lands in models_cache/.
    cache = tmp_path_factory.mktemp("browser") / "cache"
    shutil.copytree(ROOT / "models_cache", cache, ignore=shutil.ignore_patterns(".jobs", ".tmp-*"))
    with streamlit_server(env={"DIGITLAB_CACHE": str(cache)}) as url:
        yield url


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
    nav.get_by_text("Latent space").wait_for()
    assert nav.get_by_text("shared").count() == 0


@pytest.mark.parametrize("path, heading", PAGES.items())
def test_every_page_loads(server, page, path, heading):
    page.goto(f"{server}/{path}")
    settle(page)
    page.get_by_role("heading").filter(has_text=heading).first.wait_for()
    assert page.locator("[data-testid='stException']").count() == 0


def test_noise_slider_moves_the_grid(server, page):
    page.goto(f"{server}/denoising")
    settle(page)
    page.get_by_text("Seasoned at noise 0.40").wait_for()
    slider = page.get_by_test_id("stSlider").get_by_role("slider").first
    slider.focus()
    slider.press("ArrowRight")
    settle(page)
    page.get_by_text("Seasoned at noise 0.45").wait_for()
    assert page.locator("[data-testid='stException']").count() == 0


def cnn_reading(server, page, stroke, digit: str) -> str:
    """Draw ``stroke`` on a fresh Draw page; wait for the CNN to show ``digit``; return what it shows."""
    page.goto(f"{server}/draw")
    settle(page)
    draw(page, stroke)
    cnn = page.get_by_test_id("stMetric").filter(has_text="CNN")
    cnn.get_by_test_id("stMetricValue").filter(has_text=digit).wait_for()
    return cnn.get_by_test_id("stMetricValue").inner_text().strip()


def test_vertical_stroke_is_read_as_one(server, page):
    assert cnn_reading(server, page, [(140, 40), (140, 240)], "1") == "1"


def test_off_centre_slanted_seven(server, page):
    # Top bar, then a long slanted down-stroke, all in the canvas' right-hand part.
    assert cnn_reading(server, page, [(130, 50), (250, 50), (170, 250)], "7") == "7"


def test_conditional_vae_draws_the_chosen_digit(server, page):
    page.goto(f"{server}/latent")
    settle(page)
    page.get_by_text("Digits to order").wait_for()
    page.get_by_test_id("stButtonGroup").get_by_text("8", exact=True).click()
    settle(page)
    page.get_by_text("decoded with label 8").wait_for()
    assert page.locator("[data-testid='stException']").count() == 0


def test_train_runs_in_the_background_and_caches(server, page):
    page.goto(f"{server}/train")
    settle(page)
    page.get_by_text("This configuration is cached").wait_for()
    epochs = page.get_by_label("Epochs")
    epochs.fill("1")
    epochs.press("Enter")
    settle(page)
    page.get_by_text("Not cached yet").wait_for()
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("This configuration is cached").wait_for(timeout=180_000)
    assert page.get_by_text("Test accuracy").count() == 1
    assert page.locator("[data-testid='stException']").count() == 0
