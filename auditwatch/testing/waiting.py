"""`wait_until`: the one way tests wait for something to happen (no fixed sleeps, no hand-written
deadline loops). A sleep left in a test lets time pass on purpose and says why."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(
    check: Callable[[], object], timeout: float = 60.0, *, interval: float = 0.25, what: str = "condition"
) -> None:
    """Call `check` every `interval` seconds until it returns something true; after `timeout`
    seconds fail the test (AssertionError naming `what`)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} not reached within {timeout:g} s")
        time.sleep(interval)
