"""The Lessons page in a real browser (headless Chromium, Playwright), on the lab as
scripts/run_app.sh runs it: every shipped lesson's link opens its page with no exception
and no refused setting; one lesson walked through by a student, whose step button opens
its page in a new tab; the teacher's view after two students.

With DIGITLAB_SCREENSHOTS=1 it also saves the walk-through at 1400 px and on a 390×844
phone, and the teacher's view, as docs/screenshots/lessons-*.png.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.lessons import files
from core.paths import ROOT
from core.present.links import page_path
from scripts.harness import CHROMIUM, CHROMIUM_ARGS, lab_stack, settle

expect.set_options(timeout=90_000)
TEACHER_PASSWORD = "a password for the lessons test"
SHOTS = ROOT / "docs" / "screenshots"
LESSONS, _ = files.load_lessons(ROOT / "lessons")
LINKS_USED = sorted({step.link for lesson in LESSONS for step in lesson.steps})
# Each page's title (h1), as tests/test_browser.py knows them.
HEADINGS = {"": "Digit Lab", "train": "Train a model", "regularization": "Weight decay",
            "denoising": "Salt, pepper", "latent": "latent space", "draw": "Draw a digit",
            "collect": "Collect the class's handwriting", "class_models": "Models on the class's handwriting",
            "inside": "Inside the CNN", "mistakes": "Mistakes", "compare": "Compare runs"}
# What each page's sentence says when its address names a setting it cannot use.
REFUSED = ("address named settings it cannot use", "no stored model")

if not Path(CHROMIUM).exists():
    if os.environ.get("DIGITLAB_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    pytestmark = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    database = f"sqlite:///{tmp_path_factory.mktemp('class') / 'class.sqlite'}"
    with lab_stack(env={"DIGITLAB_TEACHER_PASSWORD": TEACHER_PASSWORD, "DIGITLAB_DATABASE_URL": database}) as url:
        yield url


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def new_tab(browser, width=1400, height=1000, phone=False):
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone)
    tab = context.new_page()
    tab.set_default_timeout(90_000)
    return tab


def href(link: str) -> str:
    from urllib.parse import urlencode

    path, params = page_path(link)
    return "/" + path + ("?" + urlencode(params) if params else "")


def shot(tab, name: str, height: int) -> None:
    """Save the page whole (a viewport ``height`` px tall, as scripts/screenshots.py does:
    Streamlit scrolls inside its own frame, so a full-page capture alone stops at the
    viewport), then go back to the viewport it had."""
    if os.environ.get("DIGITLAB_SCREENSHOTS") != "1":
        return
    size = tab.viewport_size
    tab.mouse.move(1, 1)  # no tooltip left over from the last click
    tab.set_viewport_size({"width": size["width"], "height": height})
    settle(tab)
    tab.wait_for_timeout(800)
    tab.screenshot(path=str(SHOTS / f"lessons-{name}.png"), full_page=True)
    tab.set_viewport_size(size)
    settle(tab)


def join(tab, name: str) -> None:
    field = tab.get_by_label("Your name in this class", exact=True)
    field.fill(name)
    tab.get_by_role("button", name="Join").click()
    settle(tab)
    expect(tab.get_by_test_id("stSidebar").get_by_text(f"You are {name} in this class.")).to_be_visible()


def test_every_shipped_lessons_link_opens_its_page(server, browser):
    assert len(LINKS_USED) >= 20
    tab = new_tab(browser)
    for link in LINKS_USED:
        tab.goto(server + href(link))
        settle(tab)
        path, _ = page_path(link)
        expect(tab.get_by_role("heading", level=1).filter(has_text=HEADINGS[path]).first).to_be_visible()
        expect(tab.get_by_test_id("stException")).to_have_count(0)
        main = tab.get_by_test_id("stMain").inner_text()
        assert not any(words in main for words in REFUSED), f"{link}: {main[:300]}"
    tab.context.close()


def answer(tab, text: str, button: str = "Check my answer") -> None:
    field = tab.get_by_label("Your answer", exact=False).first
    field.fill(text)
    tab.get_by_role("button", name=button).click()
    settle(tab)


def test_a_student_walks_a_lesson_and_the_teacher_counts(server, browser):
    # Ada, at a desktop: step 1 wrong then right, step 2 (a choice), step 3 with a thousands separator.
    tab = new_tab(browser)
    tab.goto(f"{server}/lessons")
    settle(tab)
    join(tab, "Ada")
    expect(tab.get_by_text("How many numbers does the 64-64 network read from one digit?")).to_be_visible()
    with tab.context.expect_page() as opened:
        tab.get_by_role("link", name="Open Train").click()
    train = opened.value
    train.wait_for_load_state()
    assert train.url.endswith("/train?kind=dense_64_64")
    train.close()
    answer(tab, "748")
    expect(tab.get_by_text("Not quite: 748.")).to_be_visible()
    answer(tab, "784")
    expect(tab.get_by_text("Right: 784 (2 tries).")).to_be_visible()
    expect(tab.get_by_text("28 × 28 = 784", exact=False)).to_be_visible()
    shot(tab, "step-1", 1500)
    tab.get_by_role("button", name="Next step").click()
    settle(tab)
    tab.get_by_text("Divides each by 255", exact=False).click()
    tab.get_by_role("button", name="Check my answer").click()
    settle(tab)
    tab.get_by_role("button", name="Next step").click()
    settle(tab)
    answer(tab, "55,050")
    expect(tab.get_by_text("Right: 55,050.")).to_be_visible()
    shot(tab, "step-3", 1500)
    # A reload is a new session: the progress comes back from the database.
    tab.reload()
    settle(tab)
    expect(tab.get_by_text("3 of 8 steps done", exact=True)).to_be_visible()
    expect(tab.get_by_test_id("stException")).to_have_count(0)

    # Bo, on a phone: a wrong answer to step 3, the same wrong answer Ada never gave.
    phone = new_tab(browser, 390, 844, phone=True)
    phone.goto(f"{server}/lessons")
    settle(phone)
    expand = phone.get_by_test_id("stExpandSidebarButton")
    if expand.count():  # a phone opens with the sidebar folded: the name form is in it
        expand.click()
    join(phone, "Bo")
    if phone.get_by_test_id("stSidebar").get_attribute("aria-expanded") == "true":
        # Fold it again; the button shows on hover only and the header's Copy link lies over it,
        # so the click goes to the button itself.
        phone.get_by_test_id("stSidebarCollapseButton").get_by_role("button").first.dispatch_event("click")
        expect(phone.get_by_test_id("stSidebar")).to_have_attribute("aria-expanded", "false")
    settle(phone)
    answer(phone, "784")
    expect(phone.get_by_text("Right: 784.")).to_be_visible()
    shot(phone, "phone", 2400)
    phone.get_by_role("radio", name="3").check(force=True)
    settle(phone)
    answer(phone, "55,000")
    expect(phone.get_by_text("Not quite: 55,000.")).to_be_visible()
    expect(phone.get_by_test_id("stException")).to_have_count(0)
    phone.context.close()

    # The teacher unlocks the Teacher page, then opens Lessons in the same tab (the grant is the tab's).
    teacher = new_tab(browser)
    teacher.goto(f"{server}/teacher")
    settle(teacher)
    teacher.get_by_label("The teacher's password").fill(TEACHER_PASSWORD)
    teacher.get_by_role("button", name="Unlock").click()
    settle(teacher)
    nav = teacher.get_by_test_id("stSidebarNav")
    more = nav.get_by_role("button", name=re.compile(r"View \d+ more"))
    if more.count():  # 13 pages with the Teacher's: Streamlit folds the menu after 10
        more.click()
    nav.get_by_text("Lessons", exact=True).click()
    settle(teacher)
    expect(teacher.get_by_role("heading", name="For the teacher")).to_be_visible()
    table = teacher.get_by_test_id("stDataFrame")
    expect(table).to_be_visible()
    teacher.get_by_text("Assigned to the class").click()
    settle(teacher)
    expect(teacher.get_by_test_id("stException")).to_have_count(0)
    shot(teacher, "teacher", 2000)
    teacher.context.close()
    tab.context.close()
