"""What a worker runs for a job (see ``core.queue.jobs``): train one config, summarize a sweep,
or learn from the class's handwriting (fine-tune the CNN, train a new-symbols head).

Each job runs in a process RQ forks for it, so TensorFlow is imported there, with its
threads capped before the first operation, and is gone with the process. Results are
returned as bytes (the entry's files), which RQ stores in Redis for the app to collect.

A training keeps a checkpoint of its last finished epoch in the worker's checkpoint folder
(``$DIGITLAB_CHECKPOINTS``, default ``var/checkpoints``; not the runs store, which may be
unwritable or on another machine), so a job put back on the queue after a crash resumes
there (``core.training.run.train``'s ``backup_dir``).
"""

from __future__ import annotations

import ctypes
import io
import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import numpy as np
from redis.exceptions import RedisError
from rq import get_current_job
from rq.job import Job, JobStatus

from core.config import SweepConfig, TrainConfig, default_config
from core.data.mnist import load_mnist
from core.paths import ROOT
from core.queue.jobs import TRIES, job_id
from core.store import cache
from core.training.sweeps import sweep_results, sweep_row

THREADS_ENV_VAR = "DIGITLAB_TRAIN_THREADS"
CHECKPOINTS_ENV_VAR = "DIGITLAB_CHECKPOINTS"
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def checkpoints_dir() -> Path:
    """The worker's checkpoint folder: ``$DIGITLAB_CHECKPOINTS``, else ``var/checkpoints``."""
    return Path(os.environ.get(CHECKPOINTS_ENV_VAR) or ROOT / "var" / "checkpoints")


def _die_with_worker() -> None:
    """Have Linux kill this training process when its worker dies (Linux only; elsewhere a
    no-op). RQ puts the training in its own process group, so a worker killed with -9, or
    stopped by its supervisor, would leave it training on alone, beside the copy of the job
    that a restarted worker resumes."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the worker died before the call
        os._exit(1)


def _still_mine(job) -> bool:
    """Whether ``job`` is still this process's to run: started, by this worker. A job whose
    worker stopped answering is put back on the queue (``core.queue.jobs``); if this process was
    only slow, it must not train on beside the new run. True when Redis cannot tell."""
    try:
        status, worker = job.connection.hmget(job.key, "status", "worker_name")
    except RedisError:
        return True
    mine = os.environ.get("RQ_WORKER_ID")
    return status in (None, b"started") and (worker is None or mine is None or worker.decode() == mine)


def prune_checkpoints(conn, keep: str) -> None:
    """Remove the checkpoints of jobs that no longer need them (finished, failed for good,
    cancelled or gone from Redis), except ``keep``'s."""
    root = checkpoints_dir()
    if not root.is_dir():
        return
    for folder in root.iterdir():
        if folder.name == keep or not folder.is_dir():
            continue
        try:
            job = Job.fetch(folder.name, connection=conn)
            done = job.get_status() in (JobStatus.FINISHED, JobStatus.CANCELED, JobStatus.STOPPED) or (
                job.get_status() == JobStatus.FAILED and not job.retries_left)
        except RedisError:
            return
        except Exception:  # NoSuchJobError, or a job Redis can no longer decode
            done = True
        if done:
            shutil.rmtree(folder, ignore_errors=True)


def _cap_threads() -> int:
    """Cap TensorFlow's thread pools at ``$DIGITLAB_TRAIN_THREADS`` (default: the CPUs this
    process may use) before TensorFlow starts; returns the cap."""
    threads = int(os.environ.get(THREADS_ENV_VAR) or len(os.sched_getaffinity(0)))
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    return threads


def _meta_saver(job):
    """A function that adds its keyword fields to ``job``'s meta in Redis (nothing without a
    job, as when a test calls a job function directly)."""
    def save_meta(**fields):
        if job is None:
            return
        job.meta.update(fields)
        try:
            job.save_meta()
        except RedisError:
            pass  # Redis is restarting: the training goes on, the next epoch reports again
    return save_meta


def _entry_files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()}


def train_job(config_fields: dict) -> dict:
    """Train one ``TrainConfig`` (given as its fields); report each epoch in the job's meta.

    Returns:
        {"files": {"model.keras", "history.json", "metrics.json": bytes}, "history",
        "metrics"}: the store entry's files, written by ``core.store.cache.save``.

    Raises:
        ValueError: if the config is out of range (the job fails with that sentence).
    """
    config = TrainConfig.from_fields(config_fields)
    config.validate()
    _die_with_worker()
    job = get_current_job()
    threads = _cap_threads()

    from core.training.run import HistoryBackup, train

    backup_dir = checkpoints_dir() / (job.id if job is not None else config.entry)
    if job is None or job.retries_left in (None, TRIES - 1):
        # A first try starts at epoch 1: a checkpoint found under this name was left by an
        # earlier job with the same settings (cancelled, or failed for good), not by this one.
        shutil.rmtree(backup_dir, ignore_errors=True)
    backup_dir.mkdir(parents=True, exist_ok=True)
    history = HistoryBackup(backup_dir).history  # the epochs of an interrupted run, if any

    save_meta = _meta_saver(job)
    if job is not None:
        prune_checkpoints(job.connection, keep=backup_dir.name)
    save_meta(pid=os.getpid(), threads=threads, started=time.time())

    def on_epoch(epoch, epochs, logs):
        for name, value in logs.items():
            del history.setdefault(name, [])[epoch - 1:]  # a resumed run repeats no epoch
            history[name].append(value)
        save_meta(epoch=epoch, epochs=epochs, history=history, progress=float(epoch))
        if job is not None and not _still_mine(job):
            os._exit(1)  # the job runs elsewhere now; leave the checkpoint to that run

    def on_resume(epoch):
        for values in history.values():
            del values[epoch - 1:]
        save_meta(resumed_at=epoch, epoch=epoch - 1, progress=float(epoch - 1), history=history)

    result = train(config, on_epoch=on_epoch, on_progress=lambda done: save_meta(progress=done),
                   backup_dir=backup_dir, on_resume=on_resume)
    with tempfile.TemporaryDirectory() as tmp:
        path = cache.save(config, result, root=Path(tmp))
        files = _entry_files(path)
    # The checkpoint stays until Redis holds the result: a crash before that resumes at the
    # last epoch and only tests again. The next job's prune_checkpoints removes it.
    return {"files": files, "history": result.history, "metrics": result.metrics}


def sweep_summary_job(sweep_fields: dict, stored: dict) -> dict:
    """Build a sweep's results once its runs have ended: the runs' histories and metrics
    come from their jobs' results in Redis, or from ``stored`` ({entry name: {"history",
    "metrics"}}) for runs that were already in a store when the sweep was queued.

    Returns:
        {"files": {"results.json": bytes}, "results": the sweep's results}.

    Raises:
        RuntimeError: if a run failed or was cancelled (one sentence naming how many).
    """
    sweep = SweepConfig(**{**sweep_fields, "l2_factors": tuple(sweep_fields["l2_factors"])})
    job = get_current_job()
    records, missing = dict(stored), []
    for run in sweep.runs():
        jid = job_id(run)
        if jid in records:
            continue
        result = Job.fetch(jid, connection=job.connection).return_value() if job else None
        if result:
            records[jid] = result
        else:
            missing.append(jid)
    if missing:
        raise RuntimeError(f"{len(missing)} of {len(sweep.runs())} runs of this sweep did not finish")
    rows = [sweep_row(sweep, run, records[job_id(run)]["history"], records[job_id(run)]["metrics"])
            for run in sweep.runs()]
    # Seconds of training summed over the runs (they may have run on several workers at once).
    first = records[job_id(sweep.runs()[0])]["metrics"]
    results = sweep_results(sweep, rows, sum(r["training_seconds"] for r in rows), first.get("data_sha256", ""),
                            first.get("versions", {}))
    return {"files": {"results.json": (json.dumps(results, indent=2, sort_keys=True) + "\n").encode()},
            "results": results}


def _class_set(data: bytes) -> dict:
    """The samples a class job carries (``core.classset.samples.npz_bytes``): {"images",
    "labels" (their class names), "students"}."""
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        return {"images": arrays["images"].astype(np.float32), "labels": arrays["classes"][arrays["labels"]],
                "students": arrays["students"]}


def _start_class_job(data: bytes) -> tuple:
    """Set up a class job in its worker process as ``train_job`` does (it dies with its
    worker, TensorFlow's threads capped, its pid reported); returns (save_meta, the samples
    it carries, ``_class_set``)."""
    _die_with_worker()
    _cap_threads()
    save_meta = _meta_saver(get_current_job())
    save_meta(pid=os.getpid(), started=time.time())
    return save_meta, _class_set(data)


def _base_cnn(entry: str):
    """The shipped CNN a class job builds on, checked against the entry its config names.

    Raises:
        ValueError: if the config names another base (one sentence).
    """
    cnn = default_config("cnn")
    if entry != cnn.entry:
        raise ValueError(f"this lab fine-tunes its own CNN ({cnn.entry}), not {entry}")
    return cache.load(cnn).model


def finetune_job(config_fields: dict, data: bytes) -> dict:
    """Fine-tune the lab's CNN on the class's digits (``core.classset.finetune``); report
    each epoch in the job's meta.

    Returns:
        {"files": the store entry's files, "history", "metrics"}.

    Raises:
        ValueError: if the split leaves nothing to test or to learn from (one sentence).
    """
    from core.classset.finetune import FineTuneConfig, fine_tune

    config = FineTuneConfig.from_fields(config_fields)
    save_meta, samples = _start_class_job(data)
    cnn = _base_cnn(config.base_entry)
    model, history, metrics = fine_tune(
        config, cnn, samples["images"], samples["labels"].astype(np.int64), samples["students"], load_mnist(),
        on_epoch=lambda epoch, epochs, logs: save_meta(epoch=epoch, epochs=epochs, progress=float(epoch)))
    return {"files": cache.model_files(model, history, metrics), "history": history, "metrics": metrics}


def symbols_job(config_fields: dict, data: bytes) -> dict:
    """Train a new-symbols head on the CNN's frozen base (``core.classset.symbols``).

    Returns:
        {"files": the store entry's files, "history", "metrics"}.

    Raises:
        ValueError: if a symbol has too few drawings (one sentence).
    """
    from core.classset.symbols import SymbolsConfig, train

    config = SymbolsConfig.from_fields(config_fields)
    save_meta, samples = _start_class_job(data)
    index = {name: i for i, name in enumerate(config.names)}
    keep = np.isin(samples["labels"], config.names)
    labels = np.array([index[n] for n in samples["labels"][keep].tolist()], np.int64)
    model, history, metrics = train(config, _base_cnn(config.base_entry), samples["images"][keep], labels)
    save_meta(epoch=config.epochs, progress=float(config.epochs))
    return {"files": cache.model_files(model, history, metrics), "history": history, "metrics": metrics}
