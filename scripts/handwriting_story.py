"""The class's handwriting, the whole loop in Chromium on a fresh lab with SQLite.

    .venv/bin/python scripts/handwriting_story.py   # prints the story, writes docs/screenshots/handwriting-*.png

Starts the lab as the tests do (Redis, one worker, `streamlit run server.py`, a teacher
password, the class's database a new SQLite file in its runs store), then: four scripted
students (``core.drawing.templates``: digit shapes drawn with the mouse, each a little
different) join and save digits on the Collect page, one adds the symbols + and -, all
draw them; the Class models page tests every model on the class's digits, fine-tunes the
CNN through the queue and learns the symbols; the Draw page reads a + and the Inside page
shows that head's feature maps; the Mistakes page reads the class's digits; the teacher
sees every drawing. Each step prints what the page says.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from core.drawing.templates import scripted  # noqa: E402
from scripts.harness import CHROMIUM, CHROMIUM_ARGS, ROOT, draw, lab_stack, settle  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PASSWORD = "story-password"
STUDENTS = ("Ada", "Grace", "Alan", "Emmy")
DIGITS_EACH = 10
SYMBOLS_EACH = 6  # of each symbol: 4 students x 6 = 24, above the 20 the head needs


def say(who: str, what: str, tab) -> None:
    """Print the step and the page's alerts."""
    print(f"\n{who}: {what}")
    for text in tab.locator("[data-testid='stAlertContainer']").all_inner_texts():
        print(f"  | {' '.join(text.split())}")


def draw_strokes(tab, strokes) -> None:
    """Draw each stroke with the mouse on the page's first pad (``harness.draw``, one a stroke)."""
    for stroke in strokes:
        draw(tab, stroke)
        tab.wait_for_timeout(150)


def save_asked(tab, rng, count: int) -> None:
    """Draw and save ``count`` times whatever the Collect page asks for."""
    for _ in range(count):
        heading = tab.get_by_role("heading", name="Draw a")
        expect(heading).to_be_visible()
        label = heading.inner_text().split()[-1]
        draw_strokes(tab, scripted(label, rng))
        expect(tab.get_by_text("What the models will read (28×28)")).to_be_visible()
        tab.get_by_role("button", name="Save").click()
        expect(tab.get_by_text(f"Saved your {label} (sample #")).to_be_visible()
        settle(tab)  # the whole page reruns after a save: let its old elements go


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=90_000)
    rng = np.random.default_rng(21)
    with lab_stack(env={"DIGITLAB_TEACHER_PASSWORD": PASSWORD}) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tabs = {}
        for name in STUDENTS:
            tab = browser.new_context(viewport={"width": 1400, "height": 1300}).new_page()
            tab.set_default_timeout(90_000)
            tab.goto(f"{url}/collect")
            expect(tab.get_by_text("Pick your name in the class (in the sidebar) to start")).to_be_visible()
            tab.get_by_label("Your name in this class", exact=True).fill(name)
            tab.get_by_role("button", name="Join").click()
            settle(tab, 1000)
            save_asked(tab, rng, DIGITS_EACH)
            tabs[name] = tab
            say(name, f"saved {DIGITS_EACH} digits", tab)
        ada = tabs["Ada"]
        ada.screenshot(path=str(OUT / "handwriting-collect.png"), full_page=True)
        for symbol in ("+", "-"):
            ada.get_by_label("A new symbol (1 to 3 letters or signs)").fill(symbol)
            ada.get_by_role("button", name="Add the symbol").click()
            settle(ada)
        say("Ada", "adds the symbols + and -", ada)
        for tab in tabs.values():
            tab.reload()
            settle(tab)
            tab.get_by_text("The class's symbols", exact=True).click()
            settle(tab)
            save_asked(tab, rng, 2 * SYMBOLS_EACH)
        say("Emmy", f"everyone drew {SYMBOLS_EACH} of each symbol", tabs["Emmy"])

        start = time.time()
        ada.goto(f"{url}/class_models")
        expect(ada.get_by_text("the best model reads")).to_be_visible()
        print(f"\nClass models page, every model read the class's digits: {time.time() - start:.1f} s after the click")
        say("Ada", "opens Class models", ada)
        ada.get_by_role("button", name="Fine-tune on").click()
        expect(ada.get_by_text("The newest fine-tuning")).to_be_visible(timeout=600_000)
        say("Ada", "fine-tunes the CNN", ada)
        ada.get_by_role("button", name="Learn").click()
        expect(ada.get_by_text("The newest head knows")).to_be_visible(timeout=600_000)
        say("Ada", "learns the symbols", ada)
        ada.screenshot(path=str(OUT / "handwriting-class-models.png"), full_page=True)

        ada.goto(f"{url}/draw")
        settle(ada)
        ada.get_by_text("the class's symbols (+ -)").click()
        settle(ada)
        draw_strokes(ada, scripted("+", rng))
        expect(ada.locator("[data-drawing='pad-2-symbols']")).to_be_visible()
        say("Ada", "draws a + on the Draw page", ada)
        ada.screenshot(path=str(OUT / "handwriting-draw.png"))

        ada.goto(f"{url}/inside")
        settle(ada)
        ada.get_by_role("combobox", name="Which network?").click()
        ada.get_by_role("option", name="The CNN's layers with the class's symbols (+ -)").click()
        settle(ada)
        draw_strokes(ada, scripted("+", rng))
        expect(ada.get_by_text("Feature maps, layer by layer")).to_be_visible()
        ada.screenshot(path=str(OUT / "handwriting-inside.png"), full_page=True)

        ada.goto(f"{url}/mistakes?data=class")
        expect(ada.get_by_text("of the class's")).to_be_visible()
        say("Ada", "Mistakes on the class's digits", ada)
        ada.screenshot(path=str(OUT / "handwriting-mistakes.png"), full_page=True)

        teacher = browser.new_context(viewport={"width": 1400, "height": 1300}).new_page()
        teacher.set_default_timeout(90_000)
        teacher.goto(f"{url}/teacher")
        settle(teacher)
        teacher.get_by_label("The teacher's password").fill(PASSWORD)
        teacher.get_by_role("button", name="Unlock").click()
        heading = teacher.get_by_role("heading", name="The class's handwriting")
        expect(heading).to_be_visible()
        settle(teacher, 1000)
        # The section itself: every drawing of a class with its student and a Delete under each.
        heading.evaluate("element => element.scrollIntoView({block: 'start'})")
        teacher.wait_for_timeout(1500)
        say("Teacher", "unlocks the Teacher page", teacher)
        teacher.screenshot(path=str(OUT / "handwriting-teacher.png"))
        for tab in [*tabs.values(), teacher]:
            assert tab.get_by_test_id("stException").count() == 0
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
