"""Training jobs on RQ and Redis: three queues served in order, one job per configuration,
any number of workers.

The app enqueues; ``python -m core worker`` processes (here, or on other machines that
reach the same Redis) train. A job's id is its store entry's name, ``<kind>-<config key>``
(``sweep-<key>`` for a sweep's summary), and a Redis lock around "look, then enqueue" makes
a double click, or two students asking at once, start one job. Workers report every epoch
in the job's metadata; a finished job's files travel back through Redis as its result,
and ``collect`` writes them into the runs store, so workers and app need share nothing
but Redis. The shipped cache (``models_cache/``) is never written here.

Fairness uses RQ's own mechanisms: a worker listens to the teacher's queue, then the
queue of quick jobs (at most ``QUICK_SECONDS`` of a worker's time), then the rest, and
takes the first job of the first non-empty one; the teacher pauses the queue with RQ's
suspension. ``submit`` refuses, with one sentence, a student's job over the cap or beyond
their number of jobs (``core.queue.classroom.Rules``).

Job states shown to people: "queued", "waiting" (a sweep summary waiting for its runs),
"running", "done", "failed", "cancelled".
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

from redis import Redis
from redis.exceptions import (ConnectionError as RedisConnectionError, LockError, OutOfMemoryError, ReadOnlyError,
                              RedisError, ResponseError, TimeoutError as RedisTimeoutError)
from rq import Queue, Worker
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Dependency, Job, JobStatus, Retry
from rq.registry import FailedJobRegistry, FinishedJobRegistry
from rq.suspension import is_suspended, resume, suspend

from core.config import SweepConfig, TrainConfig
from core.paths import ROOT
from core.store import cache
# A job's estimate (queue wait, the Train page's "about ..."): the fitted cost model.
from core.training.timing import estimate_seconds

REDIS_ENV_VAR = "DIGITLAB_REDIS_URL"
REDIS_DIR_ENV_VAR = "DIGITLAB_REDIS_DIR"
QUEUE_NAME = "digitlab"  # the long jobs' queue (the lab's only queue before the classroom rules)
QUICK_QUEUE = "digitlab-quick"
TEACHER_QUEUE = "digitlab-teacher"
# The order workers serve them in (RQ takes the first job of the first non-empty queue).
QUEUE_NAMES = (TEACHER_QUEUE, QUICK_QUEUE, QUEUE_NAME)
QUICK_SECONDS = 60.0  # a job estimated at most this long (start included) is a quick one
# What a job costs a worker besides its epochs: forking, importing TensorFlow, reading the
# data, building the model (before the first epoch); testing and saving (after the last):
# RQ's started_at to ended_at minus the recorded training time, over short jobs on this
# machine, most of it TensorFlow's import (README.md, "Constants in the code").
START_SECONDS = 3.5
FINISH_SECONDS = 1.0
JOB_TIMEOUT = 6 * 3600  # seconds; far above the longest default training, so only a hung job ends
RESULT_TTL = 30 * 86400  # a finished job's files stay in Redis until collected, up to 30 days
FAILURE_TTL = 7 * 86400
# A job interrupted by a fault (its worker or Redis killed, the lab stopped) or failing goes
# back to the front of its queue by itself, and resumes from its last epoch (core.queue.work); after
# TRIES runs that all ended that way it stops with its one sentence.
TRIES = 3
# A running job's worker confirms it every JOB_MONITORING seconds; one silent for
# HEARTBEAT_SLACK seconds more is taken as stopped and put back on the queue (by the next
# worker's maintenance, every MAINTENANCE seconds, or any page that lists the jobs). RQ's
# own slack is 60 s: a student would watch a frozen "6 of 30 epochs" for a minute.
JOB_MONITORING = 5
HEARTBEAT_SLACK = 15
MAINTENANCE = 10
ENDED = (JobStatus.FAILED, JobStatus.CANCELED, JobStatus.STOPPED)
ACTIVE = (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED, JobStatus.CREATED)
SHOWN = {JobStatus.QUEUED: "queued", JobStatus.DEFERRED: "waiting", JobStatus.STARTED: "running",
         JobStatus.FINISHED: "done", JobStatus.FAILED: "failed", JobStatus.CANCELED: "cancelled",
         JobStatus.STOPPED: "cancelled", JobStatus.SCHEDULED: "queued", JobStatus.CREATED: "queued"}


class QueueUnavailable(RuntimeError):
    """Redis cannot be reached: the training queue is not running."""

    # Said to students too: under scripts/run_app.sh a Redis that died is back within seconds.
    MESSAGE = ("The training queue is not running or not answering: queued jobs are kept, and a lab started with "
               f"scripts/run_app.sh brings it back by itself within seconds (else set {REDIS_ENV_VAR} to a running "
               "Redis).")


# What a page catches around a queue call: Redis gone before or during it (a lock that
# times out is a RedisError too).
QUEUE_ERRORS = (QueueUnavailable, RedisError)


def problem(exc: BaseException) -> str:
    """One sentence for people on a ``QUEUE_ERRORS`` exception (or one it was raised from):
    Redis not running or not answering; refusing changes because it cannot save to its
    disk (MISCONF: full or unwritable), because it is out of memory (OOM) or because it is
    a read-only replica (READONLY); busy (a lock not had in time); else its first line.
    Redis refuses even PING while it cannot save, so ``connection`` raises
    ``QueueUnavailable`` from a MISCONF error: the causes are looked at first."""
    chain, seen = [], exc
    while seen is not None and len(chain) < 5:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for err in chain:
        text = str(err)
        if isinstance(err, ResponseError) and text.startswith("MISCONF"):
            return ("The training queue cannot save to its disk (full or not writable), so it refuses changes "
                    "for now: nothing can be queued or cancelled until the operator frees it.")
        if isinstance(err, OutOfMemoryError):
            return ("The training queue is out of memory, so it refuses changes for now: nothing can be queued "
                    "until the operator gives it more memory or clears old results.")
        if isinstance(err, ReadOnlyError):
            return ("The training queue answering here is a read-only copy, so it refuses changes: the operator "
                    f"points {REDIS_ENV_VAR} at the main one.")
        if isinstance(err, LockError):
            return "The training queue is busy and did not answer in time: try again in a moment."
    if isinstance(exc, QueueUnavailable) or any(isinstance(e, (RedisConnectionError, RedisTimeoutError))
                                                for e in chain):
        return str(exc) if isinstance(exc, QueueUnavailable) else QueueUnavailable.MESSAGE
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return f"The training queue answered with an error ({first[:160]})."


def redis_url() -> str:
    """``$DIGITLAB_REDIS_URL``, else the private Redis that ``scripts/run_app.sh`` starts on
    a Unix socket in its own data folder (``$DIGITLAB_REDIS_DIR``, default ``var/redis``)."""
    folder = Path(os.environ.get(REDIS_DIR_ENV_VAR) or ROOT / "var" / "redis")
    return os.environ.get(REDIS_ENV_VAR) or f"unix://{folder.resolve()}/redis.sock"


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
        raise QueueUnavailable(QueueUnavailable.MESSAGE) from exc
    return conn


def queue(conn: Redis | None = None, name: str = QUEUE_NAME) -> Queue:
    """One of the lab's RQ queues (default: the long jobs' queue)."""
    return Queue(name, connection=conn or connection())


def queues(conn: Redis | None = None) -> list[Queue]:
    """The lab's queues in the order workers serve them: teacher, quick, long."""
    conn = conn or connection()
    return [Queue(name, connection=conn) for name in QUEUE_NAMES]


def queued_count(conn: Redis | None = None) -> int:
    """How many jobs wait in the lab's queues (running and waiting-for-runs jobs excluded)."""
    return sum(q.count for q in queues(conn))


def finished_ids(conn: Redis | None = None) -> list[str]:
    """The ids of the finished jobs whose results Redis still keeps, over the lab's queues."""
    conn = conn or connection()
    return [jid for name in QUEUE_NAMES for jid in FinishedJobRegistry(name, connection=conn).get_job_ids()]


def job_id(config: TrainConfig) -> str:
    """A training job's id: the name of its store entry, ``<kind>-<config key>``."""
    return config.entry


def sweep_job_id(sweep: SweepConfig) -> str:
    """The id of a sweep's summary job: the name of its store entry, ``sweep-<key>``."""
    return sweep.entry


def job_seconds(config: TrainConfig) -> float:
    """A job's estimated worker time in seconds: ``estimate_seconds`` (its epochs) plus the
    measured start and finish (``START_SECONDS``, ``FINISH_SECONDS``). The one estimate the
    Train page shows before *Train*, the queue's waits use and the cap is checked against."""
    return START_SECONDS + estimate_seconds(config) + FINISH_SECONDS


def lane(seconds: float, teacher: bool = False) -> str:
    """The queue a job of ``seconds`` estimated worker time joins."""
    if teacher:
        return TEACHER_QUEUE
    return QUICK_QUEUE if seconds <= QUICK_SECONDS else QUEUE_NAME


def _retry() -> Retry:
    # At the front: a resumed job goes on before the jobs queued after it started.
    return Retry(max=TRIES - 1, enqueue_at_front=True)


class Refused(ValueError):
    """A student's job the class's rules do not let in; the message says what to change."""


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


def _active_jobs(conn: Redis) -> tuple[list[Job], list[Job], list[Job]]:
    """(running, queued in the order workers take them, waiting) over the lab's queues."""
    running, queued, waiting = [], [], []
    for q in queues(conn):
        q.started_job_registry.cleanup()
        running += [j for j in Job.fetch_many(q.started_job_registry.get_job_ids(), connection=conn) if j]
        queued += [j for j in q.get_jobs() if j]
        waiting += [j for j in Job.fetch_many(q.deferred_job_registry.get_job_ids(), connection=conn) if j]
    return running, queued, waiting


def owners_jobs(owner: str, conn: Redis | None = None) -> list[Job]:
    """``owner``'s jobs queued, running or waiting; a sweep's runs count as the sweep."""
    conn = conn or connection()
    return [job for group in _active_jobs(conn) for job in group
            if (job.meta or {}).get("owner") == owner and not (job.meta or {}).get("part_of")]


def _check_rules(conn: Redis, owner: str, seconds: float, limit: int | None, cap_seconds: float | None) -> None:
    """Raise ``Refused`` if a new job of ``seconds`` by ``owner`` breaks the rules."""
    if cap_seconds is not None and seconds > cap_seconds:
        raise Refused(f"This job needs about {duration(seconds)} of a worker's time and this class's cap is "
                      f"{duration(cap_seconds)}: choose fewer epochs, a smaller model or a quick look, or ask "
                      "the teacher.")
    if limit is None:
        return
    if limit <= 0:
        raise Refused("The teacher has closed the training queue to students for now.")
    mine = owners_jobs(owner, conn)
    if len(mine) >= limit:
        jobs_text = "one job" if limit == 1 else f"{limit} jobs"
        raise Refused(f"You already have {jobs_text} in the line (the most each student may have here): "
                      "wait for it to finish, or cancel it, to queue another.")


def duration(seconds: float) -> str:
    """Seconds in words: "40 s" below a minute and a half, else "7 min"."""
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _enqueue_once(conn: Redis, jid: str, enqueue, check=lambda: None) -> Job:
    """Under a Redis lock on ``jid``: return the job if it exists and has not ended (queued,
    running, waiting or done); otherwise delete the ended (or stuck) one, call ``check()``
    (which may raise ``Refused``) and ``enqueue()``."""
    with conn.lock(f"digitlab:lock:{jid}", timeout=30, sleep=0.01, blocking_timeout=30):
        try:
            job = Job.fetch(jid, connection=conn)
            if job.get_status() not in ENDED and not _stuck(job):
                return job
            job.delete()
        except NoSuchJobError:
            pass
        check()
        return enqueue()


def _owner_lock(conn: Redis, owner: str, limit: int | None):
    """A lock on ``owner``'s jobs while one is checked and queued (two clicks at once make
    one), or a no-op when no limit applies."""
    if limit is None or not owner:
        return contextlib.nullcontext()
    return conn.lock(f"digitlab:lock:owner:{owner}", timeout=30, sleep=0.01, blocking_timeout=30)


def submit(config: TrainConfig, owner: str = "", *, limit: int | None = None, cap_seconds: float | None = None,
           teacher: bool = False) -> Job:
    """Queue training ``config`` unless the same configuration is already queued, running or
    done; return its job. It joins the teacher's queue (``teacher``), else the quick
    queue when ``job_seconds`` is at most ``QUICK_SECONDS``, else the long jobs' queue.

    Args:
        owner: who asks: the student's name in the class (Cancel and the limit use it).
        limit: at most this many jobs of ``owner`` queued or running (None: no limit).
        cap_seconds: refuse a job estimated above this many seconds (None: no cap).
        teacher: the teacher's job: first in line; the caller checks the grant
            (``core.queue.classroom.submit``).

    Raises:
        ValueError: if the config is out of range.
        Refused: if a new job would break ``limit`` or ``cap_seconds`` (one sentence).
        QueueUnavailable: if Redis cannot be reached.
    """
    config.validate()
    conn = connection()
    jid = job_id(config)
    seconds = job_seconds(config)
    meta = {"owner": owner, "kind": "train", "config": asdict(config), "epoch": 0, "epochs": config.epochs,
            "history": {}, "estimate_seconds": seconds, "teacher": teacher, "queued": time.time()}
    with _owner_lock(conn, owner, limit):
        return _enqueue_once(conn, jid, lambda: queue(conn, lane(seconds, teacher)).enqueue_call(
            "core.queue.work.train_job", args=(asdict(config),), job_id=jid, timeout=JOB_TIMEOUT, result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL, retry=_retry(), meta=meta, description=f"train {jid}"),
            check=lambda: _check_rules(conn, owner, seconds, limit, cap_seconds))


def submit_sweep(sweep: SweepConfig, owner: str = "", *, limit: int | None = None,
                 cap_seconds: float | None = None, teacher: bool = False) -> Job:
    """Queue a weight-decay sweep as one training job per factor and replicate (runs already
    stored or queued are reused), plus a summary job that runs when the last one ends and
    returns the sweep's results. Returns the summary job. For ``limit`` the sweep counts as
    one job; for ``cap_seconds``, its runs' estimates add up.

    Raises:
        Refused: if the sweep would break ``limit`` or ``cap_seconds`` (one sentence).
        QueueUnavailable: if Redis cannot be reached.
    """
    conn = connection()
    jid = sweep_job_id(sweep)
    missing, stored = [], {}
    for run in sweep.runs():
        root = cache.find(run)
        try:
            history, metrics = cache.load_records(run, root) if root is not None else (None, None)
        except cache.CorruptEntryError:
            root = None  # a damaged entry is trained again
        if root is not None:
            stored[job_id(run)] = {"history": history, "metrics": metrics}
        else:
            missing.append(run)
    seconds = sum(job_seconds(run) for run in missing) + 5.0

    def enqueue():
        runs = []
        for run in missing:
            run_meta = {"owner": owner, "kind": "train", "config": asdict(run), "epoch": 0, "epochs": run.epochs,
                        "history": {}, "estimate_seconds": job_seconds(run), "teacher": teacher,
                        "queued": time.time(), "part_of": jid}
            runs.append(_enqueue_once(conn, job_id(run), lambda run=run, run_meta=run_meta: queue(
                conn, lane(job_seconds(run), teacher)).enqueue_call(
                "core.queue.work.train_job", args=(asdict(run),), job_id=job_id(run), timeout=JOB_TIMEOUT,
                result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL, retry=_retry(), meta=run_meta, description=f"train {job_id(run)}")))
        meta = {"owner": owner, "kind": "sweep", "sweep": asdict(sweep), "runs": [job_id(r) for r in sweep.runs()],
                "epoch": 0, "epochs": 0, "history": {}, "estimate_seconds": 5.0, "teacher": teacher,
                "queued": time.time()}
        depends = Dependency(jobs=runs, allow_failure=True) if runs else None
        return queue(conn, TEACHER_QUEUE if teacher else QUICK_QUEUE).enqueue_call(
            "core.queue.work.sweep_summary_job", args=(asdict(sweep), stored), job_id=jid, timeout=600,
            result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL, retry=_retry(), meta=meta, depends_on=depends,
            description=f"summarize {jid}")

    with _owner_lock(conn, owner, limit):
        return _enqueue_once(conn, jid, enqueue, check=lambda: _check_rules(conn, owner, seconds, limit, cap_seconds))


def submit_class_job(kind: str, config, data: bytes, title: str, seconds: float, owner: str = "", *,
                     limit: int | None = None, cap_seconds: float | None = None, teacher: bool = False) -> Job:
    """Queue a job on the class's own handwriting (``core.classset``) unless the same one is
    already queued, running or done; return it. Like ``submit``, under the class's rules.

    Args:
        kind: "finetune" (``core.queue.work.finetune_job``) or "symbols" (``symbols_job``).
        config: its frozen config (``core.classset.finetune.FineTuneConfig`` or
            ``core.classset.symbols.SymbolsConfig``); ``config.entry`` is the job's id.
        data: the samples it learns from, as ``core.classset.samples.npz_bytes``: the job
            carries them, so a worker needs nothing but Redis, as for every job.
        title: what it does, in words, for the job lists ("Fine-tune the CNN on the class's digits").
        seconds: its estimated worker time, start included.

    Raises:
        ValueError: for another ``kind``.
        Refused: if the rules refuse it (one sentence).
        QueueUnavailable: if Redis cannot be reached.
    """
    if kind not in ("finetune", "symbols"):
        raise ValueError(f"no job kind {kind!r} for the class's handwriting")
    conn = connection()
    jid = config.entry
    meta = {"owner": owner, "kind": kind, "config": asdict(config), "title": title, "epoch": 0,
            "epochs": config.epochs, "history": {}, "estimate_seconds": seconds, "teacher": teacher,
            "queued": time.time()}
    with _owner_lock(conn, owner, limit):
        return _enqueue_once(conn, jid, lambda: queue(conn, lane(seconds, teacher)).enqueue_call(
            f"core.queue.work.{kind}_job", args=(asdict(config), data), job_id=jid, timeout=JOB_TIMEOUT,
            result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL, retry=_retry(), meta=meta, description=f"{kind} {jid}"),
            check=lambda: _check_rules(conn, owner, seconds, limit, cap_seconds))


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
    """What a page shows of a job: {"id", "state", "kind" ("train", "sweep", or "finetune" and
    "symbols" on the class's handwriting), "config" or "sweep", "title" (those two, in words), "owner", "teacher" (queued by the teacher), "epoch" (epochs finished),
    "epochs", "progress" (epochs done as a float, updated within an epoch), "history",
    "estimate_seconds" (its worker time, ``job_seconds``), "position" (1-based, queued
    jobs), "wait_seconds" (estimated, queued jobs), "remaining_seconds" (running jobs),
    "resumed_at" (the epoch, from 1, its training last resumed at after a fault; None),
    "stalled" (running, but its worker has stopped confirming it: it goes back on the
    queue by itself),
    "reason" (one sentence, failed jobs), "log" (the traceback, failed jobs), "runs"
    (sweeps: {"done", "total"})}."""
    status = job.get_status(refresh=False)
    meta = job.meta or {}
    state = {"id": job.id, "state": SHOWN.get(status, str(status)), "kind": meta.get("kind", "train"),
             "config": meta.get("config"), "sweep": meta.get("sweep"), "owner": meta.get("owner", ""),
             "title": meta.get("title", ""),
             "teacher": meta.get("teacher", False), "epoch": meta.get("epoch", 0), "epochs": meta.get("epochs", 0),
             "history": meta.get("history", {}), "progress": meta.get("progress", meta.get("epoch", 0)),
             "estimate_seconds": meta.get("estimate_seconds", 60.0), "queue": job.origin,
             "position": None, "wait_seconds": None, "remaining_seconds": None, "reason": "", "log": "",
             "resumed_at": meta.get("resumed_at"), "stalled": False}
    if status in ENDED:
        state["log"] = _ended_text(job)
        state["reason"] = reason(state["log"])
        if state["reason"] == "cancelled":
            state["state"] = "cancelled"
    if status == JobStatus.STARTED:
        started = job.started_at.timestamp() if job.started_at else time.time()
        state["remaining_seconds"] = _remaining(meta, time.time() - started)
        # A worker confirms its job every JOB_MONITORING s: silence past that means it stopped.
        beat = job.last_heartbeat.timestamp() if job.last_heartbeat else started
        state["stalled"] = time.time() - beat > JOB_MONITORING + 5
    if status == JobStatus.FAILED and not job.retries_left and state["reason"] != "cancelled":
        state["reason"] += f" ({TRIES} tries)"
    if _stuck(job):
        state["state"], state["reason"] = "failed", "a run of this sweep was cancelled; queue the sweep again"
    if meta.get("kind") == "sweep":
        ids = meta.get("runs", [])
        finished = set(finished_ids(job.connection)) if ids else set()
        done = sum(1 for jid in ids if jid in finished
                   or cache.has_entry(cache.cache_dir(), jid) or cache.has_entry(cache.runs_dir(), jid))
        state["runs"] = {"done": done, "total": len(ids)}
    return state


def _remaining(meta: dict, elapsed: float) -> float:
    """Seconds a running job still needs, ``elapsed`` seconds after it started: once an
    epoch is done, its measured seconds per epoch (the history's ``seconds`` count from the
    start of training) times the epochs left, plus the finish; before that, the job's
    estimate less the time it has run (never below the finish)."""
    seconds = meta.get("history", {}).get("seconds") or []
    epochs = meta.get("epochs") or 1
    if seconds:
        return seconds[-1] / len(seconds) * max(0, epochs - meta.get("epoch", len(seconds))) + FINISH_SECONDS
    return max(FINISH_SECONDS, meta.get("estimate_seconds", 60.0) - elapsed)


def paused(conn: Redis | None = None) -> bool:
    """Whether the queue is paused (RQ's suspension: workers finish their job, take no new one).

    Raises:
        QueueUnavailable: if Redis cannot be reached.
    """
    return bool(is_suspended(conn or connection()))


def set_paused(on: bool, conn: Redis | None = None) -> None:
    """Pause (``on``) or resume the queue; callers check the teacher's grant first
    (``core.queue.classroom``).

    Raises:
        QueueUnavailable: if Redis cannot be reached.
    """
    conn = conn or connection()
    suspend(conn) if on else resume(conn)


def status(jid: str) -> dict:
    """``describe`` of job ``jid``, or {} when Redis knows no such job. A queued job comes
    with its place in the line and wait (``active``). A job whose worker vanished (the whole
    worker process killed) is marked failed first.

    Raises:
        QueueUnavailable: if Redis cannot be reached.
    """
    conn = connection()
    for q in queues(conn):
        q.started_job_registry.cleanup()
    try:
        job = Job.fetch(jid, connection=conn)
    except NoSuchJobError:
        return {}
    if job.get_status(refresh=False) in (JobStatus.QUEUED, JobStatus.STARTED):
        # Its place and wait depend on every job ahead of it: active() describes it with them.
        row = next((row for row in active() if row["id"] == jid), None)
        if row is not None:
            return row
        # A worker took it between the two reads: it is running, or (just now) next.
        job.refresh()
    row = describe(job)
    if row["state"] == "queued":
        row.update(position=1, wait_seconds=0.0, workers=Worker.count(connection=conn), paused=paused(conn))
    return row


def active() -> list[dict]:
    """Every running, then queued (in the order workers take them: the teacher's, the quick
    ones, the rest), then waiting job of the server, with places and estimated waits: a
    queued job waits for the running jobs' remaining time plus the estimates of the jobs
    ahead of it, shared among the workers. Queued rows also carry "workers" (the number of
    workers listening; 0: nothing will start), "paused" (the teacher paused the queue) and
    "may_be_passed" (a long job: quick jobs queued later go ahead of it).

    Raises:
        QueueUnavailable: if Redis cannot be reached.
    """
    conn = connection()
    running, queued, waiting = _active_jobs(conn)
    running_workers = Worker.count(connection=conn)
    workers, is_paused = max(1, running_workers), paused(conn)
    rows = [describe(j) for j in running]
    ahead = sum(row["remaining_seconds"] or 0.0 for row in rows)
    for position, job in enumerate(queued, start=1):
        row = describe(job)
        row.update(position=position, wait_seconds=ahead / workers, workers=running_workers, paused=is_paused,
                   may_be_passed=job.origin == QUEUE_NAME)
        ahead += (job.meta or {}).get("estimate_seconds", 60.0)
        rows.append(row)
    rows += [describe(j) for j in waiting]
    return rows


def cancel(jid: str, owner: str, *, any_owner: bool = False) -> None:
    """Cancel job ``jid`` for the student who queued it: a queued job is taken off its
    queue, a running one is stopped (its worker kills the training process).

    Args:
        any_owner: cancel it whoever queued it (the teacher; ``core.queue.classroom.cancel_any``
            checks the grant).

    Raises:
        PermissionError: if ``owner`` did not queue it (and not ``any_owner``).
        QueueUnavailable: if Redis cannot be reached.
    """
    conn = connection()
    try:
        job = Job.fetch(jid, connection=conn)
    except NoSuchJobError:
        return  # gone already
    if not any_owner and (not owner or (job.meta or {}).get("owner") != owner):
        raise PermissionError("Only the student who queued this job (or the teacher) can cancel it.")
    if job.meta.get("kind") == "sweep":
        for run in job.meta.get("runs", []):
            try:
                if (Job.fetch(run, connection=conn).meta or {}).get("part_of") == jid:
                    cancel(run, owner, any_owner=True)
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


class StoreUnwritable(RuntimeError):
    """The runs store cannot be written (no permission, a read-only or full disk): finished
    results stay in Redis (``RESULT_TTL``) and a later ``collect`` writes them. The message
    is one sentence naming the store."""


COLLECT_LOCK_SECONDS = 120  # a lock left by a process that died while writing expires after this


def collect(root: Path | None = None) -> list[str]:
    """Write every finished job's files into the runs store where it lacks the entry or
    holds a damaged one (``cache.whole_entry``); return the entries written. Each entry is
    written under a Redis lock on its name, so of many sessions or app processes
    collecting at once exactly one writes it; the others wait for it (at most
    ``COLLECT_LOCK_SECONDS``) and move on. Entries are replaced atomically.

    Raises:
        StoreUnwritable: after trying every entry, if any could not be written (permission,
            read-only or full disk); their results stay in Redis for a later call.
        QueueUnavailable, RedisError: if Redis cannot be reached or refuses the lock.
    """
    conn = connection()
    root = Path(root or cache.runs_dir())
    written, failure = [], None
    for jid in finished_ids(conn):
        if cache.whole_entry(root, jid):
            continue
        with conn.lock(f"digitlab:lock:collect:{jid}", timeout=COLLECT_LOCK_SECONDS, sleep=0.02,
                       blocking_timeout=COLLECT_LOCK_SECONDS):
            # Looked at again under the lock: the process that held it may have written it.
            if cache.whole_entry(root, jid):
                continue
            try:
                job = Job.fetch(jid, connection=conn)
                result = job.return_value()
            except NoSuchJobError:
                continue
            if not (result and result.get("files")):
                continue
            # Who trained it, for the leaderboard and the teacher's "clear a student's runs".
            files = {**result["files"], cache.TRAINED_BY: cache.trained_by_json((job.meta or {}).get("owner", ""))}
            try:
                cache.write_entry(root / jid, files)
            except OSError as exc:  # EACCES, EROFS, ENOSPC, EDQUOT, a file where the folder should be
                if not cache.whole_entry(root, jid):
                    failure = exc
                continue  # else a writer that takes no lock (an older app) wrote it at the same moment
            written.append(jid)
    if failure is not None:
        raise StoreUnwritable(f"The runs store ({root}) cannot be written (no permission, or its disk is full), "
                              "so finished results are kept in the training queue and written there as soon "
                              "as it can be.") from failure
    return written


class LabWorker(Worker):
    """RQ's worker with a shorter heartbeat slack (``HEARTBEAT_SLACK``), so a job whose
    worker died is put back on the queue within about half a minute, not RQ's minute and
    more; a stop that does not wait for the training; and a flag telling a requested stop
    from Redis going away."""

    stop_requested = False

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        return self.job_monitoring_interval + HEARTBEAT_SLACK

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        # RQ looks at the pause before it starts waiting for a job, not after: a worker that
        # was already waiting when the teacher paused would take the next job anyway. It goes
        # back to the front of its queue until the teacher resumes.
        while True:
            result = super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
            if result is None or not is_suspended(self.connection):
                return result
            job, taken_from = result
            taken_from.enqueue_job(job, at_front=True)
            while is_suspended(self.connection) and not self.stop_requested:
                self.heartbeat()
                time.sleep(1)
            if self.stop_requested:
                return None

    def handle_job_failure(self, job: Job, queue: Queue, *args, **kwargs):
        # This process's copy of the job is from when it was taken: RQ saves it whole when
        # it puts the job back, which would wipe the epochs its training reported.
        try:
            job.get_meta(refresh=True)
        except RedisError:
            pass
        super().handle_job_failure(job, queue, *args, **kwargs)

    def request_stop(self, signum, frame):
        self.stop_requested = True
        super().request_stop(signum, frame)  # RQ's warm stop: end after this job...
        # ...but a lab being stopped does not wait minutes for a training: its process is
        # killed now, RQ puts the job back at the front of its queue (a retry), and the next
        # worker resumes it from its last epoch.
        if self.horse_pid:
            self.kill_horse()


def _wait_for_redis(log, first: float = 0.5, longest: float = 30.0) -> Redis:
    """The Redis client once Redis answers, trying again after 0.5 s, 1 s, 2 s ... up to
    every ``longest`` seconds (a Redis that restarts answers within a second or two)."""
    pause = first
    while True:
        try:
            return connection()
        except QueueUnavailable:
            log(f"Redis at {redis_url()} does not answer; trying again in {pause:.1f} s")
            time.sleep(pause)
            pause = min(longest, pause * 2)


def run_worker(burst: bool = False, nice: int = 19) -> bool:
    """Run an RQ worker on the lab's queues (the teacher's first, then the quick jobs, then
    the rest) until stopped (or, with ``burst``, until they are empty). The worker lowers
    its own priority first, so its training processes (forked per job, in this process's
    session and scheduling group) yield the CPU to the web server; ``core.queue.work`` caps their
    TensorFlow threads.

    Redis going away does not end it: RQ's worker quits on most connection errors, so this
    waits for Redis to answer again (with back-off) and starts a new one. A training that
    was running then is stopped; its job goes back on the queue by itself and resumes from
    its last epoch. Returns whether the last worker processed a job.
    """
    if nice:
        os.nice(nice)

    def log(message: str) -> None:
        print(f"worker {os.getpid()}: {message}", file=sys.stderr, flush=True)

    while True:
        conn = _wait_for_redis(log)
        worker = LabWorker(queues(conn), connection=conn, job_monitoring_interval=JOB_MONITORING,
                           maintenance_interval=MAINTENANCE)
        try:
            worked = worker.work(burst=burst, logging_level="INFO")
        except RedisError as exc:  # raised while stopping, e.g. while deregistering
            log(f"lost Redis ({exc})")
            worked = False
        finally:
            if worker.horse_pid:  # the training of a worker that lost Redis
                worker.kill_horse()
                worker.wait_for_horse()
        if burst or worker.stop_requested:
            return worked
        try:
            conn.ping()
            return worked  # RQ's loop ended for another reason: let the supervisor restart us
        except RedisError:
            log("lost Redis; reconnecting")


def wait(jid: str, timeout: float = 300.0, until=("done", "failed", "cancelled")) -> dict:
    """Poll job ``jid`` until its state is in ``until`` or ``timeout`` seconds pass; return
    its last ``status``."""
    deadline = time.time() + timeout
    while True:
        state = status(jid)
        if state.get("state") in until or time.time() > deadline:
            return state
        time.sleep(0.2)


def failed_lately(seconds: float = 3600.0) -> list[dict]:
    """``describe`` of each job that failed (not cancelled) in the last ``seconds``, newest
    first, over the lab's queues: what the teacher's page lists, so a job stopped by a fault
    (its worker killed, perhaps out of memory) is said in its one sentence there too once it
    has left the active list.

    Raises:
        QueueUnavailable: if Redis cannot be reached.
    """
    conn = connection()
    ids = [jid for name in QUEUE_NAMES for jid in FailedJobRegistry(name, connection=conn).get_job_ids()]
    rows = []
    for job in Job.fetch_many(ids, connection=conn):
        ended = job.ended_at if job is not None else None
        if ended is None:
            continue
        ended = ended.timestamp() if ended.tzinfo else ended.replace(tzinfo=datetime.timezone.utc).timestamp()
        row = describe(job)
        if row["state"] == "failed" and time.time() - ended <= seconds:
            rows.append({**row, "ended": ended})
    return sorted(rows, key=lambda row: -row["ended"])
