"""Does a training worker slow the web server? The Draw page's per-stroke work, timed while
the queue's worker trains, at the worker's default priority (nice 19) and at nice 0.

    .venv/bin/python benchmarks/priority.py [--strokes 150] [--json benchmarks/priority.json]

This process stands in for the Streamlit server: it is started, like the worker, from one
shell session (as scripts/run_app.sh starts both), so Linux autogroup puts both in the
same scheduling group and ``nice`` decides who gets the CPU. It times what the Draw page
computes per stroke (``core.bench.draw_stroke``) with no training, then while one worker
trains a dense 500-300 net at each priority. Nothing else should run meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from core import bench
from core.store import cache
from core.queue import jobs  # noqa: E402
from core.config import default_config  # noqa: E402
from core.data.mnist import load_mnist  # noqa: E402
from core.machine import cpu_model, machine  # noqa: E402
from core.targets import TARGETS  # noqa: E402
from scripts.harness import redis_server  # noqa: E402

def time_strokes(classifiers, images) -> tuple[float, float]:
    """(median, p95) ms of the Draw page's work per stroke over ``images``."""
    return bench.timings_ms(lambda image: bench.draw_stroke(image, classifiers), images)


def while_training(nice: int, classifiers, images, index: int) -> tuple[float, float, int]:
    """Start a worker at ``nice``, queue a 200-epoch dense 500-300 training (long enough to
    outlast the timing; a new seed each time, so a new job), wait for its
    first epoch, time the strokes, then cancel it and stop the worker. Returns (median ms,
    p95 ms, epochs the training finished meanwhile)."""
    worker = subprocess.Popen([sys.executable, "-m", "core", "worker", "--nice", str(nice)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    config = default_config("dense_500_300", epochs=200, seed=100 + index)
    jid = jobs.submit(config, owner="priority").id
    try:
        jobs.wait(jid, timeout=300, until=("running",))
        deadline = time.time() + 300
        while jobs.status(jid)["epoch"] < 1 and time.time() < deadline:
            time.sleep(0.5)
        before = jobs.status(jid)["epoch"]
        median, p95 = time_strokes(classifiers, images)
        epochs = jobs.status(jid)["epoch"] - before
    finally:
        jobs.cancel(jid, owner="priority")
        jobs.wait(jid, timeout=60)
        worker.terminate()
        worker.wait(30)
    return median, p95, epochs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=150, help="strokes timed per condition")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "priority.json"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="digitlab-priority-") as tmp, redis_server(Path(tmp)) as url:
        os.environ.update(DIGITLAB_REDIS_URL=url, DIGITLAB_RUNS=str(Path(tmp) / "runs"))
        x_test = load_mnist().splits()[2][0]
        images = bench.canvas_images(x_test[: args.strokes])
        classifiers = (cache.load(default_config("cnn")).model, cache.load(default_config("dense_64_64")).model)
        rows = [("no training", *time_strokes(classifiers, images), None)]
        for index, nice in enumerate((19, 0)):
            rows.append((f"worker training, nice {nice}", *while_training(nice, classifiers, images, index)))

    load = os.getloadavg()
    print(f"Draw page's work per stroke ({args.strokes} strokes), {time.strftime('%Y-%m-%d')}, "
          f"{cpu_model()}, {os.cpu_count()} cores; load average before: {load[0]:.2f}\n")
    print("| condition | median ms | p95 ms | training epochs meanwhile |")
    print("| --- | ---: | ---: | ---: |")
    for what, median, p95, epochs in rows:
        print(f"| {what} | {median:.1f} | {p95:.1f} | {'' if epochs is None else epochs} |")
    print(f"\ntarget: p95 <= {TARGETS['draw_ms'].value:g} ms (core.targets 'draw_ms')")
    Path(args.json).write_text(json.dumps({
        "date": time.strftime("%Y-%m-%d"), "machine": machine(), "strokes": args.strokes,
        "rows": [{"condition": w, "median_ms": m, "p95_ms": p, "epochs": e} for w, m, p, e in rows]},
        indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
