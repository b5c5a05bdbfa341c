"""What a worker runs for a job (see ``core.jobs``): train one config, or summarize a sweep.

Each job runs in a process RQ forks for it, so TensorFlow is imported there, with its
threads capped before the first operation, and is gone with the process. Results are
returned as bytes (the entry's files), which RQ stores in Redis for the app to collect.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

THREADS_ENV_VAR = "DIGITLAB_TRAIN_THREADS"


def _cap_threads() -> int:
    """Cap TensorFlow's thread pools at ``$DIGITLAB_TRAIN_THREADS`` (default: the CPUs this
    process may use) before TensorFlow starts; returns the cap."""
    threads = int(os.environ.get(THREADS_ENV_VAR) or len(os.sched_getaffinity(0)))
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    return threads


def _entry_files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()}


def train_job(config_fields: dict) -> dict:
    """Train one ``TrainConfig`` (given as its fields); report each epoch in the job's meta.

    Returns:
        {"files": {"model.keras", "history.json", "metrics.json": bytes}, "history",
        "metrics"}: the store entry's files, written by ``core.cache.save``.

    Raises:
        ValueError: if the config is out of range (the job fails with that sentence).
    """
    from rq import get_current_job

    from core.config import TrainConfig

    config = TrainConfig.from_fields(config_fields)
    config.validate()
    job = get_current_job()
    threads = _cap_threads()

    from core import cache
    from core.training import train

    history: dict[str, list] = {}
    if job is not None:
        job.meta.update(pid=os.getpid(), threads=threads, started=time.time())
        job.save_meta()

    def on_epoch(epoch, epochs, logs):
        for name, value in logs.items():
            history.setdefault(name, []).append(value)
        if job is not None:
            job.meta.update(epoch=epoch, epochs=epochs, history=history, progress=float(epoch))
            job.save_meta()

    def on_progress(epochs_done):
        if job is not None:
            job.meta["progress"] = epochs_done
            job.save_meta()

    result = train(config, on_epoch=on_epoch, on_progress=on_progress)
    with tempfile.TemporaryDirectory() as tmp:
        path = cache.save(config, result, root=Path(tmp))
        files = _entry_files(path)
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
    import json

    from rq import get_current_job
    from rq.job import Job

    from core.config import SweepConfig
    from core.jobs import job_id
    from core.sweeps import sweep_results, sweep_row

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
