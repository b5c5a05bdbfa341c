"""Lessons (core/lessons, pages/lessons.py): every shipped lesson loads and every number it
checks is the committed cache's; answers are judged; a broken file is named with its line
in one sentence; progress is kept in the class's database (SQLite and a real PostgreSQL)
and survives a new session; the teacher's counts; the page in Streamlit's AppTest."""

import math

import numpy as np
import pytest
from sqlalchemy import create_engine, inspect, select

from core.classset import db
from core.lessons import checks, files, progress, sources
from core.lessons.checks import judge
from core.paths import ROOT
from core.present.links import check_link
from core.queue import classroom

SHIPPED, SHIPPED_PROBLEMS = files.load_lessons(ROOT / "lessons")
STEPS = [(lesson, step) for lesson in SHIPPED for step in lesson.steps]
NUMBERS = [(lesson, step) for lesson, step in STEPS if step.answer.kind == "number"]


def step_id(item) -> str:
    lesson, step = item
    return f"{lesson.name}-{step.number}"


# ---------------------------------------------------------------------------------------
# The shipped lessons

def test_every_shipped_lesson_loads_and_validates():
    assert SHIPPED_PROBLEMS == []
    assert len(SHIPPED) >= 6
    for lesson in SHIPPED:
        assert 5 <= len(lesson.steps) <= 10, lesson.name
        kinds = {step.answer.kind for step in lesson.steps}
        assert kinds & {"number", "choice"}, f"{lesson.name} checks no answer"
        for step in lesson.steps:
            assert check_link(step.link) == [], step.link
            assert step.question.endswith(("?", ".")) and step.explain


def test_one_lesson_trains_through_the_queue():
    # The harder data set's lesson has a step on the Train page with settings nobody shipped.
    fashion = next(lesson for lesson in SHIPPED if lesson.name.startswith("06-"))
    trains = [s for s in fashion.steps if s.link.startswith("/train") and "layers=" in s.link]
    assert trains and any("queue" in s.question for s in trains)


@pytest.mark.parametrize("item", [item for item in STEPS if item[1].answer.kind != "text"], ids=step_id)
def test_every_checked_answer_accepts_the_right_one_and_refuses_a_wrong_one(item):
    _, step = item
    answer = step.answer
    if answer.kind == "choice":
        assert judge(answer, answer.correct).correct is True
        for other in answer.choices:
            if other != answer.correct:
                assert judge(answer, other).correct is False
        with pytest.raises(checks.NotAnAnswer):
            judge(answer, "none of them")
        return
    right = f"{answer.number:.10g}"
    assert judge(answer, right).correct is True
    assert judge(answer, f"{answer.number + answer.tolerance:.10g}").correct is True  # the edge is right
    wrong = answer.number + answer.tolerance + max(abs(answer.number) * 0.01, 1e-3)
    assert judge(answer, f"{wrong:.10g}").correct is False
    if answer.unit == "%":
        assert judge(answer, right + " %").correct is True
    if answer.number >= 1000 and answer.number == int(answer.number):
        assert judge(answer, f"{int(answer.number):,}").correct is True  # 55,050


# Numbers a lesson checks that are not one value of a result file: each is computed here from
# the committed cache and data, so a retrained cache cannot silently make the lesson wrong.
def _mnist_shape():
    with np.load(ROOT / "data" / "mnist.npz") as data:
        return data["x_test"].shape


def _metrics(entry: str) -> dict:
    import json
    return json.loads((ROOT / "models_cache" / entry / "metrics.json").read_text())


def _errors(entry: str) -> int:
    return round(10_000 * (1 - _metrics(entry)["test_accuracy"]))


def _cnn_layer_shape(index: int):
    import keras
    model = keras.models.load_model(ROOT / "models_cache" / "cnn-3bdc3a7ac216" / "model.keras", compile=False)
    convs = [layer for layer in model.layers if "conv" in layer.name]
    return tuple(convs[index].output.shape[1:])


def _confusions(entry: str, true: int, read: int) -> int:
    import keras
    from core.data.mnist import load_mnist
    model = keras.models.load_model(ROOT / "models_cache" / entry / "model.keras", compile=False)
    x, y = load_mnist().splits()[2]
    answers = model.predict(x, batch_size=1000, verbose=0).argmax(1)
    return int(((y == true) & (answers == read)).sum())


DERIVED = {
    "01-dense-64-64-1": lambda: _mnist_shape()[1] * _mnist_shape()[2],  # 28 x 28 inputs
    "01-dense-64-64-6": lambda: math.ceil(55_000 / _metrics("dense_64_64-28f91602434d")["config"]["batch_size"]),
    "03-convolutions-2": lambda: _cnn_layer_shape(0)[2],  # the first convolution's maps
    "03-convolutions-3": lambda: _cnn_layer_shape(0)[0],  # their width
    "03-convolutions-7": lambda: _errors("cnn-3bdc3a7ac216"),
    "03-convolutions-8": lambda: _confusions("cnn-3bdc3a7ac216", 5, 3),
    "03-convolutions-9": lambda: _errors("dense_64_64-28f91602434d"),
}


@pytest.mark.parametrize("item", NUMBERS, ids=step_id)
def test_every_number_checked_agrees_with_the_committed_cache(item):
    lesson, step = item
    answer = step.answer
    if answer.from_file:
        value = sources.shown(sources.read_value(answer.from_file, answer.from_key), answer.unit == "%")
        assert sources.agrees(answer.number, value), (answer.number, value)
    else:
        # A number taken from no result file must be computed here, never left unchecked.
        assert step_id(item) in DERIVED, f"{step_id(item)}: a number with no from_file and no check here"
        assert DERIVED[step_id(item)]() == answer.number


def test_a_source_that_moved_refuses_the_lesson(tmp_path):
    # As if the cache were retrained: the lesson's number no longer agrees, and the file says so.
    (tmp_path / "lessons").mkdir()
    text = LESSON.replace("number: 55050", "number: 55051")
    (tmp_path / "lessons" / "params.yaml").write_text(text)
    lessons, problems = files.load_lessons(tmp_path / "lessons")
    assert lessons == [] and len(problems) == 1
    assert "does not agree with models_cache/dense_64_64-28f91602434d/metrics.json, which says 55050" in problems[0]


# ---------------------------------------------------------------------------------------
# Judging answers

def test_numbers_are_read_as_students_type_them():
    assert checks.read_number("55,050") == 55050 and checks.read_number("55 050") == 55050
    assert checks.read_number("97.93 %", "%") == 97.93 and checks.read_number("784 numbers", "numbers") == 784
    assert checks.read_number("1e-6") == 1e-6 and checks.read_number(".5") == 0.5
    for text in ("", "abc", "5,5", "nan", "inf", "1e999", "55,05", "9 7"):
        with pytest.raises(checks.NotAnAnswer, match="That is not a number"):
            checks.read_number(text)
    with pytest.raises(checks.NotAnAnswer, match="empty"):
        judge(files.Answer("number", number=1, tolerance=0), "   ")


def test_free_text_is_kept_for_the_teacher():
    verdict = judge(files.Answer("text", text="what a good answer says"), "  The 7 turns\ninto a 2  ")
    assert verdict.correct is None and verdict.answer == "The 7 turns\ninto a 2"
    assert verdict.counted_as == "The 7 turns into a 2"


# ---------------------------------------------------------------------------------------
# Broken files

LESSON = """title: Parameters
steps:
  - question: How many parameters?
    link: /train?kind=dense_64_64
    look: The summary.
    answer:
      number: 55050
      tolerance: 0
      from_file: models_cache/dense_64_64-28f91602434d/metrics.json
      from_key: param_count
    explain: Count them.
"""


@pytest.mark.parametrize("old, new, line, says", [
    ("    look: The summary.", "    look: The summary: its last line.", 5, "not valid YAML"),
    ("      tolerance: 0\n", "", 7, "has a number but no tolerance"),
    ("link: /train?kind=dense_64_64", "link: /nowhere", 4, "/nowhere is not a page of the lab"),
    ("link: /train?kind=dense_64_64", "link: /inside?index=10000", 4, "test picture (index) must be a whole number"),
    ("link: /train?kind=dense_64_64", "link: /train?kind=dense_64_64&epochs=ten", 4, "the Train page cannot use epochs"),
    ("link: /train?kind=dense_64_64", "link: /mistakes?model=cnn-000000000000", 4, "no stored model is named"),
    ("    explain: Count them.", "    explian: Count them.", 11, "has no field named 'explian'"),
    ("      tolerance: 0\n", "      tolerance: 0\n      tolerance: 1\n", 9, "'tolerance' is given twice"),
    ("      number: 55050\n      tolerance: 0\n      from_file: models_cache/dense_64_64-28f91602434d/metrics.json\n"
     "      from_key: param_count\n", "      choices: [a, b]\n", 7, "has choices but no correct one"),
    ("      tolerance: 0", "      tolerance: -1", 8, "tolerance must be 0 or more"),
    ("from_key: param_count", "from_key: params", 9, "has nothing at 'params'"),
])
def test_a_broken_file_is_named_with_its_line_in_one_sentence(tmp_path, old, new, line, says):
    folder = tmp_path / "lessons"
    folder.mkdir()
    assert LESSON.count(old) == 1
    (folder / "a-good-one.yaml").write_text(LESSON)
    (folder / "broken.yaml").write_text(LESSON.replace(old, new))
    lessons, problems = files.load_lessons(folder)
    assert [lesson.name for lesson in lessons] == ["a-good-one"]
    assert len(problems) == 1
    problem = problems[0]
    assert problem.startswith("The lesson file lessons/broken.yaml is skipped: ")
    assert f"line {line}:" in problem and says in problem, problem
    assert problem.endswith(".") and ". " not in problem.replace("e.g. ", "") and "Traceback" not in problem


def test_a_file_that_is_not_a_lesson_at_all(tmp_path):
    for text, says in (("- just\n- a list\n", "a lesson must be fields"), ("title: x\n", "the lesson needs steps"),
                       ("\x00\xff", "not valid YAML")):
        (tmp_path / "x.yaml").write_text(text)
        with pytest.raises(files.LessonError, match=says):
            files.read_lesson(tmp_path / "x.yaml")
    (tmp_path / "Bad Name.yaml").write_text(LESSON)
    with pytest.raises(files.LessonError, match="its name must be lowercase"):
        files.read_lesson(tmp_path / "Bad Name.yaml")


# ---------------------------------------------------------------------------------------
# Progress in the class's database

def first_lesson():
    return next(lesson for lesson in SHIPPED if lesson.name == "01-dense-64-64")


def answer(student, lesson, number, text):
    progress.record(student, lesson.name, number, judge(lesson.step(number).answer, text))


def test_a_students_progress_survives_a_new_connection(database):
    lesson = first_lesson()
    answer("Ada", lesson, 1, "700")
    answer("Ada", lesson, 1, "784")
    answer("Ada", lesson, 3, "55,050")
    db.dispose()  # as a new server process would
    mine = progress.own("Ada", lesson.name)
    assert sorted(mine) == [1, 3]
    assert mine[1] == progress.Given("784", True, 2, True)
    assert progress.done(mine, lesson) == 2 and progress.first_open(mine, lesson) == 2
    assert progress.own("Bo", lesson.name) == {} and progress.own(None, lesson.name) == {}
    with pytest.raises(progress.NoStudent):
        answer("", lesson, 1, "784")


def test_the_teachers_view_counts_two_students_answers(database, grant):
    lesson = first_lesson()
    answer("Ada", lesson, 3, "55,000")
    answer("Ada", lesson, 3, "55000")  # the same wrong answer again counts once for Ada
    answer("Ada", lesson, 3, "55050")
    answer("Bo", lesson, 3, "55 000")
    answer("Bo", lesson, 3, "12")
    answer("Bo", lesson, 2, lesson.step(2).answer.choices[1])
    answer("Ada", lesson, 2, lesson.step(2).answer.correct)
    counts = {c.step: c for c in progress.step_counts(grant, lesson)}
    assert len(counts) == len(lesson.steps)
    assert counts[3] == progress.StepCount(3, answered=2, right=1, wrong=(("55000", 2), ("12", 1)))
    assert counts[2] == progress.StepCount(2, answered=2, right=1, wrong=((lesson.step(2).answer.choices[1], 1),))
    assert counts[1] == progress.StepCount(1, answered=0, right=0, wrong=())
    for forged in (None, "", "not-a-grant"):
        with pytest.raises(classroom.NotTeacher):
            progress.step_counts(forged, lesson)
        with pytest.raises(classroom.NotTeacher):
            progress.assign(forged, lesson.name)
        with pytest.raises(classroom.NotTeacher):
            progress.free_answers(forged, lesson.name, 1)


def test_the_teacher_assigns_and_reads_free_answers(database, grant):
    fashion = next(lesson for lesson in SHIPPED if lesson.name.startswith("06-"))
    free = next(step for step in fashion.steps if step.answer.kind == "text")
    answer("Bo", fashion, free.number, "first try")
    answer("Bo", fashion, free.number, "89.1% validation, gap 2 points")
    answer("Ada", fashion, free.number, "a CNN, 5 epochs, 90.5%")
    assert progress.free_answers(grant, fashion.name, free.number) == [
        ("Ada", "a CNN, 5 epochs, 90.5%"), ("Bo", "89.1% validation, gap 2 points")]
    count = next(c for c in progress.step_counts(grant, fashion) if c.step == free.number)
    assert count.answered == 2 and count.right is None and count.wrong == ()
    assert progress.assigned() == []
    progress.assign(grant, fashion.name)
    progress.assign(grant, "01-dense-64-64")
    progress.assign(grant, fashion.name)  # again: still once
    assert sorted(progress.assigned()) == ["01-dense-64-64", fashion.name]
    progress.assign(grant, fashion.name, assigned=False)
    assert progress.assigned() == ["01-dense-64-64"]


def _version_one(url: str) -> None:
    # A database as version 1 of the lab left it: its three tables and schema = 1.
    engine = create_engine(url)
    old = [db.samples, db.symbols, db.settings]
    db.metadata.create_all(engine, tables=old)
    with engine.begin() as conn:
        conn.execute(db.settings.insert().values(name="schema", value="1"))
    engine.dispose()


def test_a_version_one_database_gets_the_lesson_tables(database):
    url = db.database_url()
    _version_one(url)
    assert "lesson_answers" not in inspect(create_engine(url)).get_table_names()
    answer("Ada", first_lesson(), 1, "784")  # the first use creates what is missing
    assert {"lesson_answers", "lesson_assignments", "samples"} <= set(inspect(db.engine()).get_table_names())
    with db.engine().connect() as conn:
        assert conn.execute(select(db.settings.c.value).where(db.settings.c.name == "schema")).scalar() == "2"
    assert progress.own("Ada", "01-dense-64-64")[1].correct is True


def test_a_newer_database_is_still_refused(database):
    db.engine()
    with db.engine().begin() as conn:
        conn.execute(db.settings.update().values(value=str(db.SCHEMA_VERSION + 1)))
    db.dispose()
    with pytest.raises(db.DatabaseUnavailable, match="written by a newer Digit Lab"):
        progress.own("Ada", "01-dense-64-64")


# ---------------------------------------------------------------------------------------
# The page

def lessons_page(student: str | None = None, grant: str | None = None, alone: bool = False):
    """The Lessons page as ``student`` sees it (with the teacher's ``grant``), opened
    through app.py's navigation, or ``alone`` (the page as the main script: AppTest loses a
    button's click after switch_page in a multipage app, as tests/test_app.py notes)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../pages/lessons.py" if alone else "../app.py", default_timeout=120)
    if student:
        at.session_state["student"] = student
    if grant:
        at.session_state["teacher-grant"] = grant
    at.run()
    if not alone:
        at.switch_page("pages/lessons.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def submit(at, lesson_name: str, step: int, text: str):
    at.text_input(key=f"lesson-answer-{lesson_name}-{step}").input(text)
    next(b for b in at.button if b.label == "Check my answer").click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_the_page_checks_an_answer_and_progress_survives_a_new_session(queue_env, monkeypatch):
    monkeypatch.delenv(db.DATABASE_ENV_VAR, raising=False)
    db.dispose()
    at = lessons_page("Ada")
    assert at.title[0].value == "Lessons" and not at.warning
    assert at.selectbox(key="lesson-pick").value == "01-dense-64-64"
    buttons = at.get("link_button")
    assert [b.proto.url for b in buttons] == ["/train?kind=dense_64_64"]
    at = lessons_page("Ada", alone=True)
    submit(at, "01-dense-64-64", 1, "748")
    assert any(e.value.startswith("Not quite: 748.") for e in at.error)
    submit(at, "01-dense-64-64", 1, "seven hundred")
    assert any("That is not a number" in w.value for w in at.warning)
    submit(at, "01-dense-64-64", 1, "784")
    assert [s.value for s in at.success] == ["Right: 784 (2 tries)."]
    assert any("28 × 28 = 784" in m.value for m in at.markdown)
    # A new session (a reload, another day) reads the same database and goes on at step 2.
    again = lessons_page("Ada")
    assert any("**The 64-64 network**: 1 of 8 steps done" in m.value for m in again.markdown)
    assert again.radio(key="lesson-step-01-dense-64-64").value == 2
    assert any(m.value == f"**{first_lesson().step(2).question}**" for m in again.markdown)
    # Another student sees nothing of Ada's.
    other = lessons_page("Bo")
    assert other.radio(key="lesson-step-01-dense-64-64").value == 1 and not other.success
    db.dispose()


def test_a_link_opens_a_lesson_at_its_step_and_a_tampered_one_says_so(queue_env, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv(db.DATABASE_ENV_VAR, raising=False)
    db.dispose()

    def opened(params: dict):
        at = AppTest.from_file("../pages/lessons.py", default_timeout=120)
        at.session_state["student"] = "Ada"
        for name, value in params.items():
            at.query_params[name] = value
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    at = opened({"lesson": "03-convolutions", "step": "4"})
    assert at.selectbox(key="lesson-pick").value == "03-convolutions"
    assert at.radio(key="lesson-step-03-convolutions").value == 4 and not at.info
    assert {name: values[-1] for name, values in at.query_params.items()} == {"lesson": "03-convolutions",
                                                                             "step": "4"}
    # A lesson this server does not have, and a step past the lesson's last: the defaults, one sentence each.
    at = opened({"lesson": "99-nowhere", "step": "2"})
    assert at.selectbox(key="lesson-pick").value == "01-dense-64-64"
    assert [i.value for i in at.info][0] == ("This page's address named settings it cannot use (lesson), so "
                                             "those keep their defaults.")
    at = opened({"lesson": "05-generating-digits", "step": "10"})
    assert at.radio(key="lesson-step-05-generating-digits").value == 1
    assert [i.value for i in at.info][0] == ("This page's address named settings it cannot use (step), so "
                                             "those keep their defaults.")
    db.dispose()

def test_the_page_names_a_broken_file_and_shows_the_others(queue_env, monkeypatch, tmp_path):
    monkeypatch.delenv(db.DATABASE_ENV_VAR, raising=False)
    db.dispose()
    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "good.yaml").write_text(LESSON)
    (folder / "bad.yaml").write_text(LESSON.replace("link: /train?kind=dense_64_64", "link: /nowhere"))
    monkeypatch.setenv(files.LESSONS_ENV_VAR, str(folder))
    at = lessons_page()
    assert [w.value for w in at.warning][0].startswith("The lesson file lessons/bad.yaml is skipped: line 4:")
    assert at.selectbox(key="lesson-pick").options == ["Parameters"]
    assert any("Pick your name" in i.value for i in at.info)
    db.dispose()


def test_the_teachers_view_on_the_page(queue_env, monkeypatch, grant):
    monkeypatch.delenv(db.DATABASE_ENV_VAR, raising=False)
    db.dispose()
    db.metadata.drop_all(db.engine())
    db.dispose()
    lesson = first_lesson()
    answer("Ada", lesson, 3, "55,000")
    answer("Bo", lesson, 3, "55000")
    answer("Bo", lesson, 3, "55050")
    student_view = lessons_page("Ada")
    assert not any(h.value == "For the teacher" for h in student_view.header)
    at = lessons_page(grant=grant)
    assert any(h.value == "For the teacher" for h in at.header)
    table = at.dataframe[0].value
    row = table[table["step"] == 3].iloc[0]
    assert row["answered"] == 2 and row["right"] == "1"
    assert row["most common wrong answers"] == "55000 (2 students)"
    at.toggle(key="lesson-assign-01-dense-64-64").set_value(True).run()
    assert progress.assigned() == ["01-dense-64-64"]
    bo = lessons_page("Bo")
    assert any("**The 64-64 network**: 1 of 8 steps done · assigned by your teacher" in m.value for m in bo.markdown)
    assert any("Your teacher assigned this lesson" in m.value for m in bo.markdown)
    classroom.lock(grant)  # as if it expired: the view is gone and nothing can be assigned
    at.toggle(key="lesson-assign-01-dense-64-64").set_value(False).run()
    assert progress.assigned() == ["01-dense-64-64"]
    db.dispose()
