"""The training queue on a real redis-server (tests/conftest.py starts one) and real workers."""

import os
import signal
import threading
import time

import pytest
from rq.job import Job

from core.config import SweepConfig, default_config
from core.queue import jobs
from core.store import cache
from waiting import wait_for


def tiny(**overrides):
    return default_config("dense_64_64", **{"epochs": 2, "train_size": 500, **overrides})


def test_concurrent_starts_make_one_job(queue_env):
    trials, threads = 200, 4
    barrier = threading.Barrier(threads)
    for trial in range(trials):
        config = tiny(seed=trial)
        ids, errors = [], []

        def start():
            try:
                barrier.wait()
                ids.append(jobs.submit(config, owner=threading.current_thread().name).id)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        workers = [threading.Thread(target=start) for _ in range(threads)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        assert not errors and len(set(ids)) == 1 and ids[0] == jobs.job_id(config)
    q = jobs.queue(name=jobs.QUICK_QUEUE)  # tiny jobs are quick ones
    assert q.count == trials and len(set(q.job_ids)) == trials


def test_queue_positions_and_waits(queue_env):
    for seed in range(3):
        jobs.submit(tiny(seed=seed))
    rows = jobs.active()
    assert [row["position"] for row in rows] == [1, 2, 3]
    waits = [row["wait_seconds"] for row in rows]
    assert waits[0] == 0 and waits[1] < waits[2] and waits[1] == pytest.approx(rows[0]["wait_seconds"]
                                                                              + jobs.job_seconds(tiny()))


def test_job_finished_unwatched_shows_done_and_is_collected(worker, queue_env):
    config = tiny()
    jid = jobs.submit(config, owner="a").id
    # Nobody polls the job while it runs; it is looked at only once it has finished.
    wait_for(lambda: jid in jobs.finished_ids(), 240, "the job to finish")
    state = jobs.status(jid)
    assert state["state"] == "done" and state["epoch"] == 2 and len(state["history"]["val_accuracy"]) == 2
    assert not cache.is_cached(config, queue_env)
    assert jobs.collect() == [jid]
    assert cache.is_cached(config, queue_env) and not cache.is_cached(config)  # runs/, never models_cache/
    history, metrics = cache.load_records(config, queue_env)
    assert metrics["key"] == config.key() and history["val_accuracy"] == state["history"]["val_accuracy"]
    assert jobs.collect() == []  # once
    # Asking again for a finished configuration does not train it again.
    assert jobs.submit(config).get_status() == "finished"


def test_your_own_network_on_fashion_mnist_trains_through_a_worker(worker, queue_env):
    from core.config import TrainConfig

    config = TrainConfig("custom", epochs=1, batch_size=50, train_size=300, dataset="fashion_mnist",
                         layers=(("conv2d", 4, 3, "relu"), ("maxpool",), ("dropout", 0.2), ("dense", 16, "relu")))
    jid = jobs.submit(config, owner="a").id
    wait_for(lambda: jid in jobs.finished_ids(), 240, "the job to finish")
    assert jobs.collect() == [jid] and cache.is_cached(config, queue_env)
    history, metrics = cache.load_records(config, queue_env)
    # The worker rebuilt the layers and the data set from the job's JSON.
    assert TrainConfig.from_fields(metrics["config"]) == config and metrics["dataset"] == "fashion_mnist"
    assert len(history["val_accuracy"]) == 1 and jid == f"custom-{config.key()}"


def test_cancel_queued_job_only_by_its_owner(queue_env):
    config = tiny()
    jid = jobs.submit(config, owner="alice").id
    with pytest.raises(PermissionError):
        jobs.cancel(jid, owner="bob")
    jobs.cancel(jid, owner="alice")
    assert jobs.status(jid)["state"] == "cancelled" and jobs.queued_count() == 0
    # A cancelled configuration can be queued again.
    assert jobs.submit(config, owner="bob").get_status() == "queued"


def _running(jid, min_epoch=1):
    state = jobs.status(jid)
    return state.get("state") == "running" and state["epoch"] >= min_epoch


def test_cancel_running_job(worker, queue_env):
    config = default_config("dense_64_64", epochs=50)
    jid = jobs.submit(config, owner="alice").id
    wait_for(lambda: _running(jid), 180, "the first epoch")
    jobs.cancel(jid, owner="alice")
    wait_for(lambda: jobs.status(jid)["state"] != "running", 30, "the job to stop")
    assert jobs.status(jid)["state"] == "cancelled"
    assert jobs.collect() == [] and not cache.is_cached(config, queue_env)


def test_training_killed_mid_epoch_resumes_from_its_last_epoch(worker, queue_env):
    config = default_config("dense_64_64", epochs=30)
    jid = jobs.submit(config, owner="alice").id
    wait_for(lambda: jobs.status(jid).get("epoch", 0) >= 3, 180, "three epochs")
    # The training process (the work horse RQ forked for the job) dies as the kernel's
    # out-of-memory killer would kill it: SIGKILL, in the middle of an epoch.
    os.kill(Job.fetch(jid, connection=jobs.connection()).meta["pid"], signal.SIGKILL)
    wait_for(lambda: jobs.status(jid).get("resumed_at"), 60, "the job to resume")
    resumed_at = jobs.status(jid)["resumed_at"]
    assert resumed_at >= 4
    wait_for(lambda: jobs.status(jid)["state"] == "done", 180, "the job to finish")
    assert jobs.collect() == [jid] and worker.poll() is None
    history, metrics = cache.load_records(config, queue_env)
    assert metrics["resumed_at_epochs"] == [resumed_at] and len(history["loss"]) == 30
    assert history["seconds"] == sorted(history["seconds"])  # one clock across the resume


def test_a_job_that_fails_three_times_stops_with_one_sentence(worker, queue_env):
    job = jobs.queue().enqueue_call("core.queue.work.train_job", args=({"kind": "resnet", "epochs": 1},), job_id="bad",
                                    retry=jobs._retry())
    wait_for(lambda: jobs.status(job.id)["state"] == "failed", 120, "the job to fail three times")
    state = jobs.status(job.id)
    assert state["reason"].startswith("the training stopped with an error: kind must be one of")
    assert state["reason"].endswith(f"({jobs.TRIES} tries)")


def test_error_in_training_is_one_sentence(worker, queue_env):
    job = jobs.queue().enqueue_call("core.queue.work.train_job", args=({"kind": "resnet", "epochs": 1},), job_id="bad")
    wait_for(lambda: jobs.status(job.id)["state"] == "failed", 120, "the job to fail")
    state = jobs.status(job.id)
    assert state["reason"].startswith("the training stopped with an error: kind must be one of")
    assert "\n" not in state["reason"] and "Traceback" in state["log"]


def test_sweep_is_many_jobs_then_a_summary(worker, queue_env):
    sweep = SweepConfig(l2_factors=(0.0, 1e-4), replicates=1, epochs=1, train_size=300)
    summary = jobs.submit_sweep(sweep, owner="teacher")
    assert summary.id == jobs.sweep_job_id(sweep)
    assert jobs.status(summary.id)["state"] == "waiting"
    assert sorted(r["id"] for r in jobs.active() if r["kind"] == "train") == sorted(
        jobs.job_id(run) for run in sweep.runs())
    wait_for(lambda: jobs.status(summary.id)["state"] in ("done", "failed"), 300, "the sweep")
    state = jobs.status(summary.id)
    assert state["state"] == "done", state["log"]
    assert state["runs"] == {"done": 2, "total": 2}
    assert sorted(jobs.collect()) == sorted([summary.id] + [jobs.job_id(run) for run in sweep.runs()])
    results = cache.load_experiment("sweep", sweep.key(), queue_env)
    assert [row["l2"] for row in results["summary"]] == [0.0, 1e-4]
    assert results["chosen_l2"] in (0.0, 1e-4) and len(results["rows"]) == 2


def test_whole_worker_killed_puts_the_job_back_once_its_heartbeat_expires(worker, queue_env):
    """The worker process dies (`kill -9`, a machine lost): nothing is left to report, so
    once its heartbeat expires (the monitoring interval plus ``HEARTBEAT_SLACK``) the job
    goes back to the front of the line by itself, and the next worker resumes it."""
    config = default_config("dense_64_64", epochs=30)
    jid = jobs.submit(config, owner="alice").id
    wait_for(lambda: jobs.status(jid).get("epoch", 0) >= 2, 180, "two epochs")
    horse = Job.fetch(jid, connection=jobs.connection()).meta["pid"]
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    # Its training process dies with it (core.queue.work asks Linux for that), not training on alone.
    wait_for(lambda: not os.path.exists(f"/proc/{horse}") or open(f"/proc/{horse}/stat").read().split()[2] == "Z",
             10, "the training process to die with its worker")
    assert jobs.status(jid)["state"] == "running"  # nobody knows yet
    wait_for(lambda: jobs.status(jid).get("stalled"), jobs.JOB_MONITORING + 10, "the job to look stalled")
    wait_for(lambda: jobs.status(jid)["state"] == "queued", jobs.JOB_MONITORING + jobs.HEARTBEAT_SLACK + 10,
             "the job to go back in the line")
    state = jobs.status(jid)
    assert state["position"] == 1 and state["epoch"] >= 2
    import subprocess
    import sys

    again = subprocess.Popen([sys.executable, "-m", "core", "worker"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: jobs.status(jid)["state"] == "done", 240, "the resumed job")
    finally:
        again.terminate()
        again.wait(15)
    assert jobs.collect() == [jid]
    assert cache.load_records(config, queue_env)[1]["resumed_at_epochs"][0] >= 3


def test_a_sweep_whose_run_was_cancelled_fails_and_can_be_queued_again(queue_env):
    sweep = SweepConfig(l2_factors=(0.0, 1e-4), replicates=1, epochs=1, train_size=300)
    summary = jobs.submit_sweep(sweep, owner="teacher")
    jobs.cancel(jobs.job_id(sweep.runs()[0]), owner="teacher")
    state = jobs.status(summary.id)
    assert state["state"] == "failed" and "cancelled" in state["reason"]
    again = jobs.submit_sweep(sweep, owner="teacher")
    assert jobs.status(again.id)["state"] == "waiting"
    assert jobs.status(jobs.job_id(sweep.runs()[0]))["state"] == "queued"


def test_a_worker_waits_for_redis_to_come_back_and_goes_on(tmp_path, monkeypatch):
    """Not supervised (a worker started by hand on another machine): Redis stops for a few
    seconds, mid-training; the worker neither quits nor needs a restart, and the job ends."""
    import subprocess
    import sys

    from scripts.harness import redis_server

    folder = tmp_path / "redis"
    folder.mkdir()
    monkeypatch.setenv("DIGITLAB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("DIGITLAB_CHECKPOINTS", str(tmp_path / "checkpoints"))
    with redis_server(folder) as url:
        monkeypatch.setenv("DIGITLAB_REDIS_URL", url)
        worker = subprocess.Popen([sys.executable, "-m", "core", "worker"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        config = default_config("dense_64_64", epochs=15)
        jid = jobs.submit(config, owner="alice").id
        wait_for(lambda: _running(jid, 2), 180, "two epochs")
    # Redis is gone (no persistence here: the job is lost with it, which is the point of the
    # append-only file in run_app.sh; this test is about the worker).
    time.sleep(6)  # past the worker's 5 s heartbeat: RQ's own loop has quit by now
    assert worker.poll() is None
    try:
        with redis_server(folder) as url:
            jid = jobs.submit(tiny(seed=9), owner="alice").id
            wait_for(lambda: jobs.status(jid).get("state") == "done", 120, "a job after Redis came back")
            assert worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(15)


def test_a_first_try_never_resumes_a_checkpoint_left_by_an_earlier_job(worker, queue_env):
    """A job id is its settings' hash: a cancelled run of the same settings leaves its
    checkpoint under the same name. The next job's first try starts at epoch 1."""
    config = default_config("dense_64_64", epochs=30)
    jid = jobs.submit(config, owner="alice").id
    wait_for(lambda: _running(jid, 3), 180, "three epochs")
    jobs.cancel(jid, owner="alice")
    wait_for(lambda: jobs.status(jid)["state"] == "cancelled", 30, "the job to stop")
    assert (queue_env.parent / "checkpoints" / jid).is_dir()  # left behind by the cancelled run
    jobs.submit(config, owner="alice")
    wait_for(lambda: jobs.status(jid)["state"] == "done", 240, "the job queued again")
    jobs.collect()
    assert "resumed_at_epochs" not in cache.load_records(config, queue_env)[1]
