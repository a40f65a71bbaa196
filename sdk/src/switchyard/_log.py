"""Rate-limited logging: a wrong key or an unreachable host is said once, not per event."""

from __future__ import annotations

import logging
import threading
import time

logger = logging.getLogger("switchyard")

_lock = threading.Lock()
_last: dict[str, float] = {}
_INTERVAL_S = 300.0


def log_once(key: str, message: str, *args: object, level: int = logging.WARNING) -> bool:
    """Log ``message`` unless the same ``key`` was logged in the last five minutes.

    Returns whether it was logged.
    """
    now = time.monotonic()
    with _lock:
        last = _last.get(key)
        if last is not None and now - last < _INTERVAL_S:
            return False
        _last[key] = now
    logger.log(level, message, *args)
    return True


def reset_log_once() -> None:
    """Forget what was logged (tests use it to observe a second occurrence)."""
    with _lock:
        _last.clear()
