"""The app in a real browser: headless Chromium driven by Playwright.

Starts `streamlit run app.py`, visits every page, moves the noise slider, orders digits
from the conditional VAE, and draws on the canvas: a vertical stroke the CNN must read as
"1", and an off-centre, slanted "7".
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from scripts.serve import CHROMIUM, CHROMIUM_ARGS, draw, lab_stack, settle

# A page's first visit loads TensorFlow and models: give expect() as long as page.wait_for.
expect.set_options(timeout=90_000)

PAGES = {"": "Digit Lab", "train": "Train a model", "regularization": "Weight decay",
         "denoising": "Salt, pepper", "latent": "latent space", "draw": "Draw a digit"}

# Skipped without Chromium, except where DIGITLAB_REQUIRE_BROWSER=1 (scripts/run_tests.sh, CI).
if not Path(CHROMIUM).exists():
    if os.environ.get("DIGITLAB_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    pytestmark = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")


@pytest.fixture(scope="module")
def server():
    # The lab as scripts/run_app.sh runs it: Redis, one worker, Streamlit; the shipped cache
    # itself (conftest checks after every test that nothing changed it).
    with lab_stack() as url:
        yield url


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


@pytest.mark.parametrize("path, heading", PAGES.items())
def test_every_page_loads(server, page, path, heading):
    page.goto(f"{server}/{path}")
    settle(page)
    expect(page.get_by_role("heading").filter(has_text=heading).first).to_be_visible()
    expect_no_exception(page)


def test_noise_slider_moves_the_grid(server, page):
    page.goto(f"{server}/denoising")
    settle(page)
    expect(page.get_by_text("Seasoned at noise 0.40")).to_be_visible()
    images = page.get_by_test_id("stImage").locator("img")
    expect(images).to_have_count(40)  # original, seasoned and three denoised rows of 8
    before = [images.nth(i).get_attribute("src") for i in range(40)]
    slider = page.get_by_test_id("stSlider").get_by_role("slider").first
    slider.focus()
    slider.press("ArrowRight")
    settle(page)
    expect(page.get_by_text("Seasoned at noise 0.45")).to_be_visible()
    # The originals stay; every seasoned and denoised digit is a new image.
    for i in range(8):
        expect(images.nth(i)).to_have_attribute("src", before[i])
    for i in range(8, 40):
        expect(images.nth(i)).not_to_have_attribute("src", before[i])
    expect_no_exception(page)


def expect_cnn_reads(server, page, stroke, digit: str) -> None:
    """Draw ``stroke`` on a fresh Draw page; the CNN's answer must become ``digit``
    (on failure, expect's message says what it read instead)."""
    page.goto(f"{server}/draw")
    settle(page)
    draw(page, stroke)
    answer = page.get_by_test_id("stMetric").filter(has_text="CNN").get_by_test_id("stMetricValue")
    expect(answer).to_have_text(digit, timeout=30_000)


def test_vertical_stroke_is_read_as_one(server, page):
    expect_cnn_reads(server, page, [(140, 40), (140, 240)], "1")


def test_off_centre_slanted_seven(server, page):
    # Top bar, then a long slanted down-stroke, all in the canvas' right-hand part.
    expect_cnn_reads(server, page, [(130, 50), (250, 50), (170, 250)], "7")


def test_conditional_vae_draws_the_chosen_digit(server, page):
    page.goto(f"{server}/latent")
    settle(page)
    expect(page.get_by_text("Digits to order")).to_be_visible()
    page.get_by_test_id("stButtonGroup").get_by_text("8", exact=True).click()
    settle(page)
    expect(page.get_by_text("decoded with label 8")).to_be_visible()
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
    page.get_by_role("button", name="Train", exact=True).click()
    # The worker takes the job: the page shows it in the server's job list, then its result.
    expect(page.get_by_text("Jobs on this server")).to_be_visible()
    expect(page.get_by_text("These settings were trained here")).to_be_visible(timeout=180_000)
    expect(page.get_by_text("Validation accuracy", exact=True)).to_have_count(1)
    expect(page.get_by_text("Trained here: the class leaderboard")).to_be_visible()
    expect_no_exception(page)
