"""Training jobs on RQ and Redis: one queue, one job per configuration, any number of workers.

The app enqueues; ``python -m core worker`` processes (here, or on other machines that
reach the same Redis) train. A job's id is its store entry's name, ``<kind>-<config key>``
(``sweep-<key>`` for a sweep's summary), and a Redis lock around "look, then enqueue" makes
a double click, or two students asking at once, start one job. Workers report every epoch
in the job's metadata; a finished job's files travel back through Redis as its result,
and ``collect`` writes them into the runs store, so workers and app need share nothing
but Redis. The shipped cache (``models_cache/``) is never written here.

Job states shown to people: "queued", "waiting" (a sweep summary waiting for its runs),
"running", "done", "failed", "cancelled".
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import asdict
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.command import send_stop_job_command
from rq.job import Dependency, Job, JobStatus
from rq.exceptions import InvalidJobOperation, NoSuchJobError

from rq.registry import FinishedJobRegistry

from core import cache
from core.config import SweepConfig, TrainConfig
# A job's estimate (queue wait, the Train page's "about ..."): the fitted cost model.
from core.timing import estimate_seconds

REDIS_ENV_VAR = "DIGITLAB_REDIS_URL"
QUEUE_NAME = "digitlab"
JOB_TIMEOUT = 6 * 3600  # seconds; the longest default (the conv denoiser) takes about 5 min here
RESULT_TTL = 30 * 86400  # a finished job's files stay in Redis until collected, up to 30 days
FAILURE_TTL = 7 * 86400
ENDED = (JobStatus.FAILED, JobStatus.CANCELED, JobStatus.STOPPED)
SHOWN = {JobStatus.QUEUED: "queued", JobStatus.DEFERRED: "waiting", JobStatus.STARTED: "running",
         JobStatus.FINISHED: "done", JobStatus.FAILED: "failed", JobStatus.CANCELED: "cancelled",
         JobStatus.STOPPED: "cancelled", JobStatus.SCHEDULED: "queued", JobStatus.CREATED: "queued"}


class QueueUnavailable(RuntimeError):
    """Redis cannot be reached: the training queue is not running."""


# What a page catches around a queue call: Redis gone before or during it (a lock that
# times out is a RedisError too).
QUEUE_ERRORS = (QueueUnavailable, RedisError)


def redis_url() -> str:
    """``$DIGITLAB_REDIS_URL``, else the private Redis that ``scripts/run_app.sh`` starts on
    a Unix socket in the runs store."""
    return os.environ.get(REDIS_ENV_VAR) or f"unix://{cache.runs_dir().resolve()}/redis.sock"


@functools.lru_cache(maxsize=4)
def _connection(url: str) -> Redis:
    # One client (and connection pool) per URL per process; redis-py's client is thread-safe.
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=30)


def connection() -> Redis:
    """The Redis client for ``redis_url()``.

    Raises:
        QueueUnavailable: if Redis does not answer (one sentence, for the page).
    """
    conn = _connection(redis_url())
    try:
        conn.ping()
    except Exception as exc:  # redis raises ConnectionError, TimeoutError, ...
        raise QueueUnavailable("The training queue is not running: start the lab with scripts/run_app.sh, "
                               f"or set {REDIS_ENV_VAR} to a running Redis.") from exc
    return conn


def queue(conn: Redis | None = None) -> Queue:
    """The lab's one RQ queue."""
    return Queue(QUEUE_NAME, connection=conn or connection())


def job_id(config: TrainConfig) -> str:
    """A training job's id: the name of its store entry, ``<kind>-<config key>``."""
    return f"{config.kind}-{config.key()}"


def sweep_job_id(sweep: SweepConfig) -> str:
    """The id of a sweep's summary job: the name of its store entry, ``sweep-<key>``."""
    return f"sweep-{sweep.key()}"


def _stuck(job: Job) -> bool:
    """Whether a waiting (deferred) job can never run: RQ treats a cancelled or stopped
    dependency as unmet even with ``allow_failure``, so a sweep summary whose run was
    cancelled would wait forever."""
    if job.get_status(refresh=False) != JobStatus.DEFERRED:
        return False
    for dependency in Job.fetch_many(job.dependency_ids, connection=job.connection):
        if dependency is None or dependency.get_status(refresh=False) in (JobStatus.CANCELED, JobStatus.STOPPED):
            return True
    return False


def _enqueue_once(conn: Redis, jid: str, enqueue) -> Job:
    """Under a Redis lock on ``jid``: return the job if it exists and has not ended (queued,
    running, waiting or done); otherwise delete the ended (or stuck) one and call
    ``enqueue()``."""
    with conn.lock(f"digitlab:lock:{jid}", timeout=30, sleep=0.01, blocking_timeout=30):
        try:
            job = Job.fetch(jid, connection=conn)
            if job.get_status() not in ENDED and not _stuck(job):
                return job
            job.delete()
        except NoSuchJobError:
            pass
        return enqueue()


def submit(config: TrainConfig, owner: str = "") -> Job:
    """Queue training ``config`` unless the same configuration is already queued, running or
    done; return its job.

    Args:
        owner: an opaque id of the session that asks (its Cancel button checks it).

    Raises:
        ValueError: if the config is out of range.
        QueueUnavailable: if Redis cannot be reached.
    """
    config.validate()
    conn = connection()
    jid = job_id(config)
    meta = {"owner": owner, "kind": "train", "config": asdict(config), "epoch": 0, "epochs": config.epochs,
            "history": {}, "estimate_seconds": estimate_seconds(config)}
    return _enqueue_once(conn, jid, lambda: queue(conn).enqueue_call(
        "core.work.train_job", args=(asdict(config),), job_id=jid, timeout=JOB_TIMEOUT, result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL, meta=meta, description=f"train {jid}"))


def submit_sweep(sweep: SweepConfig, owner: str = "") -> Job:
    """Queue a weight-decay sweep as one training job per factor and replicate (runs already
    stored or queued are reused), plus a summary job that runs when the last one ends and
    returns the sweep's results. Returns the summary job.

    Raises:
        QueueUnavailable: if Redis cannot be reached.
    """
    conn = connection()
    runs, stored = [], {}
    for run in sweep.runs():
        root = cache.find(run)
        try:
            history, metrics = cache.load_records(run, root) if root is not None else (None, None)
        except cache.CorruptEntryError:
            root = None  # a damaged entry is trained again
        if root is not None:
            stored[job_id(run)] = {"history": history, "metrics": metrics}
        else:
            runs.append(submit(run, owner))
    jid = sweep_job_id(sweep)
    meta = {"owner": owner, "kind": "sweep", "sweep": asdict(sweep), "runs": [job_id(r) for r in sweep.runs()],
            "epoch": 0, "epochs": 0, "history": {}, "estimate_seconds": 5.0}
    depends = Dependency(jobs=runs, allow_failure=True) if runs else None
    return _enqueue_once(conn, jid, lambda: queue(conn).enqueue_call(
        "core.work.sweep_summary_job", args=(asdict(sweep), stored), job_id=jid, timeout=600,
        result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL, meta=meta, depends_on=depends,
        description=f"summarize {jid}"))


def reason(exc_string: str | None) -> str:
    """One readable sentence for a failed job's traceback or RQ's failure note."""
    text = (exc_string or "").strip()
    if "Job stopped by user" in text:
        return "cancelled"
    if "Work-horse terminated unexpectedly" in text:
        if "(signal 9)" in text:
            return "the worker stopped (killed; perhaps out of memory)"
        return "the worker stopped (" + text.split("waitpid returned", 1)[1].split(";")[0].strip() + ")"
    if "AbandonedJobError" in text:
        return "the worker stopped (it was killed or lost its connection to Redis)"
    if "JobTimeoutException" in text:
        return f"the training ran past the limit of {JOB_TIMEOUT // 3600} hours"
    last = [line for line in text.splitlines() if line.strip()][-1:] or ["unknown error"]
    name, _, message = last[0].partition(": ")
    return f"the training stopped with an error: {message or name}"[:300]


def _ended_text(job: Job) -> str:
    result = job.latest_result()
    return (result.exc_string if result is not None else None) or job.exc_info or ""


def describe(job: Job) -> dict:
    """What a page shows of a job: {"id", "state", "kind" ("train" or "sweep"), "config" or
    "sweep", "owner", "epoch" (epochs finished), "epochs", "progress" (epochs done as a
    float, updated within an epoch), "history", "position" (1-based, queued jobs),
    "wait_seconds" (estimated, queued jobs), "remaining_seconds" (running jobs), "reason"
    (one sentence, failed jobs), "log" (the traceback, failed jobs), "runs" (sweeps:
    {"done", "total"})}."""
    status = job.get_status(refresh=False)
    meta = job.meta or {}
    state = {"id": job.id, "state": SHOWN.get(status, str(status)), "kind": meta.get("kind", "train"),
             "config": meta.get("config"), "sweep": meta.get("sweep"), "owner": meta.get("owner", ""),
             "epoch": meta.get("epoch", 0), "epochs": meta.get("epochs", 0), "history": meta.get("history", {}),
             "progress": meta.get("progress", meta.get("epoch", 0)),
             "position": None, "wait_seconds": None, "remaining_seconds": None, "reason": "", "log": ""}
    if status in ENDED:
        state["log"] = _ended_text(job)
        state["reason"] = reason(state["log"])
        if state["reason"] == "cancelled":
            state["state"] = "cancelled"
    if status == JobStatus.STARTED:
        state["remaining_seconds"] = _remaining(meta)
    if _stuck(job):
        state["state"], state["reason"] = "failed", "a run of this sweep was cancelled; queue the sweep again"
    if meta.get("kind") == "sweep":
        ids = meta.get("runs", [])
        finished = set(FinishedJobRegistry(QUEUE_NAME, connection=job.connection).get_job_ids()) if ids else set()
        done = sum(1 for jid in ids if jid in finished
                   or cache.has_entry(cache.cache_dir(), jid) or cache.has_entry(cache.runs_dir(), jid))
        state["runs"] = {"done": done, "total": len(ids)}
    return state


def _remaining(meta: dict) -> float:
    """Seconds a running job still needs: its measured seconds per epoch (the estimate
    until one epoch is done) times the epochs left."""
    seconds = meta.get("history", {}).get("seconds") or []
    epochs = meta.get("epochs") or 1
    per_epoch = sum(seconds) / len(seconds) if seconds else meta.get("estimate_seconds", 60.0) / epochs
    return per_epoch * max(0, epochs - meta.get("epoch", 0))


def status(jid: str) -> dict:
    """``describe`` of job ``jid``, or {} when Redis knows no such job. A job whose worker
    vanished (the whole worker process killed) is marked failed first.

    Raises:
        QueueUnavailable: if Redis cannot be reached.
    """
    conn = connection()
    queue(conn).started_job_registry.cleanup()
    try:
        job = Job.fetch(jid, connection=conn)
    except NoSuchJobError:
        return {}
    if job.get_status(refresh=False) == JobStatus.QUEUED:
        # Its place and wait depend on every job ahead of it: active() describes it with them.
        row = next((row for row in active() if row["id"] == jid), None)
        if row is not None:
            return row
    return describe(job)


def active() -> list[dict]:
    """Every running, then queued, then waiting job of the server, with positions and
    estimated waits: a queued job waits for the running jobs' remaining time plus the
    estimates of the jobs ahead of it, shared among the workers. Queued rows also carry
    "workers", the number of workers listening (0: nothing will start).

    Raises:
        QueueUnavailable: if Redis cannot be reached.
    """
    conn = connection()
    q = queue(conn)
    q.started_job_registry.cleanup()
    running_workers = Worker.count(queue=q)
    workers = max(1, running_workers)
    running = [j for j in Job.fetch_many(q.started_job_registry.get_job_ids(), connection=conn) if j]
    queued = [j for j in q.get_jobs() if j]
    waiting = [j for j in Job.fetch_many(q.deferred_job_registry.get_job_ids(), connection=conn) if j]
    rows = [describe(j) for j in running]
    ahead = sum(row["remaining_seconds"] or 0.0 for row in rows)
    for position, job in enumerate(queued, start=1):
        row = describe(job)
        row["position"], row["wait_seconds"], row["workers"] = position, ahead / workers, running_workers
        ahead += (job.meta or {}).get("estimate_seconds", 60.0)
        rows.append(row)
    rows += [describe(j) for j in waiting]
    return rows


def cancel(jid: str, owner: str) -> None:
    """Cancel job ``jid`` for the session that queued it: a queued job is taken off the
    queue, a running one is stopped (its worker kills the training process).

    Raises:
        PermissionError: if ``owner`` did not queue it.
        QueueUnavailable: if Redis cannot be reached.
    """
    conn = connection()
    try:
        job = Job.fetch(jid, connection=conn)
    except NoSuchJobError:
        return  # gone already
    if (job.meta or {}).get("owner") != owner:
        raise PermissionError("only the session that queued this job can cancel it")
    if job.meta.get("kind") == "sweep":
        for run in job.meta.get("runs", []):
            try:
                if (Job.fetch(run, connection=conn).meta or {}).get("owner") == owner:
                    cancel(run, owner)
            except NoSuchJobError:
                pass
    try:
        if job.get_status() not in ENDED + (JobStatus.FINISHED, JobStatus.STARTED):
            job.cancel()
        # A worker may have taken it a moment ago: stop the training too.
        if Job.fetch(jid, connection=conn).worker_name:
            send_stop_job_command(conn, jid)
    except (InvalidJobOperation, NoSuchJobError):
        pass  # it ended in between


def collect(root: Path | None = None) -> list[str]:
    """Write every finished job's files that the runs store lacks into it; return the
    entries written. Safe to call from many sessions at once (entries are written
    atomically), and from an app that shares nothing with the workers but Redis.

    Raises:
        QueueUnavailable: if Redis cannot be reached.
    """
    conn = connection()
    root = Path(root or cache.runs_dir())
    written = []
    for jid in FinishedJobRegistry(QUEUE_NAME, connection=conn).get_job_ids():
        if cache.has_entry(root, jid):
            continue
        try:
            result = Job.fetch(jid, connection=conn).return_value()
        except NoSuchJobError:
            continue
        if result and result.get("files"):
            try:
                cache.write_entry(root / jid, result["files"])
            except OSError:
                # Another session (or app replica) wrote it at the same moment: fine.
                if not cache.has_entry(root, jid):
                    raise
                continue
            written.append(jid)
    return written


def run_worker(burst: bool = False, nice: int = 19) -> bool:
    """Run an RQ worker on the lab's queue until stopped (or, with ``burst``, until the
    queue is empty). The worker lowers its own priority first, so its training processes
    (forked per job, in this process's session and scheduling group) yield the CPU to the
    web server; ``core.work`` caps their TensorFlow threads.
    """
    if nice:
        os.nice(nice)
    conn = connection()
    worker = Worker([queue(conn)], connection=conn, job_monitoring_interval=5)
    return worker.work(burst=burst, logging_level="INFO")


def wait(jid: str, timeout: float = 300.0, until=("done", "failed", "cancelled")) -> dict:
    """Poll job ``jid`` until its state is in ``until`` or ``timeout`` seconds pass; return
    its last ``status``."""
    deadline = time.time() + timeout
    while True:
        state = status(jid)
        if state.get("state") in until or time.time() > deadline:
            return state
        time.sleep(0.2)
