"""Lessons: the course's questions as short paths through the lab. Each step asks one
question, opens the page that answers it in the right state (a link), says what to look
at, and checks the answer where it can; after an answer one or two sentences explain it.
Each student's answers are kept under their name in the class's database; the teacher
(with the Teacher page's grant) assigns lessons and sees, per step, how many answered and
the most common wrong answers. The lessons are YAML files in lessons/ (core/lessons)."""

from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from core.classset import db
from core.lessons import checks, files, progress
from core.present.links import LINKS, page_path, refusal_sentence
from core.queue import classroom, jobs
from pages.identity import is_teacher, student, teacher_grant
from pages.shared import caption, read_link, use_app_navigation, write_link

use_app_navigation()

st.title("Lessons")
st.markdown("The questions of the course's assignments, one step at a time. Each step opens the page that "
            "answers it (in a new tab, already set up), says what to look at there, and checks your answer; "
            "then a sentence or two explain it. Your answers are kept under your name in the class.")


@st.cache_data(ttl=10, show_spinner=False)
def loaded(folder: str) -> tuple[list[files.Lesson], list[str]]:
    """The lesson files of ``folder`` and one sentence per broken one (read at most every 10 s)."""
    return files.load_lessons(Path(folder))


def href(link: str) -> str:
    """A step's link as the address the button opens: the page's path and its settings."""
    path, params = page_path(link)
    return "/" + path + ("?" + urlencode(params) if params else "")


lessons, problems = loaded(str(files.lessons_dir()))
for problem in problems:
    st.warning(problem, icon=":material/description:")
if not lessons:
    st.info("There are no lessons yet: the teacher writes them as files in the lessons folder (README, \"Lessons\").")
    st.stop()

name = student()
try:
    assigned = progress.assigned()
    mine = {lesson.name: progress.own(name, lesson.name) for lesson in lessons}
except db.DB_ERRORS as exc:
    st.warning(db.problem(exc))
    st.stop()

by_name = {lesson.name: lesson for lesson in lessons}
order = [n for n in assigned if n in by_name] + [n for n in by_name if n not in assigned]


if not name:
    st.info("Pick your name in the class (in the sidebar) to answer: your answers and progress are kept under it.")
else:
    with st.expander(f"Your progress, {name}"):
        # Written out rather than in the picker's labels: a selectbox keeps showing the labels it first had.
        st.markdown("\n".join(
            f"- **{by_name[n].title}**: {progress.done(mine[n], by_name[n])} of {len(by_name[n].steps)} steps done"
            + (" · assigned by your teacher" if n in assigned else "") for n in order))
# A link (core.present.links, "lessons") opens a lesson at a step: the teacher's "do this one now".
link = read_link("lessons", allowed={"lesson": lambda n: n in by_name}) or {}
if "lesson" in link:
    st.session_state["lesson-pick"] = link["lesson"]
chosen = st.selectbox("Lesson", order, format_func=lambda n: by_name[n].title, key="lesson-pick")
lesson = by_name[chosen]
given = mine[chosen]
if chosen in assigned:
    st.markdown(":material/assignment: **Your teacher assigned this lesson.**")
if lesson.summary:
    st.markdown(lesson.summary)
done = progress.done(given, lesson)
st.progress(done / len(lesson.steps), text=f"{done} of {len(lesson.steps)} steps done")

step_key = f"lesson-step-{lesson.name}"
if "step" in link:
    if link["step"] <= len(lesson.steps):
        st.session_state[step_key] = link["step"]
    else:
        st.info(refusal_sentence("step"))
if st.session_state.get(step_key) not in range(1, len(lesson.steps) + 1):
    # Open at the first step not done yet (a reload, or another day, goes on where the student stopped).
    st.session_state[step_key] = progress.first_open(given, lesson)


def step_mark(number: int) -> str:
    """A step with its mark: ✓ right, ✗ not right yet, ✎ handed in for the teacher, none before an answer."""
    answer = given.get(number)
    if answer is None:
        return f"{number}"
    return f"{number} " + ("✓" if answer.ever_right else "✎" if answer.correct is None else "✗")


if given:
    # The marks beside the picker, not in its labels: a radio whose labels change loses its shown choice.
    caption("Your steps: " + " · ".join(step_mark(s.number) for s in lesson.steps)
            + " (✓ right, ✗ not right yet, ✎ handed in for your teacher to read)")
st.radio("Step", list(range(1, len(lesson.steps) + 1)), horizontal=True, key=step_key)
step = lesson.step(st.session_state[step_key])
answer = step.answer
write_link("lessons", {"lesson": lesson.name, "step": step.number})

st.subheader(f"Step {step.number} of {len(lesson.steps)}")
st.markdown(f"**{step.question}**")
path, _ = page_path(step.link)
st.link_button(f"Open {LINKS[path].title}", href(step.link), icon=":material/open_in_new:",
               help="Opens the page in a new tab, set up for this step.")
st.markdown(f"**What to look at:** {step.look}")

field = f"lesson-answer-{lesson.name}-{step.number}"
with st.form(f"lesson-form-{lesson.name}-{step.number}"):
    if answer.kind == "number":
        unit = f" ({answer.unit})" if answer.unit else ""
        st.text_input(f"Your answer{unit}", key=field, max_chars=40, placeholder="a number")
    elif answer.kind == "choice":
        st.radio("Your answer", answer.choices, index=None, key=field)
    else:
        st.text_area("Your answer", key=field, max_chars=checks.MAX_ANSWER,
                     help="Your teacher reads it; there is no single right wording.")
    handed = st.form_submit_button("Hand in" if answer.kind == "text" else "Check my answer", type="primary")

if handed:
    try:
        progress.record(name, lesson.name, step.number, checks.judge(answer, st.session_state.get(field) or ""))
        st.rerun()  # the marks, the progress bar and the lesson's count change
    except (checks.NotAnAnswer, progress.NoStudent) as exc:
        st.warning(str(exc))
    except db.DB_ERRORS as exc:
        st.warning(db.problem(exc))

latest = given.get(step.number)
if latest is not None:
    tries = f" ({latest.tries} tries)" if latest.tries > 1 else ""
    if latest.correct:
        st.success(f"Right: {latest.answer}{tries}.", icon=":material/check_circle:")
    elif latest.correct is None:
        st.info("Handed in: your teacher reads it. What a good answer mentions: " + answer.text,
                icon=":material/edit_note:")
    else:
        st.error(f"Not quite: {latest.answer}{tries}. Look again and try once more, or read why below.",
                 icon=":material/cancel:")
    st.markdown(step.explain)
    if step.source:
        caption(f"Source: {step.source}")
    if step.number < len(lesson.steps):
        def _next() -> None:
            st.session_state[step_key] = step.number + 1
        st.button("Next step", on_click=_next, icon=":material/arrow_forward:", key="lesson-next")


# ---------------------------------------------------------------------------------------
# The teacher's view: behind the grant, checked again on the server for every call

def _teacher_action(action, *args) -> None:
    try:
        action(teacher_grant(), *args)
    except classroom.NotTeacher as exc:
        st.session_state.pop("teacher-grant", None)
        st.session_state["lesson-teacher-message"] = str(exc)
    except (*db.DB_ERRORS, *jobs.QUEUE_ERRORS) as exc:
        st.session_state["lesson-teacher-message"] = (db.problem(exc) if isinstance(exc, db.DB_ERRORS)
                                                      else jobs.problem(exc))


def _wrong_text(wrong: tuple[tuple[str, int], ...]) -> str:
    return " · ".join(f"{text} ({count} student{'s' if count != 1 else ''})" for text, count in wrong)


def teacher_view() -> None:
    st.divider()
    st.header("For the teacher")
    message = st.session_state.pop("lesson-teacher-message", None)
    if message:
        st.warning(message)
    try:
        counts = progress.step_counts(teacher_grant(), lesson)
    except classroom.NotTeacher as exc:
        st.warning(str(exc))
        return
    except db.DB_ERRORS as exc:
        st.warning(db.problem(exc))
        return
    st.toggle("Assigned to the class", value=lesson.name in assigned, key=f"lesson-assign-{lesson.name}",
              on_change=lambda: _teacher_action(progress.assign, lesson.name,
                                                st.session_state[f"lesson-assign-{lesson.name}"]),
              help="Assigned lessons come first in every student's list, marked as assigned.")
    st.subheader(f"The class on \"{lesson.title}\"")
    table = pd.DataFrame({
        "step": [c.step for c in counts],
        "answered": [c.answered for c in counts],
        "right": [("-" if c.right is None else str(c.right)) for c in counts],
        "most common wrong answers": [_wrong_text(c.wrong) for c in counts],
        "right answer": [checks.expected(lesson.step(c.step).answer) for c in counts],
        "question": [lesson.step(c.step).question for c in counts],
    })
    st.dataframe(table, hide_index=True, width="stretch")
    caption("Answered: students who answered the step; right: those right at some try (- for free text, "
            "which you read below). A wrong answer counts once per student who gave it, numbers without their "
            "thousands separators (55,050 as 55050).")
    for step_ in lesson.steps:
        if step_.answer.kind == "text":
            with st.expander(f"Step {step_.number}: the students' answers to read"):
                try:
                    answers = progress.free_answers(teacher_grant(), lesson.name, step_.number)
                except (classroom.NotTeacher, *db.DB_ERRORS) as exc:
                    st.warning(str(exc) if isinstance(exc, classroom.NotTeacher) else db.problem(exc))
                    continue
                if not answers:
                    st.caption("No answers yet.")
                for who, text in answers:
                    st.markdown(f"**{who}**")
                    st.text(text)


if teacher_grant() and is_teacher():
    teacher_view()
elif classroom.teacher_mode():
    caption("The teacher assigns lessons and sees the class's answers here, once the Teacher page is unlocked.")
