"""What a teacher waits for, timed in Chromium: the first page after a server start, each
page's first visit, a stroke on the Draw page until its answer shows, and the pages that
follow the hand: frame intervals while the Denoising slider is dragged and the latent map
swept, the messages they send to the server, and Other digits to its new frames.

    .venv/bin/python benchmarks/browser.py [--strokes 20] [--json benchmarks/browser.json]

Starts the lab as scripts/run_app.sh does (Redis, a worker, ``streamlit run server.py``)
with the browser already open, so the first page is asked for the moment the server
answers its health check, while server.py's warm-up is still loading. Each page is then
visited once, each visit a new session, and timed from the request until the page's
script has finished and its key element (a figure, the 40 digits, the pad) is shown.
Last, strokes are drawn on a fresh Draw page with the mouse, each timed from mouse-up until
the answer for that drawing is in the page. ``python -m core bench`` reports the rows
from the JSON as recorded. Nothing else should run meanwhile.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from core.store import cache  # noqa: E402
from core.targets import TARGETS  # noqa: E402
from scripts.harness import CHROMIUM, CHROMIUM_ARGS, draw, lab_stack  # noqa: E402

JSON = ROOT / "benchmarks" / "browser.json"
# Each page's path, heading, and the element that shows it is ready.
PAGES = {
    "Overview": ("", "Digit Lab", "[data-testid='stTable'], [data-testid='stDataFrame']"),
    "Train": ("train", "Train a model", ".js-plotly-plot, [data-testid='stAlert']"),
    "Regularization": ("regularization", "Weight decay", ".js-plotly-plot"),
    "Denoising": ("denoising", "Salt, pepper", ".noise-explorer[data-token]"),
    "Latent space": ("latent", "latent space", ".latent-explorer[data-mode='map'][data-token]"),
    "Draw": ("draw", "Draw a digit", ".sketchpad canvas"),
    "Inside the CNN": ("inside", "Inside the CNN", "[data-testid='stImage'] img"),
    "Mistakes": ("mistakes", "Mistakes", ".confusion [data-cell]"),
    "Compare runs": ("compare", "Compare runs", ".js-plotly-plot"),
}
# Strokes inside the pad, as fractions of its side: short bars in varied places.
STROKES = [[(0.2 + 0.15 * (i % 4), 0.15 + 0.2 * (i // 4 % 4)), (0.35 + 0.15 * (i % 4), 0.3 + 0.2 * (i // 4 % 4))]
           for i in range(16)]


def visit(tab, url: str, path: str, heading: str, ready: str) -> float:
    """Seconds from asking for the page until its heading and ``ready`` element show and
    its script has finished."""
    start = time.perf_counter()
    tab.goto(f"{url}/{path}")
    tab.get_by_role("heading").filter(has_text=heading).first.wait_for()
    tab.locator(ready).first.wait_for()
    tab.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
    return time.perf_counter() - start


# Timed in the page, not by Playwright's waits (they poll at 0, 20, 50, 100, 100, 500 ms
# steps, which made a 300 ms answer read as 800 ms): from the pointerup event of the
# stroke to the next frame after the answer for that drawing is in the document.
ARM = """(n) => { window.__answer = new Promise((resolve) => {
  let up = null;
  document.addEventListener("pointerup", () => { up = performance.now(); }, {capture: true, once: true});
  const ready = () => up !== null && document.querySelector(`[data-drawing="pad-${n}"]`);
  const observer = new MutationObserver(() => {
    if (ready()) { observer.disconnect(); requestAnimationFrame(() => resolve(performance.now() - up)); }
  });
  observer.observe(document.body, {childList: true, subtree: true, attributes: true});
}); }"""


def strokes_ms(tab, count: int) -> list[float]:
    """Draw ``count`` strokes on the Draw page; ms from each mouse-up until the page shows
    the answer for the drawing with that many strokes (the answer block's data-drawing)."""
    times = []
    for n in range(1, count + 1):
        tab.evaluate(ARM, n)
        draw(tab, STROKES[(n - 1) % len(STROKES)])
        times.append(tab.evaluate("() => window.__answer"))
    return times


# While armed, the time between consecutive animation frames (ms): what a dragged slider's
# digits wait for each new position, the page's own drawing included.
FRAMES = """() => { window.__frames = []; window.__recording = true; let last = null;
  const tick = (t) => { if (last !== null) window.__frames.push(t - last); last = t;
    if (window.__recording) requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }"""
# From the click on Other digits to the frame after the component has drawn the new set.
OTHER = """(token) => { const host = [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
    .find((h) => h.shadowRoot && h.shadowRoot.querySelector('.noise-explorer'));
  const e = host.shadowRoot.querySelector('.noise-explorer');
  window.__other = new Promise((resolve) => { let t0 = null;
    document.addEventListener('click', () => { t0 = performance.now(); }, {capture: true, once: true});
    const observer = new MutationObserver(() => { if (t0 !== null && e.dataset.token !== token) {
      observer.disconnect(); requestAnimationFrame(() => resolve(performance.now() - t0)); } });
    observer.observe(e, {attributes: true}); }); }"""


def sweep(tab, box: dict, points: list[tuple[float, float]], press: bool) -> list[float]:
    """Move the mouse through ``points`` (fractions of ``box``), the button held when
    ``press``; the animation frames' intervals meanwhile (ms)."""
    at = lambda fx, fy: (box["x"] + fx * box["width"], box["y"] + fy * box["height"])  # noqa: E731
    tab.mouse.move(*at(*points[0]))
    if press:
        tab.mouse.down()
    tab.evaluate(FRAMES)
    for point in points[1:]:
        tab.mouse.move(*at(*point))
        tab.wait_for_timeout(16)
    frames = tab.evaluate("() => { window.__recording = false; return window.__frames; }")
    if press:
        tab.mouse.up()
    return frames


def drag_rows(browser, url: str, repeats: int = 5) -> list[dict]:
    """At 1024x768 in projector mode: the Denoising slider dragged across and the latent
    map swept by the pointer (frame intervals, messages to the server), and Other digits
    (time to the new frames, bytes received)."""
    tab = browser.new_page(viewport={"width": 1024, "height": 768})
    tab.set_default_timeout(90_000)
    sent, received = [], []
    tab.on("websocket", lambda ws: (ws.on("framesent", lambda m: sent.append(len(m))),
                                    ws.on("framereceived", lambda m: received.append(len(m)))))
    tab.goto(f"{url}/denoising?mode=class")
    tab.locator(".noise-explorer[data-token]").wait_for()
    tab.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
    slider = tab.locator(".noise-explorer input[type=range]")
    slider.scroll_into_view_if_needed()
    before = len(sent)
    drawn = int(tab.locator(".noise-explorer").get_attribute("data-frames"))
    line = [(0.02 + 0.96 * k / 60, 0.5) for k in range(61)]
    frames = sweep(tab, slider.bounding_box(), line, press=True) + \
        sweep(tab, slider.bounding_box(), line[::-1], press=True)
    slider_messages = len(sent) - before
    drawn = int(tab.locator(".noise-explorer").get_attribute("data-frames")) - drawn
    other, sizes = [], []
    for _ in range(repeats):
        token = tab.locator(".noise-explorer").get_attribute("data-token")
        tab.evaluate(OTHER, token)
        start = len(received)
        tab.get_by_role("button", name="Other digits").click()
        other.append(tab.evaluate("() => window.__other") / 1000)
        tab.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
        sizes.append(sum(received[start:]))
    tab.goto(f"{url}/latent?mode=class")
    scatter = tab.locator(".latent-explorer[data-mode='map'][data-token] canvas.scatter")
    scatter.wait_for()
    tab.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
    scatter.scroll_into_view_if_needed()
    before = len(sent)
    spiral = [(0.5 + 0.4 * k / 120 * math.cos(k / 6), 0.5 + 0.4 * k / 120 * math.sin(k / 6)) for k in range(121)]
    map_frames = sweep(tab, scatter.bounding_box(), spiral, press=False)
    map_messages = len(sent) - before
    tab.close()
    return [
        {"what": "Denoising: frame interval while the slider is dragged (1024x768, projector mode), p95",
         "value": p95(frames), "median": statistics.median(frames), "unit": "ms", "target": "drag_frame_ms"},
        {"what": "Denoising: messages to the server during two drags across the slider", "value": slider_messages,
         "unit": "messages", "target": "drag_messages"},
        {"what": "Denoising: positions drawn during the two drags (21 levels, each way)", "value": drawn,
         "unit": "frames"},
        {"what": f"Denoising: Other digits to the new frames shown, {repeats} presses, p95", "value": p95(other),
         "median": statistics.median(other), "unit": "s", "target": "other_digits_s"},
        {"what": "Denoising: bytes received per set of digits (every noise level, WebSocket), median",
         "value": statistics.median(sizes) / 1000, "unit": "kB"},
        {"what": "Latent space: frame interval while the pointer sweeps the map (1024x768), p95",
         "value": p95(map_frames), "median": statistics.median(map_frames), "unit": "ms", "target": "drag_frame_ms"},
        {"what": "Latent space: messages to the server while the pointer sweeps the map", "value": map_messages,
         "unit": "messages", "target": "drag_messages"},
    ]


def p95(values: list[float]) -> float:
    return float(sorted(values)[max(0, round(0.95 * len(values)) - 1)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=20)
    parser.add_argument("--json", default=str(JSON))
    args = parser.parse_args()

    from core.training.run import machine

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 900})
        tab.set_default_timeout(90_000)
        started = time.perf_counter()
        with lab_stack() as url:
            healthy = time.perf_counter() - started
            visits = {name: visit(tab, url, *page) for name, page in PAGES.items()}
            visit(tab, url, *PAGES["Draw"])  # a fresh Draw page for the strokes
            times = strokes_ms(tab, args.strokes)
            drags = drag_rows(browser, url)
        browser.close()

    first, *later = visits.items()
    rows = [
        {"what": f"first page after a server start ({first[0]}), from the health check answering",
         "value": first[1], "unit": "s", "target": "first_page_s"},
        *({"what": f"{name}: first visit", "value": seconds, "unit": "s", "target": "first_visit_s"}
          for name, seconds in later),
        {"what": f"Draw: mouse-up to the answer shown, {len(times)} strokes, p95", "value": p95(times),
         "median": statistics.median(times), "unit": "ms", "target": "stroke_to_answer_ms"},
        *drags,
    ]
    info = {"date": time.strftime("%Y-%m-%d"), **machine()}
    result = {"date": info["date"], "machine": info, "server_start_s": healthy, "strokes_ms": times,
              "rows": rows}
    cache.write_json(Path(args.json), result)
    print(f"server healthy {healthy:.1f} s after its start")
    print("| what | measured | median | target | |\n| --- | ---: | ---: | ---: | --- |")
    for row in rows:
        median = f"{row['median']:.1f}" if "median" in row else ""
        target = TARGETS.get(row.get("target"))
        bound = f"≤ {target.value:g} {target.unit}" if target else ""
        verdict = ("pass" if target.met(row["value"]) else "**miss**") if target else ""
        print(f"| {row['what']} | {row['value']:.1f} {row['unit']} | {median} | {bound} | {verdict} |")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
