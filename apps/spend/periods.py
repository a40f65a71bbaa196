"""Budget periods in UTC: a day, a week from Monday, a calendar month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def period_bounds(period: str, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the period containing `now` (UTC)."""
    now = now.astimezone(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day, day + timedelta(days=1)
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    if period == "month":
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        return start, end
    raise ValueError(f"unknown period {period!r}")


def forecast_runout(
    *, spent: float, limit: float, start: datetime, end: datetime, now: datetime
) -> datetime | None:
    """When spend reaches the limit at this period's pace so far (None: not before the period ends).

    The pace is the period's spend over the time elapsed (at least an hour, so a period's first
    minutes do not extrapolate a single call). Already past the limit: `now`.
    """
    if spent >= limit:
        return now
    elapsed = max((now - start).total_seconds(), 3600.0)
    pace = spent / elapsed
    if pace <= 0:
        return None
    when = now + timedelta(seconds=(limit - spent) / pace)
    return when if when < end else None
