"""Waiting, with a time bound, for something real processes do (a job to finish, a
process to come back)."""

import time

import pytest


def wait_for(predicate, timeout: float, what: str) -> None:
    """Poll ``predicate()`` every 0.2 s until it is true; fail the test, naming ``what``,
    if ``timeout`` seconds pass first."""
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)
