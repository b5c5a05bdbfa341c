"""Faults injected into the lab as README says to run it (scripts/run_app.sh: supervisord,
a private Redis, one worker, Streamlit), one at a time, each with a time bound: the web
server stays up, every process comes back by itself, and no queued or running job is lost
(the running one resumes from its last epoch)."""

import os
import signal
import subprocess
import time
import urllib.request

import pytest

from core.config import default_config
from core.queue import jobs
from core.store import cache
from scripts.harness import ROOT, SupervisedLab
from waiting import wait_for

EPOCHS = 25  # the dense 64-64 on all 55,000 digits: about 0.7 s an epoch here


def healthy(lab) -> bool:
    try:
        return urllib.request.urlopen(f"{lab.url}/_stcore/health", timeout=2).read() == b"ok"
    except OSError:
        return False


def answers() -> bool:
    try:
        jobs.connection()
        return True
    except jobs.QueueUnavailable:
        return False


def state(jid) -> dict:
    try:
        return jobs.status(jid)
    except jobs.QUEUE_ERRORS:
        return {}


@pytest.fixture
def lab(tmp_path, monkeypatch):
    """The lab under supervisord in a temporary folder; this test process talks to its queue."""
    lab = SupervisedLab(tmp_path / "lab")
    monkeypatch.setenv("DIGITLAB_REDIS_URL", lab.redis_url)
    monkeypatch.setenv("DIGITLAB_RUNS", str(lab.runs))
    with lab:
        yield lab


def three_jobs() -> tuple[str, list[str]]:
    """One long job, running past its third epoch, and two short ones queued behind it."""
    running = jobs.submit(default_config("dense_64_64", epochs=EPOCHS, seed=1), owner="ada").id
    queued = [jobs.submit(default_config("dense_64_64", epochs=2, seed=seed), owner=name).id
              for seed, name in ((2, "bo"), (3, "cy"))]
    wait_for(lambda: state(running).get("epoch", 0) >= 3, 240, "three epochs of the running job")
    assert [state(jid)["state"] for jid in queued] == ["queued", "queued"]
    return running, queued


def all_finish(ids: list[str], lab, timeout: float = 300) -> None:
    wait_for(lambda: all(state(jid).get("state") == "done" for jid in ids), timeout, "every job to finish")
    assert sorted(jobs.collect()) == sorted(ids)
    for jid in ids:
        assert cache.has_entry(lab.runs, jid)


def resumed_at(jid, lab) -> list[int]:
    history, metrics = cache.check_entry(lab.runs / jid)
    assert len(history["loss"]) == metrics["epochs"]
    return metrics.get("resumed_at_epochs", [])


def test_redis_killed_mid_training(lab):
    running, queued = three_jobs()
    old = lab.pid("redis")
    os.kill(old, signal.SIGKILL)
    start = time.time()
    wait_for(lambda: not answers(), 5, "Redis to be gone")
    while not answers():
        assert healthy(lab), "the web server went down with Redis"
        assert time.time() - start < 20, "Redis did not come back in 20 s"
        time.sleep(0.1)
    assert lab.pid("redis") not in (None, old)
    # Every job is still there (the append-only file has every write older than a second).
    assert state(running)["state"] in ("running", "queued") and all(state(jid) for jid in queued)
    all_finish([running, *queued], lab)
    # The running job went on, or resumed where it was: never from epoch 1.
    assert all(epoch > 1 for epoch in resumed_at(running, lab))


def test_worker_killed_mid_epoch(lab):
    running, queued = three_jobs()
    old = lab.pid("worker:worker-0")
    os.kill(old, signal.SIGKILL)
    wait_for(lambda: lab.pid("worker:worker-0") not in (None, old), 20, "the worker to be restarted")
    assert healthy(lab)
    wait_for(lambda: state(running).get("resumed_at"), jobs.JOB_MONITORING + jobs.HEARTBEAT_SLACK + 60,
             "the job to resume")
    all_finish([running, *queued], lab)
    assert resumed_at(running, lab)[0] >= 4


def test_ctrl_c_then_start_again(lab):
    running, queued = three_jobs()
    seconds = lab.stop(signal.SIGINT, timeout=30)
    assert seconds < 30
    # The worker stopped the training on its way out and put its job back first in line.
    lab.start()
    assert state(running)["state"] in ("queued", "running") and state(running)["epoch"] >= 3
    all_finish([running, *queued], lab, timeout=300)
    assert resumed_at(running, lab)[0] >= 4


def test_web_server_killed_comes_back_and_the_queue_never_notices(lab):
    jid = jobs.submit(default_config("dense_64_64", epochs=EPOCHS, seed=4), owner="ada").id
    wait_for(lambda: state(jid).get("epoch", 0) >= 1, 240, "the first epoch")
    old = lab.pid("web")
    os.kill(old, signal.SIGKILL)
    wait_for(lambda: lab.pid("web") not in (None, old) and healthy(lab), 60, "the web server to come back")
    before = state(jid)["epoch"]
    wait_for(lambda: state(jid).get("epoch", 0) > before, 30, "the next epoch")
    assert state(jid)["state"] == "running" and state(jid)["resumed_at"] is None  # the training never stopped


def test_no_second_redis_or_lab_on_the_same_folder(lab):
    jid = jobs.submit(default_config("dense_64_64", epochs=1, seed=5), owner="ada").id
    second = subprocess.run(["bash", "scripts/redis.sh"], cwd=ROOT, capture_output=True, text=True, timeout=20,
                            env={**lab.env, "DIGITLAB_REDIS_DIR": str(lab.var / "redis")})
    assert second.returncode == 75 and "A Redis already runs on" in second.stderr
    again = subprocess.run(["bash", "scripts/run_app.sh"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                           env=lab.env)
    assert again.returncode != 0
    # The lab that runs is untouched: same Redis, the job still there.
    assert answers() and state(jid) and healthy(lab)
