"""Parsing the dashboard's query parameters: ranges, time zones, explorer filters, cursors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from apps.core.errors import ApplicationError
from apps.dashboard.filters import Cursor, parse_call_filters, parse_range

NOW = datetime(2026, 3, 10, 14, 37, 12, tzinfo=UTC)


def test_presets_end_on_the_next_minute_and_pick_the_rollup() -> None:
    day = parse_range({"range": "24h"}, now=NOW)
    assert day.end == datetime(2026, 3, 10, 14, 38, tzinfo=UTC)
    assert day.span == timedelta(hours=24) and day.table == "llm_calls_1m" and day.grain.key == "1h"
    week = parse_range({"range": "7d"}, now=NOW)
    assert week.table == "llm_calls_1h" and week.grain.key == "3h"
    month = parse_range({}, now=NOW, tz_default="Europe/Paris")
    assert month.preset == "7d" and month.tz.key == "Europe/Paris"
    assert parse_range({"range": "30d"}, now=NOW).grain.key == "1d"


def test_hour_rollup_ranges_start_on_the_hour() -> None:
    params = parse_range({"range": "7d"}, now=NOW).params()
    assert params["start"] == datetime(2026, 3, 3, 14, 0)
    assert params["end"] - params["start"] == params["start"] - params["prev_start"]


def test_custom_range_in_a_time_zone() -> None:
    rng = parse_range(
        {"range": "custom", "from": "2026-03-01", "to": "2026-03-02", "tz": "Asia/Kolkata"}, now=NOW
    )
    assert rng.start == datetime(2026, 2, 28, 18, 30, tzinfo=UTC)  # midnight in India
    assert rng.end == datetime(2026, 3, 2, 18, 30, tzinfo=UTC)  # through the end of the 2nd
    assert rng.query() == {
        "range": "custom",
        "tz": "Asia/Kolkata",
        "from": "2026-03-01T00:00",
        "to": "2026-03-03T00:00",
    }
    short = parse_range({"from": "2026-03-10T09:00", "to": "2026-03-10T10:30"}, now=NOW)
    assert short.preset == "custom" and short.grain.key == "5m" and short.table == "llm_calls_1m"


def test_the_minute_rollup_is_not_used_beyond_its_retention() -> None:
    old = parse_range({"from": "2026-01-01T00:00", "to": "2026-01-01T12:00"}, now=NOW)
    assert old.table == "llm_calls_1h"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"range": "3w"}, "Unknown range '3w'"),
        ({"range": "custom"}, "needs a 'from' date"),
        ({"from": "yesterday"}, "Could not read 'from' ('yesterday')"),
        ({"from": "2026-03-05", "to": "2026-03-01"}, "the range is reversed"),
        ({"from": "2026-03-05T10:00", "to": "2026-03-05T10:00"}, "the range is reversed or empty"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "at most 400 days"),
        ({"from": "2027-01-01"}, "starts in the future"),
        ({"tz": "Mars/Olympus"}, "Unknown time zone 'Mars/Olympus'"),
    ],
)
def test_bad_ranges_say_what_to_change(params: dict[str, str], message: str) -> None:
    with pytest.raises(ApplicationError) as error:
        parse_range(params, now=NOW)
    assert message in error.value.message


def test_a_bad_time_zone_cookie_falls_back_to_utc() -> None:
    assert parse_range({}, now=NOW, tz_default="Not/AZone").tz.key == "UTC"


def test_call_filters() -> None:
    filters = parse_call_filters(
        {"endpoint": "faq", "model": "gpt-4o", "status": "error", "tag": "tier:pro", "user": "u1",
         "conversation": "c1", "min_cost": "0.001", "max_cost": "$2"},
        now=NOW, endpoints=["faq"], models=["gpt-4o"],
    )  # fmt: skip
    assert (filters.min_cost_nano, filters.max_cost_nano) == (1_000_000, 2_000_000_000)
    assert filters.query()["min_cost"] == "0.001" and filters.query()["user"] == "u1"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"endpoint": "nope"}, "no calls from an endpoint named 'nope'"),
        ({"model": "gpt-9"}, "no calls to a model named 'gpt-9'"),
        ({"status": "weird"}, "Status must be one of ok, error, timeout, filtered"),
        ({"min_cost": "cheap"}, "'min_cost' must be an amount in USD"),
        ({"min_cost": "-1"}, "between 0 and 1,000,000 USD"),
        ({"min_cost": "NaN"}, "between 0 and 1,000,000 USD"),
        ({"min_cost": "2", "max_cost": "1"}, "The cost range is reversed"),
        ({"user": "x" * 300}, "longer than 256 characters"),
        ({"after": "not-a-cursor"}, "page link is invalid"),
    ],
)
def test_bad_call_filters(params: dict[str, str], message: str) -> None:
    with pytest.raises(ApplicationError) as error:
        parse_call_filters(params, now=NOW, endpoints=["faq"], models=["gpt-4o"])
    assert message in error.value.message


def test_cursor_round_trip() -> None:
    cursor = Cursor(1773153432123, uuid.uuid4())
    assert Cursor.decode(cursor.encode()) == cursor
