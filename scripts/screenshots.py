"""Screenshots of every page in headless Chromium for README.md and docs/screenshots/.

    .venv/bin/python scripts/screenshots.py   # writes docs/screenshots/*.png

Each page whole at desktop width (1400 px) and on a phone (390 px), in a viewport tall
enough to hold it (Playwright's full_page misses Streamlit's own scroll container). The
Draw page, with a "7" drawn, also exactly as each screen a class uses shows it without
scrolling: 1400x900 (a laptop), 1024x768 (a projector), 768x1024 (a tablet), 390x844
(a phone), and at 1024x768 in projector mode. The Train page once more with "Your own
network" chosen and the lab's CNN as its preset (train-custom), and the Compare runs page
on the dropout comparison (compare-dropout). The Denoising and Latent space pages mid-drag
(the slider held partway, the pointer over the map) at 1024x768 in projector mode, on a
phone and at 1400x900.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from scripts.harness import CHROMIUM, CHROMIUM_ARGS, ROOT, draw, lab_stack, settle  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PAGES = ["overview", "train", "regularization", "denoising", "latent", "draw", "inside", "mistakes", "compare"]
SEVEN = [(0.2, 0.2), (0.8, 0.2), (0.6, 0.5), (0.5, 0.8), (0.45, 0.9)]
WHOLE = {"": (1400, 2400), "-phone": (390, 4200)}
SCREENS = [(1400, 900, ""), (1024, 768, ""), (768, 1024, ""), (390, 844, ""), (1024, 768, "?mode=class")]


def own_network(tab) -> None:
    """On the Train page: choose "Your own network" and the lab's CNN preset."""
    tab.get_by_test_id("stSelectbox").filter(has_text="Model").click()
    tab.get_by_role("option", name="Your own network").click()
    settle(tab, 500)
    tab.get_by_test_id("stSelectbox").filter(has_text="Start from a preset").click()
    tab.get_by_role("option", name="The lab's CNN").click()
    tab.get_by_text("188,746 parameters").first.wait_for()
    settle(tab, 500)


def dropout(tab) -> None:
    """On the Compare runs page: the ready-made "With and without dropout"."""
    tab.get_by_role("button", name="With and without dropout").click()
    settle(tab, 1500)


def mid_drag(tab) -> None:
    """Hold the Denoising slider (or the pointer over the latent map) partway through a drag."""
    slider = tab.locator(".noise-explorer input[type=range]")
    if slider.count():
        slider.scroll_into_view_if_needed()
        box = slider.bounding_box()
        y = box["y"] + box["height"] / 2
        tab.mouse.move(box["x"] + 0.3 * box["width"], y)
        tab.mouse.down()
        tab.mouse.move(box["x"] + 0.72 * box["width"], y, steps=12)
        tab.evaluate("() => window.scrollTo(0, 0)")
        return
    scatter = tab.locator(".latent-explorer[data-mode='map'] canvas.scatter")
    scatter.scroll_into_view_if_needed()
    box = scatter.bounding_box()
    tab.mouse.move(box["x"] + 0.3 * box["width"], box["y"] + 0.3 * box["height"])
    tab.mouse.move(box["x"] + 0.62 * box["width"], box["y"] + 0.45 * box["height"], steps=12)
    settle(tab, 200)


def shoot(browser, url: str, path: Path, width: int, height: int, draw_seven: bool, then=None) -> None:
    tab = browser.new_page(viewport={"width": width, "height": height})
    tab.set_default_timeout(120_000)
    tab.goto(url)
    settle(tab, 1500)
    if draw_seven:
        draw(tab, SEVEN)
        tab.locator("[data-drawing='pad-1']").wait_for()
        settle(tab, 500)
    if then:
        then(tab)
    tab.screenshot(path=path)
    tab.close()
    print(f"wrote {path}")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with lab_stack(timeout=120) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name in PAGES:
            for suffix, (width, height) in WHOLE.items():
                shoot(browser, f"{url}/{'' if name == 'overview' else name}", OUT / f"{name}{suffix}.png",
                      width, height, name == "draw")
        for suffix, (width, height) in WHOLE.items():
            shoot(browser, f"{url}/train", OUT / f"train-custom{suffix}.png", width, height, False, own_network)
            shoot(browser, f"{url}/compare", OUT / f"compare-dropout{suffix}.png", width, height, False, dropout)
        for width, height, query in SCREENS:
            mode = "-class" if query else ""
            shoot(browser, f"{url}/draw{query}", OUT / f"draw-{width}x{height}{mode}.png", width, height, True)
        # The pages that follow the hand, mid-drag: a projector and a phone.
        for name in ("denoising", "latent"):
            for width, height, query in ((1024, 768, "?mode=class"), (390, 844, ""), (1400, 900, "")):
                mode = "-class" if query else ""
                shoot(browser, f"{url}/{name}{query}", OUT / f"{name}-drag-{width}x{height}{mode}.png", width, height,
                      False, mid_drag)
        browser.close()


if __name__ == "__main__":
    main()
