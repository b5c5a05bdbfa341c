"""The test and benchmark harness: start Digit Lab's processes on free resources (a private
Redis, workers, Streamlit; or the whole supervised lab as scripts/run_app.sh runs it) and
drive it in Chromium. Used by the tests, the benchmarks and scripts/screenshots.py."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
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


def postgres_binaries() -> Path | None:
    """The bin/ folder of the newest PostgreSQL Debian's packages installed
    (/usr/lib/postgresql/<version>/bin), or None when there is none."""
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb") if (p.parent / "postgres").exists()]
    return max(found, key=lambda bin: tuple(int(n) if n.isdigit() else 0 for n in bin.parent.name.split(".")),
               default=None)


@contextlib.contextmanager
def postgres_server(folder: Path, timeout: float = 30.0):
    """A private, throwaway PostgreSQL server (Debian's packages): a fresh cluster (trust
    auth, UTF8, locale C, no fsync) listening only on a Unix socket, no TCP port, with an
    empty database ``digitlab``. Yields its SQLAlchemy URL for psycopg 3
    (``postgresql+psycopg://postgres@/digitlab?host=<socket folder>&port=5432``); stops it
    (fast shutdown) after and leaves no process behind.

    PostgreSQL refuses to run as root: as root, the server runs as the ``postgres`` system
    user, in a folder of its own under /tmp (``folder`` may be one it cannot reach, such as
    pytest's), removed after; otherwise as the current user, in ``folder``. Its log is
    ``folder``/postgres.log either way.

    Raises:
        RuntimeError: if PostgreSQL is not installed, or the server does not accept
            connections within ``timeout`` seconds.
    """
    folder = Path(folder)
    binaries = postgres_binaries()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb).")
    as_user: dict = {}
    own_folder = None
    if os.geteuid() == 0:
        import pwd

        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("PostgreSQL refuses to run as root and there is no postgres user.") from None
        as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        # pytest's folders are under /tmp/pytest-of-root (0700): the postgres user could not
        # reach them.
        own_folder = Path(tempfile.mkdtemp(prefix="digitlab-pg-", dir="/tmp"))
        os.chown(own_folder, account.pw_uid, account.pw_gid)
        server_folder = own_folder
    else:
        server_folder = folder
    data, port, log_path = server_folder / "data", 5432, folder / "postgres.log"
    # Clients by explicit arguments only: no PGHOST, PGPORT... from the caller's environment.
    client = [f"--host={server_folder}", f"--port={port}", "--username=postgres"]
    process = None
    try:
        with open(log_path, "ab") as log:
            deadline = time.time() + timeout
            # Each in its own session, so that a kill reaches its child processes too.
            initdb = subprocess.Popen([str(binaries / "initdb"), "--pgdata", str(data), "--username=postgres",
                                       "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
                                      cwd=server_folder, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True, **as_user)
            try:
                failed = initdb.wait(timeout) != 0
            except subprocess.TimeoutExpired:
                os.killpg(initdb.pid, signal.SIGKILL)
                initdb.wait()
                failed = True
            if failed:
                raise RuntimeError(f"initdb failed or took over {timeout:g} s (see {log_path}).")
            process = subprocess.Popen(
                [str(binaries / "postgres"), "-D", str(data), "-p", str(port), "-c", "listen_addresses=",
                 "-c", f"unix_socket_directories={server_folder}", "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "shared_buffers=16MB"],
                cwd=server_folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **as_user)
        while subprocess.run([str(binaries / "pg_isready"), "--quiet", "--dbname=postgres", *client],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
            if process.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"PostgreSQL did not accept connections on {server_folder} in "
                                   f"{timeout:g} s (see {log_path}).")
            time.sleep(0.05)
        created = subprocess.run([str(binaries / "createdb"), *client, "digitlab"], capture_output=True, text=True)
        if created.returncode != 0:
            raise RuntimeError(f"createdb digitlab failed: {created.stderr.strip()}")
        yield f"postgresql+psycopg://postgres@/digitlab?host={urllib.parse.quote(str(server_folder))}&port={port}"
    finally:
        if process is not None:
            process.send_signal(signal.SIGINT)  # fast shutdown: roll back and disconnect clients, not wait
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if own_folder is not None:
            shutil.rmtree(own_folder, ignore_errors=True)


# The Streamlit servers lab_stack runs, by URL, so restart_app can kill one and start it again.
_APPS: dict[str, tuple[subprocess.Popen, dict, str]] = {}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_app(port: int, env: dict, app: str = "server.py") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", app, "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


@contextlib.contextmanager
def lab_stack(env: dict | None = None, workers: int = 1, timeout: float = 90.0, redis_url: str | None = None,
              apps: int = 1, app: str = "server.py"):
    """Run the lab as scripts/run_app.sh does, on free resources: a private redis-server on
    a Unix socket in a temporary folder (or the one at ``redis_url``), ``workers`` training
    workers and `streamlit run server.py` (or the script ``app``) on a free port, with a
    temporary runs store.
    Yields the URL once /_stcore/health is ok; stops all of them after. With ``apps`` > 1,
    that many Streamlit servers share the Redis and the runs store, as compose.yaml's
    replicas do, and it yields the list of their URLs.

    Raises:
        RuntimeError: if a server is not healthy within ``timeout`` seconds.
    """
    with (tempfile.TemporaryDirectory(prefix="digitlab-") as tmp,
          contextlib.nullcontext(redis_url) if redis_url else redis_server(Path(tmp)) as redis_url):
        # Checkpoints in the temporary folder too: a job id is its settings' hash, so a
        # checkpoint left in var/ by an earlier run would be taken for this job's.
        env = {**os.environ, "DIGITLAB_RUNS": str(Path(tmp) / "runs"), "DIGITLAB_REDIS_URL": redis_url,
               "DIGITLAB_CHECKPOINTS": str(Path(tmp) / "checkpoints"), "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
        processes, urls = [], []
        try:
            processes += [subprocess.Popen([sys.executable, "-m", "core", "worker"], cwd=ROOT, env=env,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                          for _ in range(workers)]
            for _ in range(apps):
                port = free_port()
                urls.append(f"http://127.0.0.1:{port}")
                _APPS[urls[-1]] = (_start_app(port, env, app), env, app)
            for url in urls:
                wait_healthy(url, timeout)
            yield urls[0] if apps == 1 else urls
        finally:
            # A restarted server is in _APPS, not in processes: stop what runs now.
            processes += [_APPS.pop(url)[0] for url in urls if url in _APPS]
            for process in reversed(processes):
                process.terminate()
            for process in reversed(processes):
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()


def restart_app(url: str, timeout: float = 90.0) -> None:
    """Kill (SIGKILL) the Streamlit server ``lab_stack`` runs at ``url`` and start it again
    on the same port with the same environment, as a supervisor would after a crash;
    return once it is healthy.

    Raises:
        RuntimeError: if it is not healthy within ``timeout`` seconds.
    """
    process, env, app = _APPS[url]
    process.kill()
    process.wait(10)
    _APPS[url] = (_start_app(int(url.rsplit(":", 1)[1]), env, app), env, app)
    wait_healthy(url, timeout)


class SupervisedLab:
    """The lab exactly as README says to run it: ``scripts/run_app.sh`` (supervisord with a
    private Redis, ``workers`` training workers and Streamlit), on a free port, with its runs
    store and its var/ folder (the queue's data, checkpoints, supervisord's socket) in
    ``folder``. ``start`` and ``stop`` may be called again on the same folder, as an
    operator would rerun the script. Used by the fault-injection tests and
    benchmarks/faults.py.
    """

    def __init__(self, folder: Path, workers: int = 1, env: dict | None = None):
        self.folder = Path(folder)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.var = self.folder / "var"
        self.runs = self.folder / "runs"
        self.redis_url = f"unix://{self.var}/redis/redis.sock"
        self.env = {**os.environ, "DIGITLAB_SKIP_SETUP": "1", "DIGITLAB_WORKERS": str(workers),
                    "DIGITLAB_RUNS": str(self.runs), "DIGITLAB_VAR": str(self.var), "PORT": str(self.port),
                    "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
        for name in ("DIGITLAB_REDIS_URL", "DIGITLAB_REDIS_DIR", "DIGITLAB_CHECKPOINTS"):
            self.env.pop(name, None)  # the script's own defaults, in folder
        self.process: subprocess.Popen | None = None
        self.log = self.folder / "lab.log"

    def start(self, timeout: float = 90.0) -> None:
        """Run scripts/run_app.sh; return once Streamlit answers /_stcore/health.

        Raises:
            RuntimeError: if it is not healthy within ``timeout`` seconds.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(["bash", "scripts/run_app.sh"], cwd=ROOT, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT)
        wait_healthy(self.url, timeout)

    def pid(self, program: str) -> int | None:
        """The pid of a supervised program ("redis", "web", "worker:worker-0"), or None
        when it is not running."""
        out = subprocess.run([str(ROOT / ".venv/bin/supervisorctl"), "-c", "scripts/supervisord.conf", "pid",
                              program], cwd=ROOT, env=self.env, capture_output=True, text=True).stdout.strip()
        return int(out) if out.isdigit() and int(out) > 0 else None

    def stop(self, sig: int = 2, timeout: float = 60.0) -> float:
        """Send ``sig`` (default SIGINT, as Ctrl-C does) to supervisord and wait for the whole
        lab to end; returns the seconds it took.

        Raises:
            subprocess.TimeoutExpired: if it does not end within ``timeout`` seconds.
        """
        start = time.perf_counter()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout)
        return time.perf_counter() - start

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        try:
            self.stop()
        except subprocess.TimeoutExpired:
            self.process.kill()


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
