"""Classroom load benchmark: N simulated students use Digit Lab at once for M minutes.

    .venv/bin/python benchmarks/classroom.py [--students 20] [--minutes 5] [--trainings 4]
                                             [--json benchmarks/classroom.json] [--pin/--no-pin]

Starts the lab as the tests do (scripts/harness.py's ``lab_stack``: Redis, one worker,
Streamlit), warms every page once, then runs one Playwright browser context per student,
all in one headless Chromium, concurrently. The students arrive within ARRIVAL_S seconds
and open the app ("first load"); the M minutes start once all are in. Each loops Denoising
(2-3 slider moves, drawn in the browser, then Other digits) -> Draw (a stroke, then an upload of a real MNIST test digit) ->
Overview, moving between pages by the sidebar, with a person's think time between
interactions; the first ``--trainings`` students also queue one training each, early on.
Every interaction is timed from the action to its new result visible in the page.
Meanwhile a thread polls /_stcore/health once per second and notes every 5 s how busy
each side is; the server's memory and every process's CPU time are read from /proc.

The browser's own CPU matters: on a slow core one student's Chromium needs about 0.15 of
a CPU (a denoising page about 2 s). When the report says the
browser side was near saturation, the times include Chromium waiting for its CPU.

Prints a markdown table and a few lines, checks them against TARGETS, writes all of it
to the JSON file.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import sys
import threading
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from the repository root: core/ and scripts/ import

from PIL import Image
from playwright.async_api import async_playwright
from rq.registry import FailedJobRegistry

from core.config import DEFAULTS  # noqa: E402
from core.data.mnist import load_mnist
from core.machine import load_average, machine  # noqa: E402
from core.queue import jobs
from core.targets import TARGETS  # noqa: E402
from scripts.harness import CHROMIUM, CHROMIUM_ARGS, lab_stack  # noqa: E402

# core.targets' rows for this benchmark; a kind not named here is judged on errors alone.
KIND_TARGETS = {"slider move": "browser_class_slider_p95", "other digits": "browser_class_other_digits_p95",
                "stroke to prediction": "browser_class_stroke_p95"}
OUR_TARGETS = (*KIND_TARGETS.values(), "browser_class_health_max", "browser_class_errors", "browser_class_rss_growth")
KINDS = ("first load", "overview", "denoising page", "slider move", "other digits", "draw page", "stroke to prediction", "upload",
         "train page", "train click")
TIMEOUT_MS = 30_000                     # per interaction: a slow one counts as slow, not as a hang
FIRST_LOAD_MS = 120_000                 # a new browser context fetches and compiles the whole frontend
ARRIVAL_S = 5.0                         # students arrive within this many seconds
POLL_MS = 50                            # result polling in the page; Playwright's own waits poll every 500 ms
THINK_S = (3.0, 8.0)                    # a person's pause between interactions
SHIPPED_EPOCHS = DEFAULTS["quick_cnn"].epochs  # the Train page's default model, shipped: not a new job
# Strokes in 280ths of the pad's side (it was a 280-pixel canvas), scaled to the pad shown.
STROKES = [[(140, 40), (140, 240)],                                    # 1
           [(130, 50), (250, 50), (170, 250)],                         # 7
           [(90, 60), (90, 150), (200, 150), (200, 60), (200, 250)],   # 4
           [(140, 40), (80, 140), (140, 240), (200, 140), (140, 40)]]  # 0

# Result predicates, run in the page every POLL_MS. "Fresh" = visible and not inside an
# element Streamlit marks stale while a rerun replaces it, so an old result never counts.
JS_FRESH = """const fresh = (e) => !!e && e.getClientRects().length > 0 && !e.closest('[data-stale="true"]');
const texts = (sel, t) => [...document.querySelectorAll(sel)].filter((e) => fresh(e) && e.textContent.includes(t));
const imgs = () => [...document.querySelectorAll('[data-testid="stImage"] img')];
const loaded = (i) => fresh(i) && i.complete && i.naturalWidth > 0;
const inComponents = (sel) => [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
    .filter((h) => !h.closest('[data-stale="true"]') && h.shadowRoot).map((h) => h.shadowRoot.querySelector(sel));
const canvas = () => inComponents('.sketchpad canvas').find(fresh);
const noise = () => inComponents('.noise-explorer').find((e) => !!e);"""
JS = {
    "overview": "() => { %s const h = texts('h1,h2,h3', 'Cached models')[0];"
                " const t = document.querySelector('[data-testid=\"stDataFrame\"]');"
                " return !!h && fresh(t) && !!(h.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING); }",
    # The Denoising component (in its shadow root): its digits drawn for the set ``token``
    # (any set: null), at noise ``level`` (any: null).
    "denoising": "([token, level]) => { %s const e = noise(); return !!e && !!e.dataset.token"
                 " && (token === null || e.dataset.token === token) && (level === null || e.dataset.level === level)"
                 " && Number(e.dataset.frames) > 0; }",
    "canvas": "() => { %s return !!canvas(); }",  # the pad lives in a component's shadow root
    "cnn": "(n) => { %s return [...document.querySelectorAll('[data-model=\"CNN\"]')].filter(fresh).length >= n; }",
    "text": "(words) => { %s return words.some((w) => texts('[data-testid=\"stMarkdownContainer\"]', w).length > 0); }",
}
JS = {k: v % JS_FRESH for k, v in JS.items()}
JS["looks"] = """() => { const app = document.querySelector('[data-testid="stApp"]');
  const i = [...document.querySelectorAll('[data-testid="stImage"] img')];
  return {path: location.pathname, script: app && app.getAttribute('data-test-script-state'),
    stale: document.querySelectorAll('[data-stale="true"]').length, images: i.length,
    broken: i.filter((x) => x.complete && x.naturalWidth === 0).length, loading: i.filter((x) => !x.complete).length,
    title: (document.querySelector('h1') || {}).textContent,
    status: (document.querySelector('[data-testid="stStatusWidget"]') || {}).textContent}; }"""


# --- the machine and its processes, from /proc --------------------------------------------

def processes() -> dict[int, tuple[int, str]]:
    """Every live process: pid -> (parent pid, command line)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue  # it ended while we looked
            table[int(entry.name)] = (int(stat[stat.rfind(")") + 2:].split()[1]), cmd)
    return table


def busy_elsewhere(seconds: float = 1.0, threshold: float = 5.0) -> list[str]:
    """Processes outside this benchmark that used at least ``threshold`` % of a CPU over
    ``seconds``: what else was competing for the machine."""
    ours = set(descendants(os.getpid(), processes()))
    # Own time only: init and shells reaping their children would count those children's whole lives.
    before = {pid: cpu_seconds([pid], reaped=False) for pid in processes() if pid not in ours}
    time.sleep(seconds)
    table = processes()
    busy = [(100 * (cpu_seconds([pid], reaped=False) - used) / seconds, pid)
            for pid, used in before.items() if pid in table]
    return [f"{pct:.0f}% pid {pid} {table[pid][1][:70]}" for pct, pid in sorted(busy, reverse=True) if pct >= threshold]


def descendants(root: int, table: dict) -> list[int]:
    """``root`` and every live process below it."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += [p for p, (ppid, _) in table.items() if ppid == pid]
    return found


def cpu_seconds(pids, reaped: bool = True) -> float:
    """CPU seconds (user + system) of ``pids`` and, if ``reaped``, of their exited, reaped children."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        total += sum(int(x) for x in fields[11:15 if reaped else 13])  # utime, stime, cutime, cstime
    return total / tick


def rss_mb(pid: int) -> float:
    """Resident memory (VmRSS) of ``pid`` in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stack_pids() -> dict:
    """The stack's and the browser's processes, children of this one: {"server": pid,
    "workers": [pids], "redis": pid, "driver": pid or None}."""
    me, table = os.getpid(), processes()
    kids = {pid: cmd for pid, (ppid, cmd) in table.items() if ppid == me}
    pick = lambda word: [pid for pid, cmd in kids.items() if word in cmd]  # noqa: E731
    return {"server": pick("streamlit")[0], "workers": pick("core worker"), "redis": pick("redis-server")[0],
            "driver": (pick("run-driver") or [None])[0]}


def cpu_snapshot(pids: dict) -> dict:
    """CPU seconds so far of the server, the worker(s) with their training processes, the
    browser (every Chromium process under Playwright's driver) and the driver + this script."""
    table = processes()
    browser = [p for p in descendants(pids["driver"], table) if p != pids["driver"]] if pids["driver"] else []
    return {"server": cpu_seconds(descendants(pids["server"], table)),
            "worker": cpu_seconds([p for w in pids["workers"] for p in descendants(w, table)]),
            "browser": cpu_seconds(browser),
            "driver": cpu_seconds([pids["driver"]] if pids["driver"] else []) + own_cpu_seconds()}


def own_cpu_seconds() -> float:
    """This process' own CPU seconds (its reaped children, the stack once stopped, left out)."""
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def halves() -> tuple[set, set]:
    """The CPUs split in two: (the stack's, the browser's); {0} and {1} on two cores."""
    cpus = sorted(os.sched_getaffinity(0))
    cut = max(1, len(cpus) // 2)
    return set(cpus[:cut]), set(cpus[cut:]) or set(cpus)


# --- the health check ---------------------------------------------------------------------

class HealthPoller(threading.Thread):
    """GET /_stcore/health once per second; ``latencies`` in ms (a failed check counts as
    its full time and adds to ``failures``). Every 5 s also notes each group's CPU use
    (% of one CPU) in ``timeline``: to see which side was saturated when times went up."""

    def __init__(self, url: str, pids: dict):
        super().__init__(daemon=True)
        self.url, self.pids, self.latencies, self.failures, self.stop = url, pids, [], 0, threading.Event()
        self.timeline: list[dict] = []

    def run(self):
        start = time.monotonic()
        last = cpu_snapshot(self.pids)
        while not self.stop.is_set():
            if len(self.latencies) % 5 == 4:
                now = cpu_snapshot(self.pids)
                self.timeline.append({"t": round(time.monotonic() - start), **{
                    k: round(100 * (now[k] - last[k]) / 5) for k in now}})
                last = now
            t0 = time.perf_counter()
            try:
                ok = urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=10).read() == b"ok"
            except OSError:
                ok = False
            self.latencies.append((time.perf_counter() - t0) * 1000)
            self.failures += not ok
            # Keep to a 1 s grid, so a slow answer does not thin the samples out.
            self.stop.wait(max(0.0, 1.0 - (time.monotonic() - start) % 1.0))


# --- what a student uploads ---------------------------------------------------------------

def digit_pngs(count: int, seed: int) -> list[bytes]:
    """``count`` PNGs of real MNIST test digits, 200x200, dark ink on white, like a photo
    of a digit on paper."""
    x = load_mnist().x_test
    pngs = []
    for i in np.random.default_rng(seed).choice(len(x), count, replace=False):
        buffer = io.BytesIO()
        Image.fromarray(255 - x[i]).resize((200, 200), Image.BILINEAR).save(buffer, format="PNG")
        pngs.append(buffer.getvalue())
    return pngs


# --- one student --------------------------------------------------------------------------

class Record:
    """Times (ms), errors and exception boxes per interaction kind, shared by all students."""

    def __init__(self):
        self.ms = {k: [] for k in KINDS}
        self.errors = {k: 0 for k in KINDS}
        self.boxes = {k: 0 for k in KINDS}
        self.queued = 0  # trainings the students queued
        self.samples: list[str] = []  # the first few error messages, to read after the run
        self.start = time.monotonic()
        self.raw: list[tuple] = []  # (s since start, student, kind, ms): to see when the slow ones came

    def clock(self) -> float:
        """Seconds since the students started."""
        return time.monotonic() - self.start

    def add(self, who: int, kind: str, ms: float) -> None:
        self.ms[kind].append(ms)
        self.raw.append((round(self.clock(), 1), who, kind, round(ms)))

    def error(self, who: int, kind: str, exc: BaseException, looks: str = "") -> None:
        self.errors[kind] += 1
        if len(self.samples) < 20:
            # Playwright's call log follows the first line: it says what the wait was stuck on.
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            self.samples.append(f"{self.clock():.0f} s, student {who}, {kind}: {type(exc).__name__}: "
                                + " / ".join(lines[:1] + lines[-2:] if len(lines) > 3 else lines)[:400]
                                + f"; page: {looks}")


class Student:
    """One person at one browser context: drives the pages, times each result."""

    def __init__(self, number: int, page, url: str, record: Record, rng: random.Random, pngs, deadline: float):
        self.number, self.page, self.url, self.record, self.rng = number, page, url, record, rng
        self.pngs, self.deadline, self.step = pngs, deadline, 1  # step: the slider's direction

    def time_left(self) -> bool:
        return time.monotonic() < self.deadline

    async def think(self) -> None:
        await asyncio.sleep(self.rng.uniform(*THINK_S))

    async def until(self, name: str, arg=None, timeout: float = TIMEOUT_MS) -> None:
        """Wait until predicate JS[name] holds in the page (``timeout`` ms)."""
        await self.page.wait_for_function(JS[name], arg=arg, polling=POLL_MS, timeout=timeout)

    async def settled(self) -> None:
        await self.page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")

    async def measure(self, kind: str, action) -> bool:
        """Run ``action`` (a coroutine function that returns its start time, then waits for its
        result), record its time in ms, or an error and reload the page; then count
        exception boxes. Returns whether it succeeded."""
        ok = True
        try:
            t0 = await action()
            self.record.add(self.number, kind, (time.perf_counter() - t0) * 1000)
        except Exception as exc:  # a Playwright timeout, a closed page: count it, go on
            ok = False
            self.record.error(self.number, kind, exc, await self.looks())
            await self.recover()
        try:
            self.record.boxes[kind] += await self.page.get_by_test_id("stException").count()
        except Exception:
            pass
        return ok

    async def looks(self) -> str:
        """What the page shows, in one line: for an error's note."""
        try:
            return str(await self.page.evaluate(JS["looks"]))
        except Exception as exc:
            return f"page unreadable: {type(exc).__name__}"

    async def recover(self) -> None:
        try:
            await self.page.goto(self.page.url if self.page.url.startswith(self.url) else self.url)
            await self.settled()
        except Exception:
            pass  # the next interaction will time out and count

    async def navigate(self, link: str, predicate: str, arg=None) -> float:
        """Click the sidebar's ``link``, as a student moves between pages; wait for the page's result."""
        t0 = time.perf_counter()
        await self.page.get_by_test_id("stSidebarNav").get_by_role("link", name=link).click()
        await self.until(predicate, arg)
        return t0

    async def first_load(self) -> float:
        """Open the app in this fresh context: the Overview page."""
        t0 = time.perf_counter()
        await self.page.goto(self.url, timeout=FIRST_LOAD_MS)
        await self.until("overview", timeout=FIRST_LOAD_MS)
        return t0

    async def overview(self) -> None:
        await self.measure("overview", lambda: self.navigate("Overview", "overview"))

    async def denoising(self) -> None:
        if not await self.measure("denoising page", lambda: self.navigate("Denoising", "denoising", [None, None])):
            return
        for _ in range(self.rng.choice((2, 3))):
            await self.think()
            if not await self.measure("slider move", self.move_slider):
                return
        await self.think()
        await self.measure("other digits", self.other_digits)

    async def move_slider(self) -> float:
        """A step of the noise slider by keyboard: the next frame, drawn in the browser."""
        slider = self.page.locator(".noise-explorer input[type=range]")
        value = int(await slider.input_value())
        # Sweep up to the top, then down to the bottom, like someone exploring the range.
        if not 0 <= value + self.step <= 20:
            self.step = -self.step
        await slider.focus()
        t0 = time.perf_counter()
        await slider.press("ArrowRight" if self.step > 0 else "ArrowLeft")
        await self.until("denoising", [None, f"{0.05 * (value + self.step):.2f}"])
        return t0

    async def other_digits(self) -> float:
        """Other digits: a server run that sends 8 new digits at every noise level."""
        token = await self.page.locator(".noise-explorer").get_attribute("data-token")
        batch, rest = token.split("-", 1)
        t0 = time.perf_counter()
        await self.page.get_by_role("button", name="Other digits").click()
        await self.until("denoising", [f"{int(batch) + 1}-{rest}", None])
        return t0

    async def draw(self) -> None:
        if not await self.measure("draw page", lambda: self.navigate("Draw", "canvas")):
            return
        await self.settled()
        if await self.page.locator("[data-model='CNN']").count():
            # Left over from a visit cut short: a fresh page, so the next answer is new.
            await self.page.reload()
            await self.until("canvas")
            await self.settled()
        await self.think()
        if not await self.measure("stroke to prediction", self.stroke):
            return
        await self.think()
        await self.measure("upload", self.upload)

    async def stroke(self) -> float:
        points = [(x + self.rng.uniform(-15, 15), y + self.rng.uniform(-15, 15)) for x, y in self.rng.choice(STROKES)]
        canvas = self.page.locator(".sketchpad canvas").first
        await canvas.scroll_into_view_if_needed()
        box = await canvas.bounding_box()
        scale = box["width"] / 280
        points = [(box["x"] + x * scale, box["y"] + y * scale) for x, y in points]
        mouse = self.page.mouse
        await mouse.move(*points[0])
        await mouse.down()
        for (ax, ay), (bx, by) in zip(points, points[1:]):
            for t in range(1, 11):
                await mouse.move(ax + (bx - ax) * t / 10, ay + (by - ay) * t / 10)
        await mouse.up()
        t0 = time.perf_counter()
        await self.until("cnn", 1)
        return t0

    async def upload(self) -> float:
        png = self.rng.choice(self.pngs)
        t0 = time.perf_counter()
        await self.page.locator("input[type=file]").set_input_files(
            files=[{"name": "digit.png", "mimeType": "image/png", "buffer": png}])
        await self.until("cnn", 2)  # the canvas' answer and the upload's
        return t0

    async def train(self, epochs: int) -> None:
        """Queue the page's default model (the quick CNN) for ``epochs`` epochs: a new job."""
        if not await self.measure("train page", lambda: self.navigate("Train", "text", ["These settings are"])):
            return
        await self.think()

        async def click() -> float:
            # Only a student with a name in the class may queue (the sidebar's "Join").
            name = self.page.get_by_label("Your name in this class", exact=True)
            if await name.count():
                await name.fill(f"Student {self.number}")
                await self.page.get_by_role("button", name="Join").click()
                await self.until("text", [f"You are Student {self.number} in this class."])
                await self.settled()
            field = self.page.get_by_label("Epochs")
            await field.fill(str(epochs))
            await field.press("Enter")
            await self.until("text", ["Not trained yet"])
            await self.settled()
            t0 = time.perf_counter()
            await self.page.get_by_role("button", name="Train", exact=True).click()
            # "Queued by you" ends this session's own job panel, queued or running; a job done
            # before the page looked shows as trained. Others' jobs in the list do not count.
            await self.until("text", ["Queued by you", "These settings were trained here"])
            return t0

        if await self.measure("train click", click):
            self.record.queued += 1

    async def run(self, epochs: int | None, arrived) -> None:
        """Open the app, call ``arrived()``, queue one training early on when ``epochs`` is
        given, then loop Denoising -> Draw -> Overview until the deadline (set once everyone
        has arrived)."""
        await asyncio.sleep(self.rng.uniform(0, ARRIVAL_S))  # a class does not all arrive in one second
        await self.measure("first load", self.first_load)
        arrived()
        if epochs is not None:
            await self.think()
            await self.train(epochs)
        while self.time_left():
            for visit in (self.denoising, self.draw, self.overview):
                await self.think()
                if not self.time_left():
                    return
                await visit()


# --- the class ----------------------------------------------------------------------------

VIEWPORT = {"width": 1400, "height": 1000}


def training_epochs(students: int, trainings: int) -> list[int | None]:
    """Per student, the epochs of the one training it queues (None: it queues none). Each
    value is distinct and not the shipped default, so every click makes a new job."""
    values = [e for e in range(1, 200) if e != SHIPPED_EPOCHS]
    return [values[i] if i < trainings else None for i in range(students)]


async def new_page(browser):
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


async def warm_up(browser, url: str, pngs) -> Record:
    """One unmeasured visit to every page, with a stroke and an upload, no pauses: TensorFlow,
    the models and the page caches load before the class arrives, as when the teacher opens
    the lab first. Returns what it saw (errors mean the lab is broken before any load)."""
    student = Student(-1, await new_page(browser), url, Record(), random.Random(0), pngs, float("inf"))
    student.think = lambda: asyncio.sleep(0)
    await student.measure("first load", student.first_load)
    for visit in (student.denoising, student.draw):
        await visit()
    await student.measure("train page", lambda: student.navigate("Train", "text", ["These settings are"]))
    await student.page.context.close()
    return student.record


def snapshot(pids: dict) -> dict:
    """Now: monotonic time (s), the server's RSS (MB) and every group's CPU seconds."""
    return {"t": time.monotonic(), "rss_mb": rss_mb(pids["server"]), "cpu": cpu_snapshot(pids)}


async def classroom(url: str, args, pngs, health: list) -> dict:
    """Warm the lab up, start a HealthPoller (appended to ``health``), then run the students
    until the deadline; returns the record, the process ids, the poller and snapshots at the
    start (every student's first page shown) and end."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pids = stack_pids()
        warm = await warm_up(browser, url, pngs)
        health.append(HealthPoller(url, pids))
        health[0].start()  # the class's time: the warm-up (TensorFlow loading) is the teacher's
        record, everyone_here = Record(), asyncio.Event()
        pending = {"n": args.students}

        def arrived():
            pending["n"] -= 1
            if pending["n"] == 0:
                everyone_here.set()

        students = [Student(i, await new_page(browser), url, record, random.Random(args.seed * 1000 + i), pngs,
                            float("inf")) for i in range(args.students)]

        async def attend(student, epochs):
            # One student's crash must not end the class: note it, still count the arrival.
            came = False

            def here():
                nonlocal came
                came = True
                arrived()
            try:
                await student.run(epochs, here)
            except Exception as exc:
                record.samples.append(f"student {student.number} stopped: {type(exc).__name__}: {exc}"[:300])
            finally:
                if not came:
                    arrived()

        tasks = [asyncio.create_task(attend(s, e))
                 for s, e in zip(students, training_epochs(args.students, args.trainings))]
        await everyone_here.wait()
        start = snapshot(pids)
        for student in students:  # the M minutes count from here: first loads are the arrival
            student.deadline = start["t"] + 60 * args.minutes
        await asyncio.gather(*tasks)
        end = snapshot(pids)
        pids["affinity"] = {"server": sorted(os.sched_getaffinity(pids["server"])),
                            "browser": sorted(os.sched_getaffinity(
                                descendants(pids["driver"], processes())[-1]))}
        await browser.close()
    return {"record": record, "warm": warm, "pids": pids, "start": start, "end": end, "health": health[0]}


def job_counts(server_pid: int) -> dict:
    """The training queue's jobs by state, read from the stack's Redis (its URL from the
    server's environment)."""
    environ = Path(f"/proc/{server_pid}/environ").read_bytes().decode(errors="replace").split("\0")
    env = dict(kv.split("=", 1) for kv in environ if "=" in kv)

    os.environ[jobs.REDIS_ENV_VAR] = env[jobs.REDIS_ENV_VAR]

    conn = jobs.connection()
    qs = jobs.queues(conn)
    return {"done": len(jobs.finished_ids(conn)),
            "failed": sum(len(FailedJobRegistry(name, connection=conn).get_job_ids()) for name in jobs.QUEUE_NAMES),
            "running": sum(len(q.started_job_registry.get_job_ids()) for q in qs),
            "waiting": jobs.queued_count(conn)}


# --- the report ---------------------------------------------------------------------------

def p95(values) -> float | None:
    return float(np.percentile(values, 95)) if len(values) else None


def interaction_rows(record: Record) -> list[dict]:
    """Per kind: count, median and p95 (ms), errors, exception boxes, target, passed (None:
    nothing to judge)."""
    rows = []
    for kind in KINDS:
        ms = record.ms[kind]
        limit = TARGETS[KIND_TARGETS[kind]].value if kind in KIND_TARGETS else None
        row = {"interaction": kind, "count": len(ms), "median_ms": float(np.median(ms)) if ms else None,
               "p95_ms": p95(ms), "errors": record.errors[kind], "exception_boxes": record.boxes[kind],
               "target": (f"p95 <= {limit:g} ms, " if limit else "") + "0 errors, 0 boxes"}
        clean = all(TARGETS["browser_class_errors"].met(row[k]) for k in ("errors", "exception_boxes"))
        if limit:
            row["passed"] = clean and row["p95_ms"] is not None and row["p95_ms"] <= limit
        else:
            row["passed"] = clean if (ms or not clean) else None
        rows.append(row)
    return rows


def summarize(run: dict, health: HealthPoller, jobs_now: dict, args, info: dict, pin: str) -> dict:
    """Everything measured, with targets and verdicts, as one JSON-ready dict."""
    start, end = run["start"], run["end"]
    lat = health.latencies
    health_row = {"count": len(lat), "max_ms": max(lat, default=None), "p95_ms": p95(lat),
                  "over_1s": sum(x >= 1000 for x in lat), "failures": health.failures}
    health_row["passed"] = bool(lat) and TARGETS["browser_class_health_max"].met(health_row["max_ms"]) and not health.failures
    growth = end["rss_mb"] - start["rss_mb"]
    rss = {"start_mb": start["rss_mb"], "end_mb": end["rss_mb"], "growth_mb": growth,
           "growth_mb_per_student": growth / args.students}
    rss["passed"] = TARGETS["browser_class_rss_growth"].met(rss["growth_mb_per_student"])
    rows = interaction_rows(run["record"])
    window = end["t"] - start["t"]
    cpu = {k: end["cpu"][k] - start["cpu"][k] for k in end["cpu"]}
    affinity = run["pids"]["affinity"]
    # How busy each side's CPUs were: a browser near 100% makes every time include its own wait.
    busy = {"browser": (cpu["browser"] + cpu["driver"]) / (window * len(affinity["browser"])),
            "lab": (cpu["server"] + cpu["worker"]) / (window * len(affinity["server"]))}
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": info,
        "students": args.students, "minutes": args.minutes, "trainings": args.trainings, "seed": args.seed,
        "pinning": pin, "affinity": run["pids"]["affinity"], "targets": {k: vars(TARGETS[k]) for k in OUR_TARGETS},
        "measured_seconds": window, "interactions": rows, "health": health_row, "server_rss": rss,
        "jobs": {"queued_by_students": run["record"].queued, **jobs_now},
        "cpu_seconds": cpu, "cpu_busy": busy,
        "warm_up_errors": run["warm"].samples, "error_samples": run["record"].samples,
        "samples": run["record"].raw, "cpu_timeline": health.timeline, "warm_up_samples": run["warm"].raw,
        "passed": all(r["passed"] is not False for r in rows) and health_row["passed"] and rss["passed"],
    }


def shown(value, digits=0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def report(result: dict) -> str:
    """The result as markdown: a header, the interaction table, then one line per measure."""
    m, h, r, j, c = (result[k] for k in ("machine", "health", "server_rss", "jobs", "cpu_seconds"))
    verdict = {True: "pass", False: "MISS", None: "-"}
    lines = [f"# Classroom benchmark, {result['date']}", "",
             f"{m['cpu']}, {m['cores']} cores, {m['host']}; load average at start "
             f"{' / '.join(map(str, m['load_average']))} (1/5/15 min, before the lab started), at end "
             f"{' / '.join(map(str, m['load_average_end']))}  ",
             f"Other processes over 5% CPU at start: {'; '.join(m['busy_at_start']) or 'none'}; at end: "
             f"{'; '.join(m['busy_at_end']) or 'none'}  ",
             f"{result['students']} students, {result['minutes']:g} min, {result['trainings']} trainings queued "
             f"(dense_64_64), seed {result['seed']}; {result['pinning']}  ",
             f"Think time {THINK_S[0]:g}-{THINK_S[1]:g} s; every page warmed once before the students, who arrive "
             f"within {ARRIVAL_S:g} s; measured window {result['measured_seconds']:.0f} s (from every student's "
             "first page to the last interaction's end).", "",
             "| interaction | count | median ms | p95 ms | errors | exception boxes | target | pass/MISS |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for row in result["interactions"]:
        lines.append(f"| {row['interaction']} | {row['count']} | {shown(row['median_ms'])} | {shown(row['p95_ms'])} "
                     f"| {row['errors']} | {row['exception_boxes']} | {row['target']} | {verdict[row['passed']]} |")
    lines += ["",
              f"- Health check: max {shown(h['max_ms'])} ms, p95 {shown(h['p95_ms'])} ms, {h['over_1s']} of "
              f"{h['count']} over 1 s, {h['failures']} failed (target: always under "
              f"{TARGETS['browser_class_health_max'].value:g} ms): {verdict[h['passed']]}",
              f"- Server RSS: {r['start_mb']:.0f} MB at start, {r['end_mb']:.0f} MB at end, growth "
              f"{r['growth_mb']:+.0f} MB = {r['growth_mb_per_student']:+.1f} MB per student (target <= "
              f"{TARGETS['browser_class_rss_growth'].value:g} MB): {verdict[r['passed']]}",
              f"- Jobs: {j['queued_by_students']} queued by students; {j['done']} done, {j['failed']} failed, "
              f"{j['running']} running, {j['waiting']} waiting at the end",
              f"- CPU seconds over the measured window: browser (Chromium) {c['browser']:.0f}, Playwright driver "
              f"+ this script {c['driver']:.0f}, server {c['server']:.0f}, worker with its trainings "
              f"{c['worker']:.0f}; busy: browser side {result['cpu_busy']['browser']:.0%} of CPU "
              f"{result['affinity']['browser']}, lab side {result['cpu_busy']['lab']:.0%} of CPU "
              f"{result['affinity']['server']}",
              f"- Overall: {'pass' if result['passed'] else 'MISS'}"]
    if result["cpu_busy"]["browser"] > 0.8:
        lines.append("- Warning: the browser side was near saturation; the times include Chromium waiting "
                     "for its CPU, not only the server.")
    for title, samples in (("Warm-up errors", result["warm_up_errors"]), ("First errors", result["error_samples"])):
        if samples:
            lines += ["", f"{title}:"] + [f"- {s}" for s in samples]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--trainings", type=int, default=4, help="students who each queue one training")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "classroom.json")
    parser.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True,
                        help="the lab on one half of the CPUs, the browser on the other")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.trainings = min(args.trainings, args.students)

    info = {**machine(), "load_average": load_average()}  # before our own processes start
    info["busy_at_start"] = busy_elsewhere()
    pngs = digit_pngs(50, args.seed)
    stack_cpus, browser_cpus = halves()
    if args.pin:
        # Children inherit the affinity of the thread that starts them: the stack gets the
        # first half, then this process (Playwright's driver, Chromium) the second.
        os.sched_setaffinity(0, stack_cpus)
        pin = f"pinned: lab (redis, worker, streamlit) on CPU {sorted(stack_cpus)}, browser on {sorted(browser_cpus)}"
    else:
        pin = "not pinned: lab and browser share every CPU"
    with lab_stack() as url:
        if args.pin:
            os.sched_setaffinity(0, browser_cpus)
        run_health = []  # the poller, once the class starts
        try:
            run = asyncio.run(classroom(url, args, pngs, run_health))
        finally:
            if run_health:
                run_health[0].stop.set()
                run_health[0].join()
        jobs_now = job_counts(run["pids"]["server"])
        info["busy_at_end"] = busy_elsewhere()
        info["load_average_end"] = load_average()
    result = summarize(run, run["health"], jobs_now, args, info, pin)
    print(report(result))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nWritten to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
