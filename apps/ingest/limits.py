"""Per-project rate limit (token bucket) and monthly quotas, checked before a batch is parsed.

Two monthly quotas: the project's own (if set) and the organisation's plan limit, counted across
all of its projects (apps.billing). Both are per process: the rate limit is exact per process
(production runs N web processes, so the effective limit is N × the setting); a quota reads the
month's count from the rollups every few seconds and adds what this process accepted since.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from apps.billing.selectors import organization_events_this_month
from apps.core.errors import ApplicationError
from apps.core.token_bucket import TokenBuckets
from apps.ingest.selectors import IngestRules, events_this_month

QUOTA_REFRESH_S = 5.0
# Over the plan's limit an upgrade lifts it at once, so clients are told to retry within the hour.
PLAN_RETRY_AFTER_S = 3600


class RateLimited(ApplicationError):
    def __init__(self, message: str, retry_after: int):
        super().__init__(message, code="rate_limited", status=429)
        self.retry_after = retry_after


_buckets = TokenBuckets()
_quota: dict[tuple[str, int], tuple[float, int]] = {}  # (project|org, id) → (read at, count then)
_accepted_since: dict[tuple[str, int], int] = {}
_lock = threading.Lock()


def check_rate(config: IngestRules, events: int) -> None:
    rate = config.rate_limit_events_per_s
    if rate <= 0:
        return
    wait = _buckets.take(config.project_id, events, rate=rate)
    if wait:
        raise RateLimited(
            f"Rate limit of {rate:,} events/s for {config.quota_source} exceeded; retry after {wait} s",
            retry_after=wait,
        )


def _seconds_to_next_month() -> int:
    now = datetime.now(UTC)
    first = datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, tzinfo=UTC)
    return max(60, int((first - now).total_seconds()))


def _used(key: tuple[str, int], read_count: Callable[[], int]) -> int:
    now = time.monotonic()
    with _lock:
        read = _quota.get(key)
    if read is None or now - read[0] > QUOTA_REFRESH_S:
        count = read_count()
        with _lock:
            _quota[key] = read = (now, count)
            _accepted_since[key] = 0
    with _lock:
        return read[1] + _accepted_since.get(key, 0)


def check_quota(config: IngestRules, events: int) -> None:
    quota = config.monthly_event_quota
    if quota > 0:
        used = _used(("project", config.project_id), lambda: events_this_month(project_id=config.project_id))
        if used + events > quota:
            raise RateLimited(
                f"Monthly quota of {quota:,} events for {config.quota_source} reached ({used:,} used); "
                "raise the quota or upgrade the plan. Events are not stored until then.",
                retry_after=_seconds_to_next_month(),
            )
    limit = config.plan_event_limit
    if limit > 0:
        org_id = config.organization_id
        used = _used(("org", org_id), lambda: organization_events_this_month(organization_id=org_id))
        if used + events > limit:
            raise RateLimited(
                f"Monthly quota of {limit:,} events on the {config.plan_name} plan reached ({used:,} used "
                "across the organisation's projects); upgrade the plan under Billing. Events are not "
                "stored until then; SDKs keep them and retry.",
                retry_after=min(_seconds_to_next_month(), PLAN_RETRY_AFTER_S),
            )


def record_accepted(project_id: int, events: int, organization_id: int | None = None) -> None:
    keys = [("project", project_id)] + ([("org", organization_id)] if organization_id is not None else [])
    with _lock:
        for key in keys:
            _accepted_since[key] = _accepted_since.get(key, 0) + events


def reset() -> None:
    """Forget all counters (tests)."""
    with _lock:
        _buckets.clear()
        _quota.clear()
        _accepted_since.clear()
