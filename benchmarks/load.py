"""How many students one server holds: a load benchmark whose students speak Streamlit's
WebSocket protocol (benchmarks/streamlit_protocol.py) instead of driving a browser each,
with locust spawning them and keeping the statistics.

    .venv/bin/python benchmarks/load.py --students 5,10,20,30,40 --minutes 2   # the ramp
    .venv/bin/python benchmarks/load.py --validate --students 1,5 --minutes 2  # against Chromium
    .venv/bin/python benchmarks/load.py --app server.py,app.py --students 5 --minutes 2 --no-training

Starts the lab (scripts/harness.py's ``lab_stack``: private Redis, one worker, ``streamlit run
server.py``; ``--app app.py`` runs that script instead), warms every page once, queues one
real training (the lab's CNN, a new seed, minutes long; another when it ends) so the worker
trains throughout, then ramps the class: at each step locust adds students until there are
N, they arrive within ARRIVAL_S seconds, and once every one has opened the app the step's
``--minutes`` are measured. Each student does what benchmarks/classroom.py's do in Chromium:
Denoising (2-3 presses of Other digits; its slider moves in the browser, sending nothing)
-> Draw (a stroke, then an upload of a real MNIST test digit)
-> Overview, with 3-8 s of think time before every interaction, and fetches every image
a browser would. Each interaction is timed from its message to its result complete (the
run finished, every new image fetched) and reported to locust as request type "streamlit".

Meanwhile a process of its own polls /_stcore/health once per second (so the load
generator's own delays do not count), and the server's CPU seconds are read from /proc.
By default the lab runs on one half of the CPUs and locust on the other (``--no-pin``:
all share every CPU). Per step: students, interactions, errors, p50/p95 per interaction,
the largest health check, the server's CPU busy share and CPU seconds per student-minute,
what else used the machine; checked against the class targets of core/targets.py. Prints
a markdown table; writes benchmarks/load.json ("ramp", "apps" or "validation").

``--validate`` runs, per class size, classroom.py in Chromium and then the protocol
students, each on a fresh lab without training, and compares the medians per interaction
and the server's CPU seconds per interaction. The browser's times include its own work
(applying each message through React, layout, decoding images, its 50 ms polling), which
the protocol students do not do: their times are the server's part of a student's wait.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import gevent
import locust  # noqa: F401  first: it monkey-patches the standard library for gevent
import numpy as np
from locust import User, between, task
from locust.env import Environment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from the repository root: core/ and scripts/ import

from benchmarks.classroom import (ARRIVAL_S, STROKES, THINK_S, busy_elsewhere, cpu_seconds, descendants,  # noqa: E402
                                  digit_pngs, halves, own_cpu_seconds, processes, rss_mb, stack_pids)
from benchmarks.streamlit_protocol import CountedRetry, ProtocolError, Session  # noqa: E402
from core.config import default_config
from core.machine import load_average, machine  # noqa: E402
from core.queue import jobs
from core.targets import TARGETS  # noqa: E402
from scripts.harness import lab_stack  # noqa: E402

KIND = "streamlit"  # locust's request_type for every interaction
NAMES = ("first load", "denoising page", "other digits", "draw page", "stroke to answer", "upload", "overview")
# The same interactions in benchmarks/classroom.py (Chromium), for the validation.
CHROMIUM_NAMES = {"stroke to answer": "stroke to prediction"}
UPLOADER, PAD, NOISE = "A PNG or JPEG", "digitlab_sketchpad", "digitlab_noise_slider"
ARRIVAL_TIMEOUT_S = 180.0    # every student of a step has opened the app by then, or the step is measured anyway
TRAINING_OWNER = "load-benchmark"  # the owner of the training it queues (only the owner may cancel it)
OUR_TARGETS = ("class_other_digits_p95", "class_stroke_p95", "class_health_max", "class_errors", "class_students")


# --- one student ----------------------------------------------------------------------------

class StreamlitStudent(User):
    """One student in one browser tab: Denoising -> Draw -> Overview in a loop. Locust's
    wait_time is the think time before each round's first interaction; ``think`` the one
    between the others."""

    wait_time = between(*THINK_S)
    pngs: list[bytes] = []  # the photos students upload (set by the runner)
    seed = 0
    arrived = 0             # first loads done, class-wide: a step is measured once all are in
    count = 0
    # Per interaction, each success's (time, script time) in ms: exact percentiles beside
    # locust's, which rounds times over 1 s to 100 ms (too coarse at a 1.0 s target).
    samples: dict[str, list[tuple[float, float]]] = {}

    def on_start(self) -> None:
        StreamlitStudent.count += 1
        self.rng = random.Random(self.seed * 1000 + StreamlitStudent.count)
        self.session: Session | None = None
        gevent.sleep(self.rng.uniform(0, ARRIVAL_S))  # a class does not all arrive in one second
        self.measure("first load", self.open, overview_shown)
        StreamlitStudent.arrived += 1
        self.think()  # locust waits after each task, not before the first: the think before Denoising

    def on_stop(self) -> None:
        if self.session is not None:
            self.session.close()

    def think(self) -> None:
        gevent.sleep(self.rng.uniform(*THINK_S))

    def open(self):
        """A new tab on the app's default page (Overview)."""
        if self.session is not None:
            self.session.close()
        self.session = Session(self.host)
        return self.session.open()

    def measure(self, name: str, action, check):
        """Run ``action`` (returns a streamlit_protocol.Run), check its content with ``check``
        (returns what is missing, or None) and report it to locust: its time in ms, or an
        error, after which the tab is reloaded, as classroom.py does. Returns the run or None."""
        t0 = time.perf_counter()
        try:
            run = action()
            problem = "; ".join(run.exceptions()) or check(run)
            if problem:
                raise ProtocolError(problem)
        except Exception as exc:  # a timeout, an HTTP error, a missing result: count it, go on
            self.environment.events.request.fire(request_type=KIND, name=name, response_length=0, context={},
                                                 response_time=(time.perf_counter() - t0) * 1000, exception=exc)
            with contextlib.suppress(Exception):
                self.open()
            return None
        self.environment.events.request.fire(request_type=KIND, name=name, response_time=run.seconds * 1000,
                                             response_length=run.image_bytes, exception=None, context={})
        StreamlitStudent.samples.setdefault(name, []).append((run.seconds * 1000, run.script_seconds * 1000))
        return run

    @task
    def lesson(self) -> None:
        self.denoising()
        self.think()
        self.draw()
        self.think()
        self.measure("overview", lambda: self.session.switch_page("Overview"), overview_shown)

    def denoising(self) -> None:
        if not self.measure("denoising page", lambda: self.session.switch_page("Denoising"), denoising_shown):
            return
        for pressed in range(1, self.rng.choice((2, 3)) + 1):
            # Dragging the slider between presses sends nothing: every level is in the payload.
            self.think()
            if not self.measure("other digits", lambda: self.session.set_component(NOISE, {"other": pressed}),
                                denoising_shown):
                return

    def draw(self) -> None:
        if not self.measure("draw page", lambda: self.session.switch_page("Draw"),
                            lambda run: None if run.of("bidi_component") else "no drawing pad"):
            return
        self.think()
        strokes = [stroke_points(self.rng)]
        if not self.measure("stroke to answer", lambda: self.session.set_component(
                PAD, {"drawing": {"version": 1, "strokes": strokes}}), answered("pad-1")):
            return
        self.think()
        png = self.rng.choice(self.pngs)
        self.measure("upload", lambda: self.session.upload(UPLOADER, "digit.png", png), answered("upload"))


def stroke_points(rng: random.Random) -> list[list[float]]:
    """One of classroom.py's strokes (a 1, 7, 4 or 0, jittered like its mouse) as the pad
    sends it: points in [0, 1] of the pad's side, 10 per segment as the mouse moved."""
    corners = [(x + rng.uniform(-15, 15), y + rng.uniform(-15, 15)) for x, y in rng.choice(STROKES)]
    points = [corners[0]] + [(ax + (bx - ax) * t / 10, ay + (by - ay) * t / 10)
                             for (ax, ay), (bx, by) in zip(corners, corners[1:]) for t in range(1, 11)]
    return [[round(min(1, max(0, v / 280)), 4) for v in point] for point in points]


# What counts as the result shown, as classroom.py's predicates: None when it is there.
def overview_shown(run) -> str | None:
    return None if "Cached models" in run.text() and run.of("dataframe") else "no 'Cached models' table"


def denoising_shown(run) -> str | None:
    data = run.component(NOISE)
    return None if data and len(data["levels"]) == 21 and data["sprite"].startswith("data:image/png") \
        else "no digits at every noise level"


def answered(tag: str):
    return lambda run: (None if f'data-drawing="{tag}"' in run.text() and 'data-model="CNN"' in run.text()
                        else f"no CNN answer for {tag}")


def warm_up(url: str, png: bytes) -> None:
    """One unmeasured visit to every page of the scenario, as the teacher opening the lab
    first: TensorFlow, the models and the page caches load before the class arrives.

    Raises:
        ProtocolError: if the lab does not answer as it should (broken before any load).
    """
    session = Session(url, timeout=180)
    try:
        for action, check in ((session.open, overview_shown),
                              (lambda: session.switch_page("Denoising"), denoising_shown),
                              (lambda: session.set_component(NOISE, {"other": 1}), denoising_shown),
                              (lambda: session.switch_page("Draw"), lambda r: None),
                              (lambda: session.set_component(PAD, {"drawing": {"version": 1, "strokes": [
                                  [[0.5, 0.15], [0.5, 0.85]]]}}), answered("pad-1")),
                              (lambda: session.upload(UPLOADER, "digit.png", png), answered("upload"))):
            run = action()
            problem = "; ".join(run.exceptions()) or check(run)
            if problem:
                raise ProtocolError(f"warm-up: {problem}")
    finally:
        session.close()


# --- the lab around it ----------------------------------------------------------------------

def settle(server: int, timeout: float = 180.0) -> None:
    """Wait until the server is idle (under 5% of a CPU over 2 s): the warm-up's background
    thread (server.py starts it with the server, app.py after its first page) has finished,
    so its work does not count as the class's."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(descendants(server, processes()))
        gevent.sleep(2)
        if cpu_seconds(descendants(server, processes())) - before < 0.1:
            return


class Training:
    """Keeps one real training running in the lab's worker: the lab's CNN (its default
    recipe, minutes long here) at a new seed, queued through core.queue.jobs as the Train page
    does, and another when it ends; cancelled at ``stop``. ``samples`` holds (monotonic
    time, state) every 5 s, to say how much of each step had a training running."""

    def __init__(self, server_pid: int):
        environ = Path(f"/proc/{server_pid}/environ").read_bytes().decode(errors="replace").split("\0")
        env = dict(kv.split("=", 1) for kv in environ if "=" in kv)

        self.jobs = jobs
        os.environ[jobs.REDIS_ENV_VAR] = env[jobs.REDIS_ENV_VAR]  # the stack's private Redis
        self.job_id, self.seed, self.samples, self.queued = None, 100, [], []
        self.greenlet = gevent.spawn(self.keep)

    def keep(self) -> None:
        while True:
            try:
                state = self.jobs.status(self.job_id).get("state", "") if self.job_id else ""
                if state in ("", "done", "failed", "cancelled"):
                    self.job_id = self.jobs.submit(default_config("cnn", seed=self.seed), owner=TRAINING_OWNER).id
                    self.queued.append(self.job_id)
                    self.seed += 1
                    state = "queued"
            except Exception as exc:  # the queue's trouble shows as "no training running", not as a crash
                state = f"error: {type(exc).__name__}: {exc}"[:200]
            self.samples.append((time.monotonic(), state))
            gevent.sleep(5)

    def running_share(self, start: float, end: float) -> float | None:
        """The share of samples in [start, end] that found the training running."""
        states = self.states(start, end)
        return states.get("running", 0) / sum(states.values()) if states else None

    def states(self, start: float, end: float) -> dict:
        """How many samples in [start, end] found each state."""
        return dict(Counter(s for t, s in self.samples if start <= t <= end))

    def stop(self) -> None:
        self.greenlet.kill()
        if self.job_id:
            self.jobs.cancel(self.job_id, TRAINING_OWNER)


def poll_health(url: str, path: str) -> None:
    """GET /_stcore/health once per second, forever, appending "monotonic_s latency_ms ok"
    lines to ``path`` (run in a process of its own: ``--poll-health URL PATH``)."""
    start = time.monotonic()
    with open(path, "a", buffering=1) as out:
        while True:
            t0 = time.perf_counter()
            try:
                ok = urllib.request.urlopen(f"{url}/_stcore/health", timeout=10).read() == b"ok"
            except OSError:
                ok = False
            out.write(f"{time.monotonic():.3f} {(time.perf_counter() - t0) * 1000:.1f} {int(ok)}\n")
            time.sleep(max(0.0, 1.0 - (time.monotonic() - start) % 1.0))  # a 1 s grid


def health_between(path: str, start: float, end: float) -> dict:
    """The health checks made in [start, end]: count, max and p95 ms, failures."""
    rows = [line.split() for line in Path(path).read_text().splitlines()]
    rows = [(float(ms), ok == "1") for t, ms, ok in rows if start <= float(t) <= end]
    ms = sorted(m for m, _ in rows)
    return {"count": len(ms), "max_ms": ms[-1] if ms else None,
            "p95_ms": ms[min(len(ms) - 1, int(0.95 * len(ms)))] if ms else None,
            "failures": sum(not ok for _, ok in rows)}


# --- the measurement ------------------------------------------------------------------------

def cpu_now(pids: dict) -> dict:
    """CPU seconds so far: the server (with its children), the worker with its trainings,
    this process (locust and its students), everything this process started (stack and
    health poller included), and the whole machine (busy time from /proc/stat)."""
    table = processes()
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return {"t": time.monotonic(), "server": cpu_seconds(descendants(pids["server"], table)),
            "worker": cpu_seconds([p for w in pids["workers"] for p in descendants(w, table)]),
            "locust": own_cpu_seconds(), "ours": cpu_seconds(descendants(os.getpid(), table)),
            "machine": (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")}


def interaction_rows(env: Environment) -> dict:
    """Per interaction, from locust's statistics: count, failures, median, p95 and max ms
    (locust rounds times above 100 ms to 2 significant digits)."""
    rows = {}
    for name in NAMES:
        entry = env.stats.get(name, KIND)
        rows[name] = {"count": entry.num_requests, "failures": entry.num_failures,
                      "median_ms": entry.median_response_time if entry.num_requests else None,
                      "p95_ms": entry.get_response_time_percentile(0.95) if entry.num_requests else None,
                      "max_ms": entry.max_response_time if entry.num_requests else None}
    return rows


def exact_rows() -> dict:
    """Per interaction, from the students' own samples (successes only): count, median and
    p95 ms of the time, and of the script time (first BackMsg to script_finished)."""
    rows = {}
    for name, pairs in StreamlitStudent.samples.items():
        total, script = np.array(pairs).T
        rows[name] = {"count": len(pairs), "median_ms": float(np.median(total)),
                      "p95_ms": float(np.percentile(total, 95)), "script_median_ms": float(np.median(script)),
                      "script_p95_ms": float(np.percentile(script, 95))}
    return rows


def judge(step: dict) -> dict:
    """The step against the class targets (core/targets.py): {target name: met}."""
    rows, health = step["exact"], step["health"]
    p95 = lambda name: rows[name]["p95_ms"] / 1000 if rows.get(name) else None  # noqa: E731
    measured = {"class_other_digits_p95": p95("other digits"), "class_stroke_p95": p95("stroke to answer"),
                "class_health_max": None if health["max_ms"] is None else health["max_ms"] / 1000,
                "class_errors": step["errors"] + health["failures"]}
    return {k: v is not None and TARGETS[k].met(v) for k, v in measured.items()}


def run_class(url: str, steps: list[int], minutes: float, training: bool, health_path: str) -> tuple[list, list]:
    """Ramp the class through ``steps`` students on the lab at ``url``; measure each step
    for ``minutes`` once all its students are in. Returns one dict per step and the ids of
    the trainings queued."""
    pids = stack_pids()
    trainer = Training(pids["server"]) if training else None
    env = Environment(user_classes=[StreamlitStudent], host=url)
    runner = env.create_local_runner()
    results = []
    try:
        for students in steps:
            elsewhere = busy_elsewhere()
            env.stats.reset_all()
            StreamlitStudent.samples = {}
            runner.start(students, spawn_rate=max(1.0, students - runner.user_count))
            deadline = time.monotonic() + ARRIVAL_TIMEOUT_S
            while StreamlitStudent.arrived < students and time.monotonic() < deadline:
                gevent.sleep(0.5)
            # The first loads happen here, before the measured window.
            first_load = {"locust": interaction_rows(env)["first load"], "exact": exact_rows().get("first load")}
            env.stats.reset_all()
            StreamlitStudent.samples = {}
            start, retries = cpu_now(pids), CountedRetry.count
            gevent.sleep(60 * minutes)
            end = cpu_now(pids)
            step = summarize(env, students, start, end, pids, health_path, trainer)
            # HTTP requests sent again after a kept-alive connection was found closed (a browser does too).
            step.update(http_retries=CountedRetry.count - retries, arrived=StreamlitStudent.arrived,
                        first_load=first_load, busy_elsewhere={"before": elsewhere, "after": busy_elsewhere()})
            results.append(step)
            print(row_line(step), flush=True)
    finally:
        runner.quit()
        if trainer:
            trainer.stop()
    return results, trainer.queued if trainer else []


def summarize(env, students: int, start: dict, end: dict, pids: dict, health_path: str, trainer) -> dict:
    """One step as a JSON-ready dict."""
    window = end["t"] - start["t"]
    cpu = {k: end[k] - start[k] for k in ("server", "worker", "locust", "ours", "machine")}
    rows = interaction_rows(env)
    requests = sum(r["count"] for r in rows.values())
    server_cpus = len(os.sched_getaffinity(pids["server"]))
    step = {"students": students, "seconds": round(window, 1), "requests": requests,
            "errors": sum(r["failures"] for r in rows.values()),
            "error_samples": [f"{e.name}: {e.error}"[:300] for e in list(env.stats.errors.values())[:10]],
            "interactions": rows, "exact": exact_rows(), "health": health_between(health_path, start["t"], end["t"]),
            "cpu_seconds": {k: round(v, 2) for k, v in cpu.items()}, "server_cpus": server_cpus,
            "server_busy": cpu["server"] / (window * server_cpus),
            "server_cpu_s_per_student_minute": cpu["server"] / (students * window / 60),
            "server_cpu_s_per_interaction": cpu["server"] / requests if requests else None,
            "locust_busy": cpu["locust"] / window, "server_rss_mb": round(rss_mb(pids["server"])),
            # Other work on the shared machine, as a share of all its CPUs: what competed with the lab.
            "others_busy": max(0.0, cpu["machine"] - cpu["ours"]) / (window * os.cpu_count()),
            "training_running": trainer.running_share(start["t"], end["t"]) if trainer else None,
            "training_states": trainer.states(start["t"], end["t"]) if trainer else None}
    step["targets_met"] = judge(step)
    step["passed"] = all(step["targets_met"].values())
    return step


def measure_app(app: str, steps: list[int], minutes: float, training: bool, pin: bool, seed: int) -> dict:
    """Start the lab running ``app``, warm it up, ramp the class; the lab is stopped after."""
    StreamlitStudent.pngs, StreamlitStudent.seed = digit_pngs(50, seed), seed
    StreamlitStudent.arrived = StreamlitStudent.count = 0
    everything = os.sched_getaffinity(0)
    stack_cpus, locust_cpus = halves()
    if pin:
        os.sched_setaffinity(0, stack_cpus)  # the stack's processes inherit this
    with tempfile.NamedTemporaryFile(prefix="digitlab-health-", suffix=".txt") as health, lab_stack(app=app) as url:
        if pin:
            os.sched_setaffinity(0, locust_cpus)
        poller = subprocess.Popen([sys.executable, __file__, "--poll-health", url, health.name])
        try:
            warm_up(url, StreamlitStudent.pngs[0])
            settle(stack_pids()["server"])
            steps_done, trainings = run_class(url, steps, minutes, training, health.name)
        finally:
            poller.terminate()
            poller.wait(10)
            os.sched_setaffinity(0, everything)
    placement = (f"lab on CPU {sorted(stack_cpus)}, locust and the health poller on CPU {sorted(locust_cpus)}"
                 if pin else "lab and locust share every CPU")
    return {"app": app, "training": training, "trainings_queued": trainings, "placement": placement,
            "steps": steps_done}


# --- the Chromium benchmark, for the validation --------------------------------------------

def chromium(students: int, minutes: float, seed: int) -> dict:
    """benchmarks/classroom.py (Playwright, headless Chromium) at ``students`` for
    ``minutes``, without trainings (the protocol runs of the validation have none either);
    its JSON result. A process of its own: Playwright's asyncio does not mix with gevent."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "classroom.py"), "--students", str(students),
                        "--minutes", str(minutes), "--trainings", "0", "--seed", str(seed), "--json", out.name],
                       cwd=ROOT, check=True)
        return json.loads(Path(out.name).read_text())


def compare(browser: dict, step: dict) -> dict:
    """The protocol step beside the Chromium run at the same class size. Per interaction,
    medians in ms: the protocol students' time (to the run finished and its new images;
    also only to script_finished) and Chromium's (to the result visible in the page), with
    their ratio, held to within 30%. Then the server's side, which does not depend on the
    client: CPU seconds per interaction and interactions per student-minute."""
    theirs = {row["interaction"]: row for row in browser["interactions"]}
    rows = []
    for name in NAMES:
        # The first loads come before the measured window in both benchmarks.
        ours = (step["first_load"]["exact"] if name == "first load" else step["exact"].get(name)) or {"count": 0}
        other = theirs.get(CHROMIUM_NAMES.get(name, name), {})
        a, b = ours.get("median_ms"), other.get("median_ms")
        rows.append({"interaction": name, "protocol_count": ours["count"], "protocol_ms": a,
                     "protocol_script_ms": ours.get("script_median_ms"),
                     "chromium_count": other.get("count"), "chromium_ms": b, "ratio": a / b if a and b else None})
        rows[-1]["within_30pct"] = None if rows[-1]["ratio"] is None else 1 / 1.3 <= rows[-1]["ratio"] <= 1.3
    count = sum(row["count"] for row in browser["interactions"] if row["interaction"] != "first load")
    minutes = browser["measured_seconds"] / 60
    server = {"protocol_cpu_s_per_interaction": step["server_cpu_s_per_interaction"],
              "chromium_cpu_s_per_interaction": browser["cpu_seconds"]["server"] / count if count else None,
              "protocol_interactions_per_student_minute": step["requests"] / (step["students"] * step["seconds"] / 60),
              "chromium_interactions_per_student_minute": count / (browser["students"] * minutes)}
    return {"students": step["students"], "interactions": rows, "server": server,
            "chromium_cpu_busy": browser["cpu_busy"], "chromium_cpu_seconds": browser["cpu_seconds"],
            "chromium_busy_elsewhere": {"start": browser["machine"]["busy_at_start"],
                                        "end": browser["machine"]["busy_at_end"]}}


# --- the report -----------------------------------------------------------------------------

def shown(value, scale: float = 1.0, digits: int = 2) -> str:
    return "-" if value is None else f"{value * scale:.{digits}f}"


def row_line(step: dict) -> str:
    health, empty = step["health"], {"median_ms": None, "p95_ms": None}
    other, stroke = (step["exact"].get(name) or empty for name in ("other digits", "stroke to answer"))
    return (f"| {step['students']} | {step['requests']} | {step['errors']} "
            f"| {shown(other['median_ms'], 1e-3)} / {shown(other['p95_ms'], 1e-3)} "
            f"| {shown(stroke['median_ms'], 1e-3)} / {shown(stroke['p95_ms'], 1e-3)} "
            f"| {shown(health['max_ms'], 1e-3)} | {step['server_busy']:.0%} "
            f"| {step['server_cpu_s_per_student_minute']:.2f} | {shown(step['server_cpu_s_per_interaction'])} "
            f"| {step['locust_busy']:.0%} | {step['others_busy']:.0%} | {shown(step['training_running'], 100, 0)} "
            f"| {'pass' if step['passed'] else 'MISS'} |")


HEADER = ("| students | interactions | errors | other digits p50 / p95 s | stroke p50 / p95 s | max health s "
          "| server CPU busy | server CPU s per student-min | server CPU s per interaction | locust CPU "
          "| other work (machine) | training running % | all targets |\n"
          "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")


def report(result: dict) -> str:
    """The result as markdown."""
    m = result["machine"]
    lines = [f"# Load benchmark (Streamlit protocol, locust), {result['date']}", "",
             f"{m['cpu']}, {m['cores']} cores, {m['host']}; load average before {m['load_average']}; "
             f"think time {THINK_S[0]:g}-{THINK_S[1]:g} s, students arrive within {ARRIVAL_S:g} s, "
             f"{result['minutes']:g} min measured per step once all are in.", "",
             "Targets (core/targets.py): " + "; ".join(
                 f"{k} {'<=' if not TARGETS[k].higher_is_better else '>='} {TARGETS[k].value:g} {TARGETS[k].unit}"
                 for k in OUR_TARGETS),
             "", "Times are percentiles of the students' own samples (successes only); locust's statistics, which "
             "round times over 1 s to 100 ms, are in the JSON too (\"interactions\")."]
    for run in result["runs"]:
        lines += ["", f"## {run['app']}, {'one training running' if run['training'] else 'no training'}; "
                  f"{run['placement']}", "", HEADER] + [row_line(s) for s in run["steps"]]
        for step in run["steps"]:
            busy = step["busy_elsewhere"]
            if busy["before"] or busy["after"]:
                lines.append(f"- {step['students']} students: also busy before: {'; '.join(busy['before']) or 'none'}"
                             f"; after: {'; '.join(busy['after']) or 'none'}")
            if step.get("http_retries"):
                lines.append(f"- {step['students']} students: {step['http_retries']} HTTP requests sent again on a "
                             "new connection (the server had closed the kept-alive one; a browser does the same)")
            for sample in step["error_samples"]:
                lines.append(f"- {step['students']} students, error: {sample}")
        if "largest_class" in run:
            target, largest = TARGETS["class_students"], run["largest_class"]
            lines.append(f"- Largest class meeting every target: {largest or 'none'} (target >= {target.value:g}: "
                         f"{'pass' if largest and target.met(largest) else 'MISS'})")
    for row in result.get("validation", []):
        server = row["server"]
        lines += ["", f"## Validation at {row['students']} students: medians in ms, protocol vs Chromium", "",
                  "| interaction | protocol (n) | protocol, to script_finished | Chromium, result visible (n) "
                  "| protocol / Chromium | within 30% |", "| --- | ---: | ---: | ---: | ---: | --- |"]
        for r in row["interactions"]:
            lines.append(f"| {r['interaction']} | {shown(r['protocol_ms'], digits=0)} ({r['protocol_count']}) "
                         f"| {shown(r['protocol_script_ms'], digits=0)} "
                         f"| {shown(r['chromium_ms'], digits=0)} ({r['chromium_count']}) | {shown(r['ratio'])} "
                         f"| {'-' if r['within_30pct'] is None else r['within_30pct']} |")
        lines += [f"- Server CPU s per interaction: protocol "
                  f"{shown(server['protocol_cpu_s_per_interaction'], digits=3)}, "
                  f"Chromium {shown(server['chromium_cpu_s_per_interaction'], digits=3)}; interactions per "
                  f"student-minute: protocol {server['protocol_interactions_per_student_minute']:.1f}, Chromium "
                  f"{server['chromium_interactions_per_student_minute']:.1f}",
                  f"- Chromium run: lab busy {row['chromium_cpu_busy']['lab']:.0%}, browser side "
                  f"{row['chromium_cpu_busy']['browser']:.0%}; other processes over 5% at its start: "
                  f"{row['chromium_busy_elsewhere']['start'] or 'none'}, at its end: "
                  f"{row['chromium_busy_elsewhere']['end'] or 'none'}"]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", default="5,10,20,30,40", help="the steps, comma-separated")
    parser.add_argument("--minutes", type=float, default=2.0, help="measured per step, once all students are in")
    parser.add_argument("--app", default="server.py", help="script(s) the lab runs, comma-separated: server.py, app.py")
    parser.add_argument("--training", action=argparse.BooleanOptionalAction, default=True,
                        help="keep one training running in the worker (off in --validate)")
    parser.add_argument("--validate", action="store_true",
                        help="per class size: classroom.py (Chromium), then the protocol, each on a fresh lab")
    parser.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True,
                        help="the lab on one half of the CPUs, locust on the other")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "load.json")
    parser.add_argument("--poll-health", nargs=2, metavar=("URL", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.poll_health:
        poll_health(*args.poll_health)
        return 0
    locust.log.setup_logging("WARNING")
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)  # retries are counted per step
    steps = [int(s) for s in args.students.split(",")]
    info = {**machine(), "load_average": load_average()}
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": info,
              "minutes": args.minutes, "seed": args.seed,
              "targets": {k: vars(TARGETS[k]) for k in OUR_TARGETS}, "runs": []}
    print(HEADER)
    if args.validate:
        result["validation"] = []
        for students in steps:
            browser = chromium(students, args.minutes, args.seed)
            run = measure_app("server.py", [students], args.minutes, False, args.pin, args.seed)
            result["runs"].append(run)
            result["validation"].append(compare(browser, run["steps"][0]))
    else:
        for app in args.app.split(","):
            run = measure_app(app, steps, args.minutes, args.training, args.pin, args.seed)
            # The largest class before the ramp's first miss.
            passing = [s["students"] for s in itertools.takewhile(lambda s: s["passed"], run["steps"])]
            run["largest_class"] = passing[-1] if passing else None
            result["runs"].append(run)
    print(report(result))
    key = "validation" if args.validate else ("ramp" if len(steps) > 1 else "apps")
    stored = json.loads(args.json.read_text()) if args.json.exists() else {}
    stored[key] = result
    args.json.write_text(json.dumps(stored, indent=2) + "\n")
    print(f"\nWritten to {args.json} ({key})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
