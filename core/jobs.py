"""Background training jobs: a ``python -m core`` subprocess that writes its progress to a
JSON file, which the app polls. The job outlives the page's script run, so leaving or
rerunning the page does not stop it, and the server stays free for other users.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from core.cache import cache_dir
from core.data import ROOT


def jobs_dir() -> Path:
    path = cache_dir() / ".jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


class ProgressFile:
    """Writes a job's state as JSON, atomically, so a reader never sees half a file.

    The state: {"status": "running"|"done"|"failed", "epoch", "epochs", "run", "runs",
    "history": {metric: [...]}, "message", "pid", "updated"}.
    """

    def __init__(self, path: str | os.PathLike, pid: int | None = None, message: str = ""):
        self.path = Path(path)
        self.state = {"status": "running", "epoch": 0, "epochs": 0, "run": 0, "runs": 1,
                      "history": {}, "message": message, "pid": pid or os.getpid()}
        self.write()

    def write(self, **changes) -> None:
        self.state.update(changes, updated=time.time())
        tmp = self.path.with_suffix(f".{os.getpid()}.part")
        tmp.write_text(json.dumps(self.state))
        os.replace(tmp, self.path)

    def on_epoch(self, epoch: int, epochs: int, logs: dict) -> None:
        """A ``train(on_epoch=...)`` callback: appends the epoch's logs to the history."""
        history = self.state["history"] if epoch > 1 else {}
        for name, value in logs.items():
            history.setdefault(name, []).append(value)
        self.write(epoch=epoch, epochs=epochs, history=history)


def start(job_id: str, args: list[str]) -> Path:
    """Start ``python -m core <args> --progress <file>`` unless job ``job_id`` is running.

    Returns the progress file's path. The process is started in its own session so it
    survives the Streamlit script run (and the browser tab) that started it. Creating the
    progress file exclusively makes two simultaneous starts of one job start one process.
    """
    path = jobs_dir() / f"{job_id}.json"
    if status(job_id).get("status") == "running":
        return path
    path.unlink(missing_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return path  # another session started it a moment ago
    with open(jobs_dir() / f"{job_id}.log", "w") as log:
        # Niced, so the server's own work (other users' pages) comes first on the CPU.
        process = subprocess.Popen([sys.executable, "-m", "core", *args, "--progress", str(path)],
                                   cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
                                   preexec_fn=lambda: os.nice(10))
    # Until the child writes its own state, a poll sees this one, with the child's pid.
    ProgressFile(path, pid=process.pid, message="starting")
    return path


def _alive(pid) -> bool:
    if not pid:
        return True  # just started, the child has not written its pid yet
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of this process still answers kill(0): reap it.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def status(job_id: str) -> dict:
    """The job's last state; {} when there is none. A "running" job whose process has
    died is reported "failed" with the end of its log as the message."""
    path = jobs_dir() / f"{job_id}.json"
    if not path.exists():
        return {}
    try:
        state = json.loads(path.read_text())
    except json.JSONDecodeError:
        # Only the empty file of a start in progress can be unreadable (writes are atomic).
        return {"status": "running", "epoch": 0, "epochs": 0, "history": {}, "pid": None}
    if state.get("status") == "running" and not _alive(state.get("pid")):
        log = jobs_dir() / f"{job_id}.log"
        tail = log.read_text()[-800:] if log.exists() else ""
        state.update(status="failed", message=f"the training process stopped: {tail}")
    return state
