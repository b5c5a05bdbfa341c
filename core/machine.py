"""The machine a number was measured on, in one place: the benchmarks print it, every
artifact records it (``core.training.run.machine`` adds the GPUs and library versions).
Light: no TensorFlow, so a benchmark's driver can describe its machine cheaply."""

from __future__ import annotations

import os
import platform


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, e.g. "AMD EPYC 7B13"; ``platform``'s
    guess where /proc is missing."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def machine() -> dict:
    """CPU model, core count, host name, operating system and Python version."""
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "host": platform.node(),
            "system": platform.platform(), "python": platform.python_version()}


def load_average() -> list[float]:
    """The load averages over 1, 5 and 15 minutes, rounded to 0.01: how busy the machine
    was when a timing was taken (a timing taken while other work runs is noise)."""
    return [round(x, 2) for x in os.getloadavg()]
