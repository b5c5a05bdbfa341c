"""The app's background worker: a `python -m core train` process that reports progress."""

import json
import os
import signal
import time

from core import cache, jobs
from core.config import default_config


def test_job_trains_reports_progress_and_caches(tmp_cache):
    config = default_config("dense_64_64", epochs=2, train_size=500)
    path = jobs.start(config.key(), ["train", "--config", json.dumps(config.__dict__)])
    first = jobs.status(config.key())
    assert first["status"] == "running" and first["pid"]
    # A second start while it runs does not start another process.
    assert jobs.start(config.key(), ["train", "--config", json.dumps(config.__dict__)]) == path
    assert jobs.status(config.key())["pid"] == first["pid"]
    deadline = time.time() + 240
    while jobs.status(config.key()).get("status") == "running" and time.time() < deadline:
        time.sleep(0.5)
    state = jobs.status(config.key())
    assert state["status"] == "done", state
    assert state["epoch"] == 2 and len(state["history"]["val_accuracy"]) == 2
    assert cache.is_cached(config)


def test_job_that_dies_is_reported_failed(tmp_cache):
    jobs.start("bad", ["train", "--config", '{"kind": "resnet", "epochs": 1}'])
    deadline = time.time() + 120
    while jobs.status("bad").get("status") == "running" and time.time() < deadline:
        time.sleep(0.5)
    state = jobs.status("bad")
    assert state["status"] == "failed" and "kind must be one of" in state["message"]


def test_job_killed_mid_run_is_reported_failed(tmp_cache):
    config = default_config("dense_64_64", epochs=50)
    jobs.start("killed", ["train", "--config", json.dumps(config.__dict__)])
    # Kill it mid-training: after its first epoch, with TensorFlow loaded and working.
    deadline = time.time() + 180
    while jobs.status("killed").get("epoch", 0) < 1 and time.time() < deadline:
        time.sleep(0.2)
    state = jobs.status("killed")
    assert state["status"] == "running" and state["epoch"] >= 1, state
    os.kill(state["pid"], signal.SIGKILL)
    deadline = time.time() + 30
    while jobs.status("killed").get("status") == "running" and time.time() < deadline:
        time.sleep(0.2)
    assert jobs.status("killed")["status"] == "failed"
    assert "stopped" in jobs.status("killed")["message"]
    assert not cache.is_cached(config)
