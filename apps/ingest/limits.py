"""Per-project rate limit (token bucket) and monthly quota, checked before a batch is parsed.

Both are per process: the rate limit is exact per process (production runs N web processes,
so the effective limit is N × the setting); the quota reads the month's count from the rollups
every few seconds and adds what this process accepted since.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from apps.core.errors import ApplicationError
from apps.ingest.selectors import IngestConfig, events_this_month

QUOTA_REFRESH_S = 5.0


class RateLimited(ApplicationError):
    def __init__(self, message: str, retry_after: int):
        super().__init__(message, code="rate_limited", status=429)
        self.retry_after = retry_after


@dataclass
class _Bucket:
    tokens: float
    updated: float


_buckets: dict[int, _Bucket] = {}
_quota: dict[int, tuple[float, int]] = {}  # project → (read at, count then)
_accepted_since: dict[int, int] = {}
_lock = threading.Lock()


def check_rate(config: IngestConfig, events: int) -> None:
    rate = config.rate_limit_events_per_s
    if rate <= 0:
        return
    burst = rate * 2.0
    now = time.monotonic()
    with _lock:
        bucket = _buckets.get(config.project_id) or _Bucket(burst, now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        _buckets[config.project_id] = bucket
        if events <= bucket.tokens:
            bucket.tokens -= events
            return
        wait = max(1, math.ceil((events - bucket.tokens) / rate))
    raise RateLimited(
        f"Rate limit of {rate:,} events/s for {config.quota_source} exceeded; retry after {wait} s",
        retry_after=wait,
    )


def _seconds_to_next_month() -> int:
    now = datetime.now(UTC)
    first = datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, tzinfo=UTC)
    return max(60, int((first - now).total_seconds()))


def check_quota(config: IngestConfig, events: int) -> None:
    quota = config.monthly_event_quota
    if quota <= 0:
        return
    now = time.monotonic()
    with _lock:
        read = _quota.get(config.project_id)
    if read is None or now - read[0] > QUOTA_REFRESH_S:
        count = events_this_month(project_id=config.project_id)
        with _lock:
            _quota[config.project_id] = read = (now, count)
            _accepted_since[config.project_id] = 0
    with _lock:
        used = read[1] + _accepted_since.get(config.project_id, 0)
    if used + events > quota:
        raise RateLimited(
            f"Monthly quota of {quota:,} events for {config.quota_source} reached ({used:,} used); "
            "raise the quota or upgrade the plan. Events are not stored until then.",
            retry_after=_seconds_to_next_month(),
        )


def record_accepted(project_id: int, events: int) -> None:
    with _lock:
        _accepted_since[project_id] = _accepted_since.get(project_id, 0) + events


def reset() -> None:
    """Forget all counters (tests)."""
    with _lock:
        _buckets.clear()
        _quota.clear()
        _accepted_since.clear()
