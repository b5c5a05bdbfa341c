"""Take a screenshot of every page in headless Chromium for README.md.

    .venv/bin/python scripts/screenshots.py   # writes docs/screenshots/*.png
"""

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PAGES = ["overview", "train", "regularization", "denoising", "latent", "draw"]


def settle(tab):
    for _ in range(2):
        tab.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
        tab.wait_for_timeout(1500)


def draw_seven(tab):
    canvas = tab.locator("canvas.upper-canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x0, y0 = box["x"], box["y"]
    points = [(60, 60), (220, 60), (180, 140), (140, 220), (120, 250)]
    tab.mouse.move(x0 + points[0][0], y0 + points[0][1])
    tab.mouse.down()
    for (ax, ay), (bx, by) in zip(points, points[1:]):
        for t in range(1, 11):
            tab.mouse.move(x0 + ax + (bx - ax) * t / 10, y0 + ay + (by - ay) * t / 10)
    tab.mouse.up()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            tab = browser.new_page(viewport={"width": 1400, "height": 2000})
            tab.set_default_timeout(120_000)
            for name in PAGES:
                tab.goto(f"{url}/{'' if name == 'overview' else name}")
                settle(tab)
                if name == "draw":
                    draw_seven(tab)
                    tab.get_by_test_id("stMetric").first.wait_for()
                    settle(tab)
                tab.screenshot(path=OUT / f"{name}.png", full_page=True)
                print(f"wrote {OUT / f'{name}.png'}")
            browser.close()
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
