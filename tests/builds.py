"""pip builds a local project in place (`build/` and the `*.egg-info` beside its sources), so two
builds of `.` or `sdk/` at once (two test workers, or two test runs in this tree) would share those
directories. Tests that build hold this lock while they do."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK = Path(__file__).resolve().parents[1] / "var" / "in-tree-build.lock"


@contextmanager
def in_tree_build() -> Iterator[None]:
    """One in-place build at a time in this tree; waits for the one under way."""
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
