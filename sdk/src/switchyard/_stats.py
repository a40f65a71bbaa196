"""Delivery counters, and the :class:`Stats` snapshot the app can read."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Stats:
    """What happened to telemetry so far (``switchyard.stats()``).

    Example::

        s = switchyard.stats()
        if s.dropped:
            log.warning("switchyard dropped %d events: %s", s.dropped, dict(s.dropped_by_reason))
    """

    queued: int = 0
    sent: int = 0
    duplicates: int = 0
    dropped: int = 0
    dropped_by_reason: Mapping[str, int] = field(default_factory=dict)
    retries: int = 0
    spooled_events: int = 0
    payloads_removed: int = 0
    config_version: int | None = None
    config_errors: int = 0
    budget_blocked: int = 0  # calls refused with BudgetExceededError (a budget's action: block)
    budget_downgraded: int = 0  # calls sent to a budget's cheaper model (action: downgrade)


class Counters:
    """Thread-safe counters; the lock is held for an increment, never during I/O."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent = 0
        self.duplicates = 0
        self.retries = 0
        self.payloads_removed = 0
        self.config_errors = 0
        self.budget_blocked = 0
        self.budget_downgraded = 0
        self.dropped: dict[str, int] = {}

    def reinit_after_fork(self) -> None:
        self._lock = threading.Lock()

    def drop(self, reason: str, n: int = 1) -> None:
        if n <= 0:
            return
        with self._lock:
            self.dropped[reason] = self.dropped.get(reason, 0) + n

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def snapshot(self, *, queued: int, spooled_events: int, config_version: int | None) -> Stats:
        with self._lock:
            dropped = dict(self.dropped)
            return Stats(
                queued=queued,
                sent=self.sent,
                duplicates=self.duplicates,
                dropped=sum(dropped.values()),
                dropped_by_reason=dropped,
                retries=self.retries,
                spooled_events=spooled_events,
                payloads_removed=self.payloads_removed,
                config_version=config_version,
                config_errors=self.config_errors,
                budget_blocked=self.budget_blocked,
                budget_downgraded=self.budget_downgraded,
            )
