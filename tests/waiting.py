"""Polling until something a background process does becomes visible."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(what: str, predicate: Callable[[], bool], seconds: float = 30.0) -> None:
    """Return once `predicate()` holds; fail naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)
