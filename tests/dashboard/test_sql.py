"""The SQL the dashboard assembles (allow-listed table, bucket and filter clauses), pinned by
snapshots. Set UPDATE_SNAPSHOTS=1 to rewrite them after an intended change."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apps.dashboard.calls import calls_sql
from apps.dashboard.filters import parse_call_filters, parse_range
from apps.dashboard.selectors import rollup_sql

SNAPSHOTS = Path(__file__).parent / "snapshots"
NOW = datetime(2026, 3, 10, 14, 37, tzinfo=UTC)


def check(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.sql"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.write_text(text)
    assert path.exists(), f"missing snapshot {path}; run with UPDATE_SNAPSHOTS=1"
    assert text == path.read_text()
    assert "__" not in text, "a placeholder was left in the SQL"


@pytest.mark.parametrize("preset", ["24h", "30d"])
def test_series_sql(preset: str) -> None:
    check(f"series_{preset}", rollup_sql("series", parse_range({"range": preset}, now=NOW)))


def test_calls_sql_with_every_filter() -> None:
    filters = parse_call_filters(
        {"endpoint": "e", "model": "m", "status": "ok", "tag": "t", "user": "u", "conversation": "c",
         "min_cost": "0.1", "max_cost": "1"},
        now=NOW, endpoints=["e"], models=["m"],
    )  # fmt: skip
    sql, params = calls_sql(filters)
    check("calls_all_filters", sql)
    assert params == {
        "endpoint": "e", "model": "m", "status": "ok", "tag": "t", "user_id": "u", "conversation_id": "c",
        "min_cost": 100_000_000, "max_cost": 1_000_000_000,
    }  # fmt: skip


def test_calls_sql_without_filters_binds_nothing_extra() -> None:
    sql, params = calls_sql(parse_call_filters({}, now=NOW, endpoints=[], models=[]))
    assert params == {} and "endpoint =" not in sql
