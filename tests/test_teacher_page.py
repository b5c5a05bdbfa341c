"""The Teacher page in Streamlit's AppTest, on a real Redis: locked without the password,
its controls after it, each action checked again on the server."""

import pytest
from streamlit.testing.v1 import AppTest

from core.config import default_config
from core.queue import classroom, jobs

PASSWORD = "the teacher's password"


@pytest.fixture
def teacher_page(queue_env, monkeypatch):
    monkeypatch.setenv(classroom.PASSWORD_ENV_VAR, PASSWORD)
    at = AppTest.from_file("../pages/teacher.py", default_timeout=120)
    at.run()
    return at


def unlock(at, password: str) -> None:
    at.text_input(key="teacher-password").input(password)
    at.button[0].click().run()


def test_locked_until_the_password_with_no_hint(teacher_page):
    at = teacher_page
    assert not at.exception
    assert [b.label for b in at.button] == ["Unlock"] and not at.subheader
    unlock(at, "a guess")
    assert [w.value for w in at.warning] == ["That is not the teacher's password."]
    assert not at.subheader and "teacher-grant" not in at.session_state


def test_five_tries_a_minute(teacher_page):
    at = teacher_page
    for _ in range(5):
        unlock(at, "wrong")
    unlock(at, PASSWORD)  # the sixth try, right or wrong, waits
    assert any("Too many tries" in w.value for w in at.warning) and not at.subheader


def test_the_teacher_cancels_a_students_job_and_pauses_the_queue(teacher_page):
    at = teacher_page
    job = classroom.submit(default_config("dense_64_64", epochs=1, train_size=500), "Ada")
    unlock(at, PASSWORD)
    assert not at.exception
    assert [h.value for h in at.subheader][:2] == ["Every job", "The class's rules"]
    assert any("**Ada**" in m.value for m in at.markdown)
    at.button(key=f"teacher-cancel-{job.id}").click().run()
    assert jobs.status(job.id)["state"] == "cancelled"
    next(b for b in at.button if b.label == "Pause the queue").click().run()
    assert jobs.paused() and any(b.label == "Resume the queue" for b in at.button)
    at.select_slider(key="rule-limit").set_value(2)
    at.select_slider(key="rule-cap").set_value(10)
    next(b for b in at.button if b.label == "Save the rules").click().run()
    assert classroom.rules() == classroom.Rules(limit=2, cap_seconds=600.0)
    next(b for b in at.button if b.label == "Lock teacher mode").click().run()
    assert [b.label for b in at.button] == ["Unlock"]


def test_a_grant_that_was_locked_elsewhere_does_nothing(teacher_page):
    at = teacher_page
    unlock(at, PASSWORD)
    classroom.lock(at.session_state["teacher-grant"])  # as if it expired
    next(b for b in at.button if b.label == "Pause the queue").click().run()
    assert not jobs.paused()
    assert any("Only the teacher can do this" in w.value for w in at.warning)


def test_without_a_password_there_is_no_teacher_page(queue_env, monkeypatch):
    monkeypatch.delenv(classroom.PASSWORD_ENV_VAR, raising=False)
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.run()
    assert not at.exception and not classroom.teacher_mode()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/teacher.py")
    # With a password set, the page is in the navigation, locked.
    monkeypatch.setenv(classroom.PASSWORD_ENV_VAR, PASSWORD)
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.run()
    at.switch_page("pages/teacher.py").run()
    assert [t.value for t in at.title] == ["Teacher"] and [b.label for b in at.main.button] == ["Unlock"]


def test_the_teacher_removes_a_damaged_run(teacher_page, queue_env):
    import shutil

    from core.store import cache
    from core.paths import ROOT

    for name in ("dense_64_64-0000damaged", "dense_64_64-00000000whole"):
        shutil.copytree(ROOT / "models_cache" / f"dense_64_64-{default_config('dense_64_64').key()}",
                        queue_env / name)
    (queue_env / "dense_64_64-0000damaged" / "metrics.json").write_text("{")
    at = teacher_page
    unlock(at, PASSWORD)
    assert not at.exception
    assert "Damaged runs" in [h.value for h in at.subheader]
    assert any("dense_64_64-0000damaged is damaged" in m.value for m in at.markdown)
    assert [b.key for b in at.button if b.label == "Remove"] == ["teacher-remove-dense_64_64-0000damaged"]
    # Checked on the server: not the teacher, or an entry that is whole, and nothing goes.
    with pytest.raises(classroom.NotTeacher):
        classroom.remove_damaged(None, "dense_64_64-0000damaged")
    with pytest.raises(ValueError):
        classroom.remove_damaged(at.session_state["teacher-grant"], "dense_64_64-00000000whole")
    at.button(key="teacher-remove-dense_64_64-0000damaged").click().run()
    assert any("dense_64_64-0000damaged is removed" in s.value for s in at.success)
    assert not (queue_env / "dense_64_64-0000damaged").exists() and (queue_env / "dense_64_64-00000000whole").exists()
    assert "Damaged runs" not in [h.value for h in at.subheader] and cache.problems(queue_env) == []


def test_the_teacher_page_says_the_store_cannot_be_written(teacher_page, queue_env):
    import fake_jobs
    from fake_jobs import unwritable

    fake_jobs.finish([fake_jobs.SHIPPED_NAME])
    at = teacher_page
    with unwritable(queue_env):
        unlock(at, PASSWORD)
        assert not at.exception
        assert any(w.value.startswith(f"The runs store ({queue_env}) cannot be written") for w in at.warning)


def test_a_job_killed_as_out_of_memory_is_said_on_the_teacher_page(teacher_page):
    import fake_jobs

    fake_jobs.fail_by_kill("dense_64_64-killed")
    state = jobs.status("dense_64_64-killed")
    assert state["state"] == "failed"
    at = teacher_page
    unlock(at, PASSWORD)
    assert not at.exception
    lines = [m.value for m in at.markdown]
    assert "**Failed in the last hour**" in lines
    # core.queue.jobs may add how many tries it had ("(3 tries)").
    said = "**Ada**: Dense 64-64, 50 epochs, seed 0 · Failed: the worker stopped (killed; perhaps out of memory)"
    assert any(line.startswith(said) for line in lines), lines
