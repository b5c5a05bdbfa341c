"""Start Digit Lab headless and drive it in Chromium: shared by the browser test and
scripts/screenshots.py."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("DIGITLAB_CHROMIUM", "/usr/bin/chromium")
# Playwright's own browser download does not work offline: use Debian's Chromium. Without
# the networking flags it tries to reach Google's hosts at every start.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextlib.contextmanager
def redis_server(folder: Path, timeout: float = 10.0):
    """A private redis-server (Debian's) on a Unix socket in ``folder``: no TCP port, no
    snapshots. Yields its URL (``unix://...``); stops it after.

    Raises:
        RuntimeError: if its socket does not appear within ``timeout`` seconds.
    """
    sock = Path(folder) / "redis.sock"
    process = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", str(sock), "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        deadline = time.time() + timeout
        while not sock.exists():
            if time.time() > deadline:
                raise RuntimeError(f"redis-server did not open {sock} in {timeout:.0f} s")
            time.sleep(0.05)
        yield f"unix://{sock}"
    finally:
        process.terminate()
        process.wait(10)


@contextlib.contextmanager
def lab_stack(env: dict | None = None, workers: int = 1, timeout: float = 90.0, redis_url: str | None = None):
    """Run the lab as scripts/run_app.sh does, on free resources: a private redis-server on
    a Unix socket in a temporary folder (or the one at ``redis_url``), ``workers`` training
    workers and `streamlit run server.py` on a free port, with a temporary runs store.
    Yields the URL once /_stcore/health is ok; stops all of them after.

    Raises:
        RuntimeError: if the server is not healthy within ``timeout`` seconds.
    """
    with (tempfile.TemporaryDirectory(prefix="digitlab-") as tmp, socket.socket() as s,
          contextlib.nullcontext(redis_url) if redis_url else redis_server(Path(tmp)) as redis_url):
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        env = {**os.environ, "DIGITLAB_RUNS": str(Path(tmp) / "runs"), "DIGITLAB_REDIS_URL": redis_url,
               "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
        processes = []
        try:
            processes += [subprocess.Popen([sys.executable, "-m", "core", "worker"], cwd=ROOT, env=env,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                          for _ in range(workers)]
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "server.py", "--server.headless", "true",
                 "--server.port", str(port), "--browser.gatherUsageStats", "false",
                 "--server.fileWatcherType", "none"],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, timeout)
            yield url
        finally:
            for process in reversed(processes):
                process.terminate()
            for process in reversed(processes):
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()


def wait_healthy(url: str, timeout: float = 90.0) -> None:
    """Poll ``url``/_stcore/health until it answers ok.

    Raises:
        RuntimeError: if it does not within ``timeout`` seconds.
    """
    deadline = time.time() + timeout
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            pass
        if time.time() > deadline:
            raise RuntimeError(f"streamlit did not become healthy in {timeout:.0f} s")
        time.sleep(0.5)


def settle(tab, pause_ms: int = 300) -> None:
    """Wait until the app's script has finished running, twice, a pause apart (a rerun
    triggered by the first run's widgets shows up in between)."""
    for _ in range(2):
        tab.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
        tab.wait_for_timeout(pause_ms)


def draw(tab, points: list[tuple[float, float]]) -> None:
    """Draw one stroke with the mouse through ``points``, given as fractions (0-1) of the
    Draw page's pad side, x right and y down."""
    pad = tab.locator(".sketchpad canvas").first
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    at = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]
    tab.mouse.move(*at[0])
    tab.mouse.down()
    for (ax, ay), (bx, by) in zip(at, at[1:]):
        for t in range(1, 11):
            tab.mouse.move(ax + (bx - ax) * t / 10, ay + (by - ay) * t / 10)
    tab.mouse.up()
