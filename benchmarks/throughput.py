"""Training throughput: one worker with 2 threads against two workers with 1 thread each,
on a class's mix of jobs, with the web server's answers timed meanwhile.

    .venv/bin/python benchmarks/throughput.py [--minutes 10] [--json benchmarks/throughput.json]

For each layout the lab starts as the tests start it (scripts/harness.py's ``lab_stack``:
private Redis, the workers, `streamlit run server.py`); twelve students queue one job each
through ``core.queue.classroom.submit`` (the Train page's rules: quick jobs first), one every
``ARRIVAL_GAP_S`` seconds: ten quick CNNs and, first and sixth, two runs of the lab's CNN,
each at its own seed. Meanwhile one student speaking Streamlit's protocol
(benchmarks/streamlit_protocol.py) asks the Denoising page for other digits and draws a stroke on Draw
every few seconds, and /_stcore/health is polled once a second. A layout ends when every
job has ended or after ``--minutes``. Reports per layout: jobs finished within the
window, the time the last one ended, the quick jobs' waits (queued to started), and the
web server's p95 per interaction.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from the repository root

import tempfile

from rq.job import Job

from benchmarks.classroom import busy_elsewhere
from benchmarks.streamlit_protocol import Session
from core.config import default_config
from core.machine import cpu_model  # noqa: E402
from core.queue import classroom, jobs
from scripts.harness import lab_stack, redis_server  # noqa: E402

LAYOUTS = {"1 worker x 2 threads": (1, 2), "2 workers x 1 thread": (2, 1)}
ARRIVAL_GAP_S = 10.0
CNN_AT = (0, 5)  # which arrivals are the lab's CNN; the rest are quick CNNs
PROBE_GAP_S = 4.0


def class_mix(seed_base: int = 5000) -> list:
    """The twelve jobs in arrival order: (student, config)."""
    return [(f"student-{i + 1}", default_config("cnn" if i in CNN_AT else "quick_cnn", seed=seed_base + i))
            for i in range(12)]


class Probe(threading.Thread):
    """One student on the web server while the workers train: Other digits on Denoising,
    then a stroke on Draw, every ``PROBE_GAP_S`` s; and /_stcore/health once a second."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.stop = url, threading.Event()
        self.times: dict[str, list[float]] = {"other digits": [], "stroke to answer": [], "health": []}
        self.errors: list[str] = []

    def run(self) -> None:
        threading.Thread(target=self.health, daemon=True).start()
        session = Session(self.url, timeout=60)
        session.open()
        n = 0
        while not self.stop.is_set():
            try:
                session.switch_page("Denoising")
                self.timed("other digits", lambda: session.set_component("digitlab_noise_slider", {"other": 1}))
                session.switch_page("Draw")
                n += 1
                x = 0.3 + 0.4 * (n % 5) / 4
                self.timed("stroke to answer", lambda: session.set_component(
                    "digitlab_sketchpad", {"drawing": {"version": n, "strokes": [[[x, 0.15], [x, 0.85]]]}}))
            except Exception as exc:  # a timeout or a dropped socket: note it, start a new tab
                self.errors.append(str(exc)[:200])
                session = Session(self.url, timeout=60)
                session.open()
            self.stop.wait(PROBE_GAP_S)
        session.close()

    def timed(self, name: str, action) -> None:
        t0 = time.perf_counter()
        run = action()
        if run.exceptions():
            self.errors.append("; ".join(run.exceptions())[:200])
        self.times[name].append(time.perf_counter() - t0)

    def health(self) -> None:
        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=10).read()
            except OSError as exc:
                self.errors.append(f"health: {exc}")
            self.times["health"].append(time.perf_counter() - t0)
            self.stop.wait(1.0)


def p95(values) -> float | None:
    return float(np.percentile(values, 95)) if values else None


def run_layout(name: str, workers: int, threads: int, minutes: float) -> dict:
    """Start the lab with ``workers`` workers of ``threads`` TensorFlow threads, play the
    class mix, return the layout's numbers."""
    with tempfile.TemporaryDirectory(prefix="digitlab-throughput-") as tmp, redis_server(Path(tmp)) as redis_url:
        os.environ[jobs.REDIS_ENV_VAR] = redis_url
        with lab_stack(env={"DIGITLAB_TRAIN_THREADS": str(threads)}, workers=workers, redis_url=redis_url) as url:
            probe = Probe(url)
            probe.start()
            time.sleep(15)  # the probe's first visits load the pages' models before the class arrives
            start = time.time()
            ids = {}
            for i, (student, config) in enumerate(class_mix()):
                time.sleep(max(0.0, start + i * ARRIVAL_GAP_S - time.time()))
                ids[jobs.job_id(config)] = (student, config, time.time())
                classroom.submit(config, student)
            deadline = start + 60 * minutes
            while time.time() < deadline:
                states = {jid: jobs.status(jid).get("state") for jid in ids}
                if all(s in ("done", "failed", "cancelled") for s in states.values()):
                    break
                time.sleep(2)
            probe.stop.set()
            probe.join(60)

            rows = []
            for jid, (student, config, queued) in ids.items():
                job = Job.fetch(jid, connection=jobs.connection())
                ended = job.ended_at.timestamp() if job.ended_at and job.get_status() == "finished" else None
                started = job.started_at.timestamp() if job.started_at else None
                rows.append({"student": student, "kind": config.kind, "queue": job.origin, "queued_s": queued - start,
                             "started_s": started - start if started else None,
                             "ended_s": ended - start if ended else None})
                jobs.cancel(jid, student)  # whatever is still running or queued at the deadline
    finished = [r for r in rows if r["ended_s"] is not None and r["ended_s"] <= 60 * minutes]
    quick = [r for r in rows if r["kind"] == "quick_cnn" and r["started_s"] is not None]
    return {"layout": name, "workers": workers, "threads": threads, "jobs": rows, "finished": len(finished),
            "last_ended_s": max((r["ended_s"] for r in finished), default=None),
            "quick_wait_mean_s": float(np.mean([r["started_s"] - r["queued_s"] for r in quick])) if quick else None,
            "quick_wait_max_s": max((r["started_s"] - r["queued_s"] for r in quick), default=None),
            "p95_s": {k: p95(v) for k, v in probe.times.items()},
            "median_s": {k: float(np.median(v)) if v else None for k, v in probe.times.items()},
            "samples": {k: len(v) for k, v in probe.times.items()}, "errors": probe.errors}


def report(result: dict) -> str:
    lines = [f"Throughput on {result['machine']} ({result['date']}), a class's mix of 12 jobs "
             f"(10 quick CNNs, 2 lab CNNs, one every {ARRIVAL_GAP_S:.0f} s), window {result['minutes']:g} min:", "",
             "| layout | jobs finished in the window | last job ended | quick jobs' wait: mean / max | "
             "web p95: other digits | stroke to answer | health | errors |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in result["layouts"]:
        p = r["p95_s"]
        lines.append(f"| {r['layout']} | {r['finished']} of 12 | "
                     f"{r['last_ended_s'] / 60:.1f} min | {r['quick_wait_mean_s']:.0f} s / {r['quick_wait_max_s']:.0f} s | "
                     f"{p['other digits']:.2f} s | {p['stroke to answer']:.2f} s | {p['health']:.3f} s | "
                     f"{len(r['errors'])} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "throughput.json")
    parser.add_argument("--layouts", default=",".join(LAYOUTS))
    args = parser.parse_args(argv)

    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{cpu_model()}, {os.cpu_count()} cores",
              "minutes": args.minutes, "busy_before": busy_elsewhere(), "layouts": []}
    for name in args.layouts.split(","):
        workers, threads = LAYOUTS[name]
        result["layouts"].append(run_layout(name, workers, threads, args.minutes))
        print(f"{name}: {result['layouts'][-1]['finished']} finished", flush=True)
    result["busy_after"] = busy_elsewhere()
    text = report(result)
    print(text)
    result["report"] = text
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
