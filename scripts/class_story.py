"""Two students and a teacher on one server, in three Chromium contexts: what each sees.

    .venv/bin/python scripts/class_story.py [--workers N]   # prints the story, writes docs/screenshots/class-*.png

Starts the lab as the tests do (Redis, the workers, `streamlit run server.py`, a teacher
password), then plays the classroom story: Ada asks for the CNN at 200 epochs, then at its
default epochs on a new seed, then a second job; Grace queues Dense 64-64 for 1 epoch;
Ada reloads; the teacher unlocks, sees both jobs and pauses the queue. Each step prints
the sentences the page shows (its info, warning and job-list lines).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from scripts.harness import CHROMIUM, CHROMIUM_ARGS, ROOT, lab_stack, settle  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PASSWORD = "story-password"


def sentences(tab) -> list[str]:
    """The page's alerts and job-list lines, as text."""
    alerts = tab.locator("[data-testid='stAlertContainer']").all_inner_texts()
    rows = tab.locator("[data-testid='stMarkdownContainer']").filter(has_text=" · ").all_inner_texts()
    return [" ".join(t.split()) for t in alerts + rows]


def say(who: str, what: str, tab) -> None:
    print(f"\n{who}: {what}")
    for line in sentences(tab):
        print(f"  | {line}")


def join(tab, name: str) -> None:
    tab.get_by_label("Your name in this class", exact=True).fill(name)
    tab.get_by_role("button", name="Join").click()
    settle(tab)


def choose(tab, model: str, epochs: int, seed: int | None = None) -> None:
    tab.get_by_role("combobox", name="Model").click()
    tab.get_by_role("option", name=model).click()
    settle(tab)
    for label, value in (("Epochs", epochs), ("Seed", seed)):
        if value is not None:
            field = tab.get_by_label(label, exact=True)
            field.fill(str(value))
            field.press("Enter")
            settle(tab)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=90_000)
    with lab_stack(env={"DIGITLAB_TEACHER_PASSWORD": PASSWORD}, workers=args.workers) as url, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ada, grace, teacher = (browser.new_context(viewport={"width": 1400, "height": 1800}).new_page()
                               for _ in range(3))
        for tab in (ada, grace, teacher):
            tab.set_default_timeout(90_000)
        ada.goto(f"{url}/train")
        settle(ada)
        join(ada, "Ada")
        choose(ada, "Convolutional network (CNN)", 200)
        say("Ada", "chooses the CNN at 200 epochs", ada)
        ada.screenshot(path=str(OUT / "class-over-cap.png"))
        choose(ada, "Convolutional network (CNN)", 16, seed=7)
        say("Ada", "the CNN at its 16 epochs, seed 7", ada)
        ada.get_by_role("button", name="Train", exact=True).click()
        settle(ada)
        say("Ada", "clicks Train", ada)
        choose(ada, "Convolutional network (CNN)", 16, seed=8)
        ada.get_by_role("button", name="Train", exact=True).click()
        settle(ada)
        say("Ada", "queues seed 8 as well", ada)

        grace.goto(f"{url}/train")
        settle(grace)
        join(grace, "Grace")
        choose(grace, "Dense 64-64 (the course's small net)", 1)
        grace.get_by_role("button", name="Train", exact=True).click()
        settle(grace)
        say("Grace", "queues Dense 64-64 for 1 epoch", grace)
        grace.screenshot(path=str(OUT / "class-student.png"))

        ada.reload()
        settle(ada)
        say("Ada", "reloads the page", ada)

        teacher.goto(f"{url}/teacher")
        settle(teacher)
        teacher.get_by_label("The teacher's password").fill(PASSWORD)
        teacher.get_by_role("button", name="Unlock").click()
        settle(teacher)
        say("Teacher", "unlocks the Teacher page", teacher)
        teacher.screenshot(path=str(OUT / "class-teacher.png"), full_page=True)
        expect(grace.get_by_text("These settings were trained here")).to_be_visible(timeout=600_000)
        say("Grace", "a while later", grace)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
