"""Lesson progress in the class's database (``core.classset.db``: SQLite by default,
PostgreSQL when configured): each student's answers to each step, the lessons the teacher
assigned, and the teacher's counts per step.

A student reads only their own answers (``own``); the class's answers are read only with
the teacher's grant (``step_counts``), which, like assigning, is checked on the server by
``core.queue.classroom.require_teacher`` for every call.

Every function raises what ``core.classset.db.engine`` raises when the database cannot be
used (``db.DB_ERRORS``); the teacher's raise ``core.queue.classroom.NotTeacher`` without
the grant.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select

from core.classset import db
from core.lessons.checks import Verdict
from core.lessons.files import Lesson
from core.queue import classroom

# How many of the most common wrong answers the teacher sees per step.
TOP_WRONG = 3


class NoStudent(ValueError):
    """An answer without a student's name; the message is one sentence."""


def record(student: str | None, lesson: str, step: int, verdict: Verdict) -> None:
    """Keep ``student``'s judged answer (``core.lessons.checks.judge``) to step ``step``
    (from 1) of the lesson named ``lesson``; every try is kept, the latest counts as the
    student's answer.

    Raises:
        NoStudent: if ``student`` is empty (the page asks for a name first).
    """
    if not student:
        raise NoStudent("Pick your name in the class (in the sidebar) first: your answers are kept under it.")
    with db.engine().begin() as conn:
        conn.execute(insert(db.lesson_answers).values(
            student=student, lesson=lesson, step=int(step), answer=verdict.answer,
            counted_as=verdict.counted_as[:200], correct=verdict.correct, created=db.now()))


@dataclass(frozen=True)
class Given:
    """A student's latest answer to a step: the text, whether it was right (None: free
    text), how many tries the student made, and whether any try was right."""

    answer: str
    correct: bool | None
    tries: int
    ever_right: bool


def own(student: str | None, lesson: str) -> dict[int, Given]:
    """``student``'s answers to the lesson named ``lesson``: step number -> their latest
    answer (``Given``); {} for no name or no answers."""
    if not student:
        return {}
    table = db.lesson_answers
    with db.engine().connect() as conn:
        rows = conn.execute(select(table.c.step, table.c.answer, table.c.correct)
                            .where(table.c.student == student, table.c.lesson == lesson)
                            .order_by(table.c.id)).all()
    given: dict[int, Given] = {}
    for step, answer, correct in rows:
        before = given.get(step)
        given[step] = Given(answer, correct, (before.tries if before else 0) + 1,
                            bool(correct) or bool(before and before.ever_right))
    return given


def step_done(given: Given | None) -> bool:
    """Whether a step with this latest answer (None: none yet) is done: answered right at
    some try, or, for free text, answered."""
    return given is not None and (given.ever_right or given.correct is None)


def done(given: dict[int, Given], lesson: Lesson) -> int:
    """How many of ``lesson``'s steps are done (``step_done``); ``given`` as ``own`` returns it."""
    return sum(1 for step in lesson.steps if step_done(given.get(step.number)))


def first_open(given: dict[int, Given], lesson: Lesson) -> int:
    """The number of ``lesson``'s first step not done yet, or 1 when all are done: where a
    student who comes back goes on."""
    return next((step.number for step in lesson.steps if not step_done(given.get(step.number))), 1)


def assign(grant: str | None, lesson: str, assigned: bool = True) -> None:
    """Assign the lesson named ``lesson`` to the class (``assigned`` False: take it back).

    Raises:
        core.queue.classroom.NotTeacher: without the teacher's grant.
    """
    classroom.require_teacher(grant)
    table = db.lesson_assignments
    with db.engine().begin() as conn:
        conn.execute(delete(table).where(table.c.lesson == lesson))
        if assigned:
            conn.execute(insert(table).values(lesson=lesson, assigned=db.now()))


def assigned() -> list[str]:
    """The names of the lessons the teacher assigned, oldest assignment first (anyone may
    read this: the students see which lessons are theirs to do)."""
    table = db.lesson_assignments
    with db.engine().connect() as conn:
        return list(conn.execute(select(table.c.lesson).order_by(table.c.assigned, table.c.lesson)).scalars())


@dataclass(frozen=True)
class StepCount:
    """The class on one step: how many students ``answered``, how many were ``right`` at
    some try (None for free text), and the ``wrong`` answers most often given as
    (answer as counted, students who gave it), most common first."""

    step: int
    answered: int
    right: int | None
    wrong: tuple[tuple[str, int], ...]


def step_counts(grant: str | None, lesson: Lesson) -> list[StepCount]:
    """The teacher's view of ``lesson``: one ``StepCount`` per step, in order. A wrong
    answer counts once per student who gave it (at any try), and ties are listed in
    alphabetical order.

    Raises:
        core.queue.classroom.NotTeacher: without the teacher's grant.
    """
    classroom.require_teacher(grant)
    table = db.lesson_answers
    with db.engine().connect() as conn:
        rows = conn.execute(select(table.c.step, table.c.student, table.c.counted_as, table.c.correct)
                            .where(table.c.lesson == lesson.name).distinct()).all()
    counts = []
    for step in lesson.steps:
        mine = [row for row in rows if row.step == step.number]
        students = {row.student for row in mine}
        right = None if step.answer.kind == "text" else len({row.student for row in mine if row.correct})
        wrong = Counter(row.counted_as for row in mine if row.correct is False)
        top = sorted(wrong.items(), key=lambda item: (-item[1], item[0]))[:TOP_WRONG]
        counts.append(StepCount(step.number, len(students), right, tuple(top)))
    return counts


def free_answers(grant: str | None, lesson: str, step: int) -> list[tuple[str, str]]:
    """(student, latest answer) for step ``step`` of the lesson named ``lesson``, by student
    name: what the teacher reads of a free-text step.

    Raises:
        core.queue.classroom.NotTeacher: without the teacher's grant.
    """
    classroom.require_teacher(grant)
    table = db.lesson_answers
    latest = (select(table.c.student, func.max(table.c.id).label("id"))
              .where(table.c.lesson == lesson, table.c.step == step).group_by(table.c.student).subquery())
    with db.engine().connect() as conn:
        rows = conn.execute(select(table.c.student, table.c.answer).join(latest, table.c.id == latest.c.id)
                            .order_by(table.c.student)).all()
    return [(student, answer) for student, answer in rows]
