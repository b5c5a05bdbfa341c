"""Take a screenshot of every page in headless Chromium for README.md.

    .venv/bin/python scripts/screenshots.py   # writes docs/screenshots/*.png
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from scripts.serve import CHROMIUM, CHROMIUM_ARGS, ROOT, draw, settle, lab_stack  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PAGES = ["overview", "train", "regularization", "denoising", "latent", "draw"]
SEVEN = [(60, 60), (220, 60), (180, 140), (140, 220), (120, 250)]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with lab_stack(timeout=120) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 2000})
        tab.set_default_timeout(120_000)
        for name in PAGES:
            tab.goto(f"{url}/{'' if name == 'overview' else name}")
            settle(tab, 1500)
            if name == "draw":
                draw(tab, SEVEN)
                tab.get_by_test_id("stMetric").first.wait_for()
                settle(tab, 1500)
            tab.screenshot(path=OUT / f"{name}.png")
            print(f"wrote {OUT / f'{name}.png'}")
        browser.close()


if __name__ == "__main__":
    main()
