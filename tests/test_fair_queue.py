"""A class shares one server fairly, on a real redis-server and real workers:
students' names, one job each, the cap, quick jobs first, and the teacher's controls."""

import threading
import time

import pytest

from core.config import default_config
from core.queue import classroom, jobs
from core.store import cache
from waiting import wait_for

PASSWORD = "correct horse battery staple"


def tiny(**overrides):
    return default_config("dense_64_64", **{"epochs": 1, "train_size": 500, **overrides})


def long_job(seed: int):
    # Estimated well over a minute (a long job), yet well under the 5-minute cap.
    return default_config("dense_500_300", epochs=40, seed=seed)


@pytest.fixture
def teacher(queue_env, monkeypatch):
    """Teacher mode on; yields a grant from the right password."""
    monkeypatch.setenv(classroom.PASSWORD_ENV_VAR, PASSWORD)
    grant = classroom.unlock(PASSWORD, "teacher-session")
    assert grant
    return grant


def test_the_jobs_land_in_the_right_lanes(queue_env):
    assert jobs.job_seconds(tiny()) <= jobs.QUICK_SECONDS < jobs.job_seconds(long_job(0)) < classroom.DEFAULT_CAP_SECONDS
    assert jobs.lane(jobs.job_seconds(tiny())) == jobs.QUICK_QUEUE
    assert jobs.lane(jobs.job_seconds(long_job(0))) == jobs.QUEUE_NAME
    assert jobs.lane(1e6, teacher=True) == jobs.TEACHER_QUEUE


def test_a_students_second_job_is_refused_with_its_sentence(queue_env):
    first = classroom.submit(tiny(seed=1), "Ada")
    with pytest.raises(jobs.Refused, match=r"^You already have one job in the line .*cancel it, to queue another\.$"):
        classroom.submit(tiny(seed=2), "Ada")
    # The same settings again are the same job, not a second one; another student is not limited by Ada.
    assert classroom.submit(tiny(seed=1), "Ada").id == first.id
    classroom.submit(tiny(seed=3), "Grace")
    assert jobs.queued_count() == 2
    # Once Ada's job ends, she may queue another.
    jobs.cancel(first.id, "Ada")
    classroom.submit(tiny(seed=2), "Ada")


def test_concurrent_clicks_by_one_student_make_one_job(queue_env):
    barrier = threading.Barrier(4)
    outcomes = []

    def click(seed):
        barrier.wait()
        try:
            outcomes.append(classroom.submit(tiny(seed=seed), "Ada").id)
        except jobs.Refused:
            outcomes.append("refused")

    threads = [threading.Thread(target=click, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("refused") == 3 and jobs.queued_count() == 1


def test_a_job_over_the_cap_is_refused_and_says_what_to_change(queue_env):
    config = default_config("cnn", epochs=200)
    assert jobs.job_seconds(config) > classroom.DEFAULT_CAP_SECONDS
    with pytest.raises(jobs.Refused, match=r"this class's cap is 5 min: choose fewer epochs"):
        classroom.submit(config, "Ada")
    assert jobs.queued_count() == 0


def test_the_teacher_sets_the_limit_and_the_cap(teacher):
    classroom.set_rules(teacher, limit=0, cap_seconds=600)
    with pytest.raises(jobs.Refused, match="closed the training queue"):
        classroom.submit(tiny(), "Ada")
    classroom.set_rules(teacher, limit=2, cap_seconds=60)
    classroom.submit(tiny(seed=1), "Ada")
    classroom.submit(tiny(seed=2), "Ada")
    with pytest.raises(jobs.Refused, match="You already have 2 jobs"):
        classroom.submit(tiny(seed=3), "Ada")
    with pytest.raises(jobs.Refused, match="cap is 60 s"):
        classroom.submit(long_job(1), "Grace")
    with pytest.raises(ValueError, match="from 0 to 3"):
        classroom.set_rules(teacher, limit=4, cap_seconds=300)
    # The teacher's own jobs are exempt and go first.
    job = classroom.submit(default_config("cnn", epochs=200), "teacher", grant=teacher)
    assert job.origin == jobs.TEACHER_QUEUE and jobs.active()[0]["id"] == job.id


def test_quick_jobs_pass_long_ones_and_every_place_is_a_number(queue_env):
    a = classroom.submit(long_job(1), "A")
    b = classroom.submit(long_job(2), "B")
    c = classroom.submit(tiny(seed=3), "C")
    rows = jobs.active()
    assert [r["id"] for r in rows] == [c.id, a.id, b.id]
    assert [r["position"] for r in rows] == [1, 2, 3]
    assert rows[1]["wait_seconds"] == pytest.approx(jobs.job_seconds(tiny(seed=3)))
    assert [r["may_be_passed"] for r in rows] == [False, True, True]
    for job in (a, b, c):
        assert isinstance(jobs.status(job.id)["position"], int)


def test_a_third_students_quick_job_starts_before_the_long_one_queued_earlier(worker, queue_env):
    a = classroom.submit(long_job(1), "A")
    wait_for(lambda: jobs.status(a.id).get("state") == "running", 60, "A's long job to start")
    b = classroom.submit(long_job(2), "B")
    c = classroom.submit(tiny(seed=3), "C")
    jobs.cancel(a.id, "A")
    wait_for(lambda: jobs.status(c.id).get("state") in ("running", "done"), 60, "C's quick job to start")
    assert jobs.status(b.id)["state"] == "queued"
    assert jobs.wait(c.id, 120)["state"] == "done"
    wait_for(lambda: jobs.status(b.id).get("state") == "running", 60, "B's job to start after C's")
    jobs.cancel(b.id, "B")


def test_only_the_owner_or_the_teacher_cancels(teacher):
    job = classroom.submit(tiny(), "Ada")
    with pytest.raises(PermissionError):
        jobs.cancel(job.id, "Grace")
    with pytest.raises(PermissionError):
        jobs.cancel(job.id, "")
    classroom.cancel_any(teacher, job.id)
    assert jobs.status(job.id)["state"] == "cancelled"


def test_the_teacher_pauses_and_resumes_the_queue(worker, teacher):
    from rq import Worker

    # Paused while the worker already waits for a job (RQ looks at the pause only before).
    deadline = time.time() + 60
    while not Worker.all(connection=jobs.connection()) and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1)
    classroom.set_paused(teacher, True)
    assert jobs.paused()
    job = classroom.submit(tiny(), "Ada")
    row = jobs.status(job.id)
    assert row["state"] == "queued" and row["paused"]
    time.sleep(8)  # the worker is up and polling: it must not take the job
    assert jobs.status(job.id)["state"] == "queued"
    classroom.set_paused(teacher, False)
    assert jobs.wait(job.id, 120)["state"] == "done"


def test_no_teacher_action_without_the_password(queue_env, monkeypatch):
    monkeypatch.setenv(classroom.PASSWORD_ENV_VAR, PASSWORD)
    job = classroom.submit(tiny(), "Ada")
    forged = [None, "", "0" * 32, "teacher-session"]
    actions = {
        "cancel any job": lambda g: classroom.cancel_any(g, job.id),
        "pause": lambda g: classroom.set_paused(g, True),
        "set the rules": lambda g: classroom.set_rules(g, 3, 3600),
        "clear the leaderboard": lambda g: classroom.clear_runs(g),
        "clear a student's runs": lambda g: classroom.clear_runs(g, "Ada"),
        "queue first in line": lambda g: classroom.submit(tiny(seed=9), "Mallory", grant=g),
    }
    for name, action in actions.items():
        # (Queueing with no grant at all is a student's job: the next test covers it.)
        for grant in forged[1:] if name == "queue first in line" else forged:
            with pytest.raises(classroom.NotTeacher):
                action(grant)
    assert jobs.status(job.id)["state"] == "queued" and not jobs.paused() and classroom.rules() == classroom.Rules()
    assert jobs.queued_count() == 1 and jobs.queue(name=jobs.TEACHER_QUEUE).count == 0
    # A grant stops working once the password is unset (teacher mode off) or the teacher locks.
    grant = classroom.unlock(PASSWORD, "s1")
    classroom.lock(grant)
    with pytest.raises(classroom.NotTeacher):
        classroom.set_paused(grant, True)
    grant = classroom.unlock(PASSWORD, "s2")
    monkeypatch.delenv(classroom.PASSWORD_ENV_VAR)
    with pytest.raises(classroom.NotTeacher):
        classroom.set_paused(grant, True)
    with pytest.raises(classroom.NotTeacher, match="Teacher mode is off"):
        classroom.unlock(PASSWORD, "s3")


def test_wrong_passwords_get_no_hint_and_five_tries_a_minute(queue_env, monkeypatch):
    monkeypatch.setenv(classroom.PASSWORD_ENV_VAR, PASSWORD)
    for guess in ("", "correct", PASSWORD.upper(), PASSWORD + " ", "x" * 1000):
        assert classroom.unlock(guess, "guesser") is None
    with pytest.raises(classroom.TooManyTries, match="wait a minute"):
        classroom.unlock(PASSWORD, "guesser")  # even the right one, once over the limit
    assert classroom.unlock(PASSWORD, "another-session")


def test_two_students_cannot_hold_one_name(queue_env):
    a, b = classroom.new_token(), classroom.new_token()
    assert classroom.claim("  Ada   Lovelace ", a) == "Ada Lovelace"
    with pytest.raises(classroom.NameTaken, match="right now: choose another"):
        classroom.claim("ada lovelace", b)
    assert classroom.claim("Ada Lovelace", a) == "Ada Lovelace"  # the same browser again
    assert classroom.student_for(a) == "Ada Lovelace" and classroom.student_for(b) is None
    # A new name frees the old one.
    classroom.claim("Ada", a)
    assert classroom.claim("Ada Lovelace", b) == "Ada Lovelace"
    for bad in ("", " ", "x" * 21, "<script>", "Ada\n"):
        with pytest.raises(ValueError, match="1 to 20 letters"):
            classroom.claim(bad, b) if bad != "Ada\n" else classroom.check_name("-Ada")


def test_names_claimed_at_once_go_to_one_browser(queue_env):
    tokens = [classroom.new_token() for _ in range(8)]
    barrier, won = threading.Barrier(len(tokens)), []

    def take(token):
        barrier.wait()
        try:
            classroom.claim("Turing", token)
            won.append(token)
        except classroom.NameTaken:
            pass

    threads = [threading.Thread(target=take, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and classroom.student_for(won[0]) == "Turing"


def test_the_remaining_time_comes_from_the_measured_epochs():
    # The history's "seconds" count from the start of training: 3 epochs done at 2, 4, 6 s.
    meta = {"epochs": 10, "epoch": 3, "history": {"seconds": [2.0, 4.0, 6.0]}, "estimate_seconds": 99.0}
    assert jobs._remaining(meta, elapsed=9.0) == pytest.approx(2.0 * 7 + jobs.FINISH_SECONDS)
    # Before the first epoch: the estimate less the time run.
    assert jobs._remaining({"epochs": 10, "estimate_seconds": 30.0}, elapsed=12.0) == pytest.approx(18.0)


def test_the_leaderboard_names_students_and_the_teacher_clears_runs(queue_env, teacher):
    from core.store.leaderboard import leaderboard
    from tests.test_leaderboard import store_run

    for student, seed in (("Ada", 1), ("Grace", 2), ("Ada", 3)):
        config = tiny(seed=seed)
        store_run(queue_env, config, 0.9 + seed / 100)
        (cache.entry_path(config, queue_env) / cache.TRAINED_BY).write_bytes(cache.trained_by_json(student))
    vae = default_config("vae", seed=4)
    store_run(queue_env, vae, 0.0)
    assert [r["student"] for r in leaderboard()] == ["Ada", "Grace", "Ada"]
    assert classroom.clear_runs(teacher, "Ada") == 2
    assert [r["student"] for r in leaderboard()] == ["Grace"]
    assert classroom.clear_runs(teacher) == 1  # the leaderboard's classifiers; the VAE stays
    assert leaderboard() == [] and cache.is_cached(vae, queue_env)
