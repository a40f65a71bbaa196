from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from apps.warehouse import client as warehouse
from apps.warehouse.client import ProjectScope, UnscopedQuery

COLUMNS = [
    "project_id",
    "environment",
    "endpoint",
    "ts",
    "event_id",
    "provider",
    "model",
    "status",
    "tags",
    "metadata",
    "redactions",
    "input_tokens",
    "cost_nano_usd",
    "latency_ms",
]


def _row(
    project_id: int, endpoint: str, *, tokens: int = 10, cost: int | None = 1000, latency: int = 100
) -> list:
    return [
        project_id,
        "production",
        endpoint,
        datetime.now(UTC),
        uuid.uuid4(),
        "openai",
        "gpt-4o-mini",
        "ok",
        [],
        {},
        [],
        tokens,
        cost,
        latency,
    ]


def test_scoped_query_requires_the_project_filter() -> None:
    scope = ProjectScope(7)
    with pytest.raises(UnscopedQuery):
        scope.query("SELECT count() FROM llm_calls", feature="test")
    with pytest.raises(UnscopedQuery):
        scope.query(
            "SELECT count() FROM llm_calls WHERE project_id = {project_id:UInt64}",
            {"project_id": 8},
            feature="t",
        )
    with pytest.raises(UnscopedQuery):
        ProjectScope(0)


def test_values_are_bound_server_side_not_formatted() -> None:
    hostile = "x' OR 1=1 --"
    warehouse.system_insert("llm_calls", [_row(101, hostile)], COLUMNS, feature="test")
    scope = ProjectScope(101)
    found = scope.query(
        "SELECT endpoint FROM llm_calls WHERE project_id = {project_id:UInt64} AND endpoint = {e:String}",
        {"e": hostile},
        feature="test",
    )
    assert found.rows == [(hostile,)]
    none = scope.query(
        "SELECT count() FROM llm_calls WHERE project_id = {project_id:UInt64} AND endpoint = {e:String}",
        {"e": "x"},
        feature="test",
    )
    assert none.scalar() == 0


def test_insert_without_project_column_is_refused() -> None:
    with pytest.raises(UnscopedQuery):
        warehouse.system_insert("llm_calls", [["a"]], ["endpoint"], feature="test")


def test_rollups_fill_from_inserts_and_stay_per_project() -> None:
    first, second = 10_000_000 + uuid.uuid4().int % 1_000_000, 20_000_000 + uuid.uuid4().int % 1_000_000
    rows = [
        _row(first, "a", tokens=5, cost=300, latency=50),
        _row(first, "a", tokens=7, cost=None, latency=150),
        _row(second, "a", tokens=100, cost=9, latency=10),
    ]
    warehouse.system_insert("llm_calls", rows, COLUMNS, feature="test")
    sql = """SELECT sum(calls), sum(sum_input_tokens), sum(sum_cost_nano_usd), sum(unpriced_calls),
                    quantilesTDigestMerge(0.5, 0.95, 0.99)(latency_quantiles)[1]
             FROM llm_calls_1h WHERE project_id = {project_id:UInt64}"""
    calls, tokens, cost, unpriced, _p50 = ProjectScope(first).query(sql, feature="test").rows[0]
    assert (calls, tokens, cost, unpriced) == (2, 12, 300, 1)
    assert ProjectScope(second).query(sql, feature="test").rows[0][:4] == (1, 100, 9, 0)


def test_identifiers_come_from_an_allow_list() -> None:
    assert warehouse.allowed_identifier("cost", ["cost", "calls"]) == "cost"
    with pytest.raises(Exception, match="is not one of"):
        warehouse.allowed_identifier("cost; DROP TABLE x", ["cost", "calls"])


def test_queries_are_tagged_with_their_feature() -> None:
    tag = ProjectScope(303).query(
        "SELECT getSetting('log_comment') WHERE {project_id:UInt64} > 0", feature="tag-check"
    )
    assert tag.scalar() == '{"feature":"tag-check","project_id":"303"}'
    timeout = ProjectScope(303).query(
        "SELECT getSetting('max_execution_time') WHERE {project_id:UInt64} > 0", feature="t"
    )
    assert float(timeout.scalar()) > 0


def test_unreachable_server_raises_warehouse_unavailable(settings) -> None:
    settings.CLICKHOUSE_URL = "http://default:@127.0.0.1:1/switchyard"
    warehouse.reset_clients()
    try:
        assert warehouse.ping() is False
        with pytest.raises(warehouse.WarehouseUnavailable):
            ProjectScope(1).query("SELECT {project_id:UInt64}", feature="test")
    finally:
        warehouse.reset_clients()
