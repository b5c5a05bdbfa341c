"""The app in a real browser: headless Chromium driven by Playwright.

Starts `streamlit run app.py`, visits every page, moves the noise slider and draws a
vertical stroke on the canvas, expecting the CNN to read "1".
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("DIGITLAB_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = {"": "Digit Lab", "train": "Train a model", "regularization": "Weight decay",
         "denoising": "Salt, pepper", "latent": "latent space", "draw": "Draw a digit"}

pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists(),
                                reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # A copy of the cache, so the Train test's new entry never lands in models_cache/.
    cache = tmp_path_factory.mktemp("browser") / "cache"
    shutil.copytree(ROOT / "models_cache", cache, ignore=shutil.ignore_patterns(".jobs", ".tmp-*"))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "DIGITLAB_CACHE": str(cache)})
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("streamlit did not become healthy in 90 s")
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        tab.set_default_timeout(90_000)
        yield tab
        browser.close()


def settle(tab):
    tab.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
    tab.wait_for_timeout(300)
    tab.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")


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


def test_vertical_stroke_is_read_as_one(server, page):
    page.goto(f"{server}/draw")
    settle(page)
    canvas = page.locator("canvas.upper-canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + 40)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x, box["y"] + 40 + i * (box["height"] - 80) / 20)
    page.mouse.up()
    cnn = page.get_by_test_id("stMetric").filter(has_text="CNN")
    cnn.get_by_test_id("stMetricValue").filter(has_text="1").wait_for()
    assert cnn.get_by_test_id("stMetricValue").inner_text().strip() == "1"


def test_train_runs_in_the_background_and_caches(server, page):
    page.goto(f"{server}/train")
    settle(page)
    page.get_by_text("This configuration is cached").wait_for()
    epochs = page.get_by_label("Epochs")
    epochs.fill("1")
    epochs.press("Enter")
    settle(page)
    page.get_by_text("Not cached yet").wait_for()
    page.get_by_role("button", name="Train").click()
    page.get_by_text("This configuration is cached").wait_for(timeout=180_000)
    assert page.get_by_text("Test accuracy").count() == 1
    assert page.locator("[data-testid='stException']").count() == 0
