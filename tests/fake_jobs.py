"""For the tests of collecting results: finished jobs without training, and a runs store
made unwritable for real.

``finish``: a real RQ worker (``SimpleWorker``, in the test's process) runs
``entry_files`` on the lab's quick queue, so Redis holds a finished job whose result has
the shape ``core.queue.work.train_job`` returns, with the files of the shipped dense 64-64 (a
whole entry: its model.keras is a real Keras file)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from rq import SimpleWorker

from core.config import default_config
from core.paths import ROOT
from core.queue import jobs

SOURCE = ROOT / "models_cache" / f"dense_64_64-{default_config('dense_64_64').key()}"
# The name under which that entry is its own copy in the runs store.
SHIPPED_NAME = SOURCE.name


def entry_files(source: str) -> dict:
    """The job: {"files": {name: bytes}} of the entry folder ``source`` (read only)."""
    return {"files": {path.name: path.read_bytes() for path in sorted(Path(source).iterdir()) if path.is_file()}}


def finish(names: list[str], owner: str = "Ada") -> None:
    """Queue one ``entry_files`` job per name (its job id) and run them all to the end."""
    conn = jobs.connection()
    q = jobs.queue(conn, jobs.QUICK_QUEUE)
    for name in names:
        q.enqueue_call(entry_files, args=(str(SOURCE),), job_id=name, result_ttl=jobs.RESULT_TTL,
                       meta={"owner": owner, "kind": "train"})
    SimpleWorker(jobs.queues(conn), connection=conn).work(burst=True, logging_level="WARNING")
    assert set(names) <= set(jobs.finished_ids(conn)), "the fake jobs did not finish"


@contextmanager
def unwritable(store: Path):
    """Make the runs store ``store`` unwritable for the block, as the operating system
    refuses it: its folder made read-only (0o555); as root, which ignores that, a regular
    file where the folder should be (creating an entry then fails with an OSError too)."""
    store.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        store.chmod(0o555)
        try:
            yield
        finally:
            store.chmod(0o755)
        return
    aside = store.with_name(store.name + "-aside")
    store.rename(aside)
    store.write_text("not a folder\n")
    try:
        yield
    finally:
        store.unlink()
        aside.rename(store)


def killed() -> None:
    """A job whose training process dies as the kernel's out-of-memory killer kills it."""
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


def fail_by_kill(name: str, owner: str = "Ada") -> None:
    """Run ``killed`` as job ``name`` in a real forking RQ worker (in this process), with no
    retry, until it has failed."""
    from rq import Worker

    conn = jobs.connection()
    jobs.queue(conn, jobs.QUICK_QUEUE).enqueue_call(
        killed, job_id=name, meta={"owner": owner, "kind": "train",
                                   "config": {"kind": "dense_64_64", "epochs": 50, "seed": 0}})
    Worker(jobs.queues(conn), connection=conn).work(burst=True, logging_level="WARNING")
