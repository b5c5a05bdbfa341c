"""Faults said in one sentence, with nothing lost ("every failure in words"): an
unwritable or full runs store (the finished result waits in Redis and is written once the
store can be written), a Redis that refuses writes (out of memory, cannot save to its
disk, a read-only replica), and collection from many processes at once writing each entry
exactly once. Real processes throughout: redis-server, RQ workers, the runs store on disk."""

import json
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis
from rq.job import Job
from streamlit.testing.v1 import AppTest

import fake_jobs
from core.config import default_config
from core.paths import ROOT
from core.queue import jobs
from core.store import cache
from fake_jobs import unwritable


def one_sentence(text: str) -> bool:
    return "\n" not in text and "Traceback" not in text and ". " not in text and text.endswith(".")


def test_an_unwritable_store_keeps_the_result_in_redis_and_writes_it_later(worker, queue_env):
    config = default_config("dense_64_64", epochs=1, train_size=500)
    jid = jobs.submit(config, owner="Ada").id
    with unwritable(queue_env):
        assert jobs.wait(jid, 240)["state"] == "done"
        with pytest.raises(jobs.StoreUnwritable) as caught:
            jobs.collect()
        message = str(caught.value)
        assert str(queue_env) in message and one_sentence(message), message
        assert isinstance(caught.value.__cause__, OSError)
        # Nothing is lost: the finished job and its files are still in Redis.
        assert jid in jobs.finished_ids()
        assert Job.fetch(jid, connection=jobs.connection()).return_value()["files"]["model.keras"]
        with pytest.raises(jobs.StoreUnwritable):
            jobs.collect()
    assert jobs.collect() == [jid]
    history, metrics = cache.check_entry(cache.entry_path(config, queue_env))
    assert metrics["key"] == config.key() and cache.trained_by(queue_env / jid) == "Ada"
    assert jobs.collect() == []
    assert not [p for p in queue_env.iterdir() if p.name.startswith(".")]  # no half-written folder left


def _limit_file_size():
    # A full disk as the kernel enforces it on every user, root included: no file may grow past
    # 4 KiB (the write fails with EFBIG instead of the process being killed by SIGXFSZ).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_a_store_that_cannot_grow_tries_every_entry_then_says_so(queue_env):
    names = [f"fake-{i}" for i in range(3)]
    fake_jobs.finish(names)
    code = ("import json\nfrom core.queue import jobs\ntry:\n    jobs.collect()\nexcept jobs.StoreUnwritable as exc:\n"
            "    print(json.dumps({'message': str(exc), 'errno': exc.__cause__.errno}))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         preexec_fn=_limit_file_size)
    assert out.returncode == 0, out.stderr
    said = json.loads(out.stdout)
    assert said["errno"] == 27 and one_sentence(said["message"])  # EFBIG
    assert not list(queue_env.iterdir())  # each entry was tried; none was left half-written
    assert sorted(jobs.collect()) == names


COLLECTOR = """
import json, sys, time
from core.queue import jobs
start = float(sys.argv[1])
time.sleep(max(0.0, start - time.time()))
print(json.dumps(jobs.collect()))
"""


def test_collecting_from_four_processes_writes_each_entry_once(queue_env):
    # Without the lock on each entry, the same run wrote 38-40 times for 12 entries.
    names = [f"fake-{i:02d}" for i in range(12)]
    fake_jobs.finish(names)
    # Four processes, started together (Python's start takes a while: they wait for one moment).
    start = time.time() + 3.0
    processes = [subprocess.Popen([sys.executable, "-c", COLLECTOR, str(start)], cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err for _, err in outputs]
    written = [name for out, _ in outputs for name in json.loads(out)]
    assert sorted(written) == names  # each entry exactly once, by one of the four
    assert all(cache.whole_entry(queue_env, name) for name in names)
    assert jobs.collect() == []


def test_a_damaged_entry_is_replaced_from_the_result_redis_still_has(queue_env):
    fake_jobs.finish([fake_jobs.SHIPPED_NAME])
    assert jobs.collect() == [fake_jobs.SHIPPED_NAME]
    entry = queue_env / fake_jobs.SHIPPED_NAME
    (entry / "metrics.json").write_text('{"kind": "dense_64_64", "te')  # edited by hand, cut short
    assert not cache.whole_entry(queue_env, entry.name)
    assert jobs.collect() == [entry.name]
    cache.check_entry(entry)
    data = (entry / "model.keras").read_bytes()
    (entry / "model.keras").write_bytes(data[: len(data) // 2])  # a truncated model.keras
    assert jobs.collect() == [entry.name] and (entry / "model.keras").read_bytes() == data


# Redis refusing writes -------------------------------------------------------------------


@pytest.fixture
def refusing_redis(tmp_path, monkeypatch):
    """A redis-server of this test's own (never the shared fixture's), saving snapshots into
    ``tmp_path`` so a failed save can be made; the queue's URL points at it. Yields a client."""
    sock = tmp_path / "redis.sock"
    process = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", str(sock), "--dir", str(tmp_path),
                                "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    deadline = time.time() + 10
    while not sock.exists():
        assert time.time() < deadline, "redis-server did not start"
        time.sleep(0.05)
    monkeypatch.setenv("DIGITLAB_REDIS_URL", f"unix://{sock}")
    monkeypatch.setenv("DIGITLAB_RUNS", str(tmp_path / "runs"))
    try:
        yield Redis.from_url(f"unix://{sock}")
    finally:
        process.kill()
        process.wait(10)


def fail_to_save(r: Redis, folder: Path) -> None:
    """Make Redis's snapshot fail for real: its file name is taken by a folder, so the
    rename of the finished snapshot fails; with a save point set, Redis then refuses every
    write (stop-writes-on-bgsave-error, its default) with MISCONF."""
    (folder / "dump.rdb").mkdir()
    (folder / "dump.rdb" / "keep").write_text("x")
    r.config_set("save", "3600 1")
    r.bgsave()
    deadline = time.time() + 10
    while r.info("persistence")["rdb_bgsave_in_progress"] or r.info("persistence")["rdb_last_bgsave_status"] == "ok":
        assert time.time() < deadline, "the snapshot did not fail"
        time.sleep(0.05)


def refused_submission() -> str:
    """What the queue says when it refuses Ada's dense 64-64 job (it must refuse it)."""
    with pytest.raises(jobs.QUEUE_ERRORS) as caught:
        jobs.submit(default_config("dense_64_64", epochs=3), owner="Ada")
    return jobs.problem(caught.value)


def the_train_page_says(said: str) -> None:
    """The Train page, after Train is clicked, shows ``said`` as a warning and no traceback."""
    at = train_page_after_clicking_train()
    assert not at.exception, [e.value for e in at.exception]
    assert said in [w.value for w in at.warning]


def train_page_after_clicking_train() -> AppTest:
    at = AppTest.from_file("../pages/train.py", default_timeout=120)
    at.session_state["student"] = "Ada"
    at.run()
    at.selectbox(key="train-kind").set_value("dense_64_64").run()
    at.number_input(key="dense_64_64-epochs").set_value(3).run()
    train = [b for b in at.main.button if b.label == "Train"]
    if train:
        train[0].click().run()
    return at


def test_a_redis_out_of_memory_is_one_sentence(refusing_redis):
    refusing_redis.config_set("maxmemory-policy", "noeviction")
    refusing_redis.config_set("maxmemory", "1")
    said = refused_submission()
    assert "out of memory" in said and one_sentence(said), said
    the_train_page_says(said)


def test_a_redis_that_cannot_save_is_one_sentence(refusing_redis, tmp_path):
    fail_to_save(refusing_redis, tmp_path)
    said = refused_submission()
    # Redis refuses even PING then: connection() says "not answering", raised from MISCONF.
    assert "cannot save to its disk" in said and one_sentence(said), said
    the_train_page_says(said)


def test_a_read_only_replica_is_one_sentence(refusing_redis):
    refusing_redis.execute_command("REPLICAOF", "127.0.0.1", "1")  # a master that is never there
    assert "read-only copy" in refused_submission()


def test_a_stopped_redis_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_REDIS_URL", f"unix://{tmp_path}/no-redis.sock")
    assert refused_submission().startswith("The training queue is not running or not answering")


# Pages over an unwritable store -----------------------------------------------------------

PAGES = ["pages/train.py", "pages/regularization.py", "pages/mistakes.py", "pages/compare.py", "pages/inside.py",
         "pages/overview.py"]
COLLECTING = {"pages/train.py", "pages/regularization.py", "pages/mistakes.py", "pages/compare.py"}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_over_an_unwritable_store_says_so_without_an_error(queue_env, page):
    fake_jobs.finish([fake_jobs.SHIPPED_NAME])
    with unwritable(queue_env):
        at = AppTest.from_file("../app.py", default_timeout=120)
        at.run()
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        warnings = [w.value for w in at.warning]
        said = [w for w in warnings if w.startswith("The runs store (")]
        if page in COLLECTING:
            assert said and one_sentence(said[0]) and str(queue_env) in said[0], warnings
        if page == "pages/train.py":
            assert len(said) == 2  # above the result and in the job list
    assert jobs.collect() == [fake_jobs.SHIPPED_NAME]  # written once the store can be


def test_the_train_page_says_a_finished_result_waits_then_shows_it(queue_env):
    config = default_config("dense_64_64", epochs=1, train_size=10_000)  # a quick look, 1 epoch
    fake_jobs.finish([jobs.job_id(config)])
    with unwritable(queue_env):
        at = AppTest.from_file("../pages/train.py", default_timeout=120)
        at.session_state["student"] = "Ada"
        at.run()
        at.selectbox(key="train-kind").set_value("dense_64_64").run()
        at.number_input(key="dense_64_64-epochs").set_value(1).run()
        at.checkbox(key="dense_64_64-quick_look").check().run()  # finished, unwritten: no rerun loop
        assert not at.exception, [e.value for e in at.exception]
        assert any("result waits in the training queue" in i.value for i in at.info)
        assert any(w.value.startswith("The runs store (") for w in at.warning)
        assert "Train" not in [b.label for b in at.main.button]
    at.run()  # the store can be written again: the next run writes the result and shows it
    assert not at.exception
    assert any("trained here" in s.value for s in at.success)
    assert not any(w.value.startswith("The runs store (") for w in at.warning)
