"""The fault drill: each fault a lab must survive injected, one at a time, into a fresh lab run as
README says (scripts/run_app.sh under supervisord: a private Redis, one worker, Streamlit),
with one long job running and two short ones queued.

    .venv/bin/python benchmarks/faults.py [--json benchmarks/faults.json] [--only worker_kill,...]

For every fault it records, every half second from the fault on: whether the web server
answers (/_stcore/health), and the sentence the Train page shows for the running job
(``pages.shared.job_status_text`` of ``core.queue.jobs.status``, or the page's sentence for a
queue that does not answer); then the seconds until the lab recovered by itself (the
running job trains again, or the web server answers again), the epochs trained twice, and
the jobs lost (queued or running before the fault, not done after). Faults:

- ``redis_kill``: kill -9 of Redis mid-epoch (supervisord restarts it; its append-only file
  keeps every write older than a second).
- ``worker_kill``: kill -9 of the worker mid-epoch (its training dies with it; supervisord
  restarts the worker; the job goes back on the queue once its heartbeat expires).
- ``training_kill``: kill -9 of the training process only, as the out-of-memory killer
  would (RQ puts the job back at once).
- ``ctrl_c``: SIGINT to the whole lab (as Ctrl-C), then scripts/run_app.sh again.
- ``web_kill``: kill -9 of Streamlit.
- ``store_unwritable``: the runs store made unwritable (read-only; as root, a file where
  the folder should be) while the long job trains, and writable again 10 s after it has
  finished: the result waits in Redis; "recovered" is from the store being writable again
  to the entry written by the next collect (a page's, here the drill's).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from the repository root

from rq.job import Job

from core.config import default_config
from core.machine import machine  # noqa: E402
from core.queue import jobs
from core.store import cache
from pages.shared import job_status_text
from scripts.harness import SupervisedLab  # noqa: E402

EPOCHS = 30  # the long job: dense 64-64 on all 55,000 digits, about 0.7 s an epoch here
FAULTS = ("redis_kill", "worker_kill", "training_kill", "ctrl_c", "web_kill", "store_unwritable")


def healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok"
    except OSError:
        return False


def seen(jid: str) -> tuple[str, dict]:
    """What the Train page shows for job ``jid``, and the job's status ({} if unknown)."""
    try:
        state = jobs.status(jid)
    except jobs.QUEUE_ERRORS as exc:
        problem = getattr(jobs, "problem", None)
        return (problem(exc) if problem else str(exc)), {}
    return (job_status_text(state) if state else "Not trained yet."), state


def inject(fault: str, lab: SupervisedLab, state: dict) -> None:
    if fault == "redis_kill":
        os.kill(lab.pid("redis"), signal.SIGKILL)
    elif fault == "worker_kill":
        os.kill(lab.pid("worker:worker-0"), signal.SIGKILL)
    elif fault == "training_kill":
        os.kill(Job.fetch(state["id"], connection=jobs.connection()).meta["pid"], signal.SIGKILL)
    elif fault == "web_kill":
        os.kill(lab.pid("web"), signal.SIGKILL)
    elif fault == "store_unwritable":
        sys.path.insert(0, str(ROOT / "tests"))
        from fake_jobs import unwritable  # the tests' way: read-only, or a file as root

        state["store"] = unwritable(lab.runs)
        state["store"].__enter__()
    elif fault == "ctrl_c":
        state["stop_seconds"] = round(lab.stop(signal.SIGINT, timeout=60), 1)
        start = time.perf_counter()
        lab.start()
        state["start_seconds"] = round(time.perf_counter() - start, 1)


def drill(fault: str, folder: Path, timeout: float = 240.0) -> dict:
    lab = SupervisedLab(folder)
    os.environ.update(DIGITLAB_REDIS_URL=lab.redis_url, DIGITLAB_RUNS=str(lab.runs))
    with lab:
        running = jobs.submit(default_config("dense_64_64", epochs=EPOCHS, seed=11), owner="ada").id
        queued = [jobs.submit(default_config("dense_64_64", epochs=2, seed=seed), owner=name).id
                  for seed, name in ((12, "bo"), (13, "cy"))]
        while seen(running)[1].get("epoch", 0) < 4:
            time.sleep(0.2)
        state = jobs.status(running)
        at_epoch = state["epoch"]
        start = time.perf_counter()
        inject(fault, lab, state)
        timeline, web_down, recovered, samples = [], 0.0, None, []
        while time.perf_counter() - start < timeout:
            now = time.perf_counter() - start
            up = healthy(lab.url)
            web_down += 0.0 if up else 0.5
            text, status = seen(running)
            if fault == "store_unwritable":
                try:
                    if jobs.collect() and state.get("store") is None and "writable_at" in state:
                        recovered = recovered or now - state["writable_at"]
                except jobs.StoreUnwritable as exc:
                    text = str(exc)
                if status.get("state") == "done" and state.get("store") is not None:
                    state.setdefault("done_at", now)
                    if now - state["done_at"] >= 10:
                        state.pop("store").__exit__(None, None, None)
                        state["writable_at"] = now
            if not timeline or timeline[-1]["sees"] != text.split(":")[0] + (":" if ":" in text else ""):
                timeline.append({"at_s": round(now, 1), "sees": text.split(":")[0] + (":" if ":" in text else ""),
                                 "sentence": text, "web_up": up})
            samples.append({"at_s": now, "up": up, "state": status.get("state"), "epoch": status.get("epoch"),
                            "resumed_at": status.get("resumed_at")})
            done = [jid for jid in (running, *queued) if seen(jid)[1].get("state") == "done"]
            if len(done) == 3 and (fault != "store_unwritable" or recovered is not None):
                break
            time.sleep(0.5)
        jobs.collect()
        lost = [jid for jid in (running, *queued) if not cache.has_entry(lab.runs, jid)]
        metrics = cache.check_entry(lab.runs / running)[1] if running not in lost else {}
        resumed = metrics.get("resumed_at_epochs", [])
        if fault != "store_unwritable":
            recovered = trains_again(samples, at_epoch, resumed)
        # The last epoch finished before the training stopped, against where it resumed.
        before = max([s["epoch"] for s in samples if s["epoch"] is not None and not s["resumed_at"]] + [at_epoch])
        return {"fault": fault, "epoch_at_fault": at_epoch, "web_down_s": web_down,
                "recovered_s": None if recovered is None else round(recovered, 1),
                "resumed_at_epochs": resumed, "epochs_trained_twice": before - (resumed[0] - 1) if resumed else 0,
                "jobs_lost": len(lost), "stop_seconds": state.get("stop_seconds"),
                "start_seconds": state.get("start_seconds"), "timeline": timeline}


def trains_again(samples: list[dict], at_epoch: int, resumed: list[int]) -> float | None:
    """Seconds from the fault until the web server answered and the running job trained
    again: an epoch ended after the fault (after its resume, if it was resumed), or it was
    done."""
    previous = at_epoch
    for sample in samples:
        epoch, state = sample["epoch"], sample["state"]
        again = state == "done" or (state == "running" and epoch is not None and epoch > previous and (
            not resumed or (sample["resumed_at"] and epoch >= sample["resumed_at"])))
        if sample["up"] and again:
            return sample["at_s"]
        previous = epoch if epoch is not None else previous
    return None


def report(rows: list[dict]) -> str:
    lines = ["| fault | what the student sees (in order) | web server down | recovered by itself after | "
             "resumed at epoch | jobs lost |", "|---|---|---|---|---|---|"]
    for row in rows:
        sees = " → ".join(f"{t['at_s']:.0f} s: “{t['sentence']}”" for t in row["timeline"])
        lines.append(f"| {row['fault']} | {sees} | {row['web_down_s']:.1f} s | {row['recovered_s']} s | "
                     f"{row['resumed_at_epochs'] or 'never stopped'} (fault at {row['epoch_at_fault']}) | "
                     f"{row['jobs_lost']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "faults.json"))
    parser.add_argument("--only", default=",".join(FAULTS))
    args = parser.parse_args(argv)
    rows = []
    for fault in args.only.split(","):
        with tempfile.TemporaryDirectory(prefix=f"digitlab-{fault}-") as tmp:
            rows.append(drill(fault, Path(tmp)))
        print(report(rows[-1:]), flush=True)
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": machine(),
              "epochs": EPOCHS, "rows": rows}
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    print(report(rows))
    return 0 if all(row["jobs_lost"] == 0 for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
