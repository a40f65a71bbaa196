"""The unit-economics rollups (ClickHouse migration 0008: llm_spend_key_days, _key_weeks, _key_names,
_key_endpoint_days, _kind_days) give the raw calls' figures exactly: on calls stored through ingest, after a
pricing recompute rewrites costs, after retried batches, after a backfill run again or over calls
stored before the rollups existed; and one project's keys never show in another's."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse

from apps.pricing.models import LlmModel
from apps.pricing.recompute import recompute_job_run, recompute_plan
from apps.pricing.selectors import price_book_invalidate
from apps.pricing.services import price_create
from apps.spend.selectors import economics as econ
from apps.warehouse import client as warehouse
from apps.warehouse import migrator
from apps.warehouse.client import ProjectScope
from tests.ingest.events import post_batch
from tests.spend.data import call, send
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db

KEY_COLUMN = {"user": "user_id", "customer": "customer_id"}
RAW_SQL = """
SELECT {key:Identifier} AS key, toInt64(sum(ifNull(cost_nano_usd, 0))) AS cost, count() AS calls,
       uniqExact(endpoint) AS endpoints
FROM llm_calls FINAL
WHERE project_id = {project_id:UInt64} AND key != '' AND ts >= {start:Date} AND ts < {end:Date}
GROUP BY key
"""
RAW_CONVERSATIONS = RAW_SQL.replace(
    "{key:Identifier} AS key", "if(conversation_id != '', conversation_id, metadata['otel.trace_id']) AS key"
)
RAW_DAILY = """
SELECT toDate(ts) AS day, toInt64(sum(ifNull(cost_nano_usd, 0))), count(), uniqExact({key:Identifier})
FROM llm_calls FINAL
WHERE project_id = {project_id:UInt64} AND {key:Identifier} != '' AND ts >= {start:Date} AND ts < {end:Date}
GROUP BY day ORDER BY day
"""


@pytest.fixture(autouse=True)
def _no_settle(settings: Any) -> None:
    settings.PRICING_RECOMPUTE_SETTLE_S = 0


def _traffic(now: datetime) -> list[dict[str, Any]]:
    """Users, customers and conversations over 25 days (raw calls are kept 30), several endpoints,
    a failure, a trace id for a conversation."""
    spec = [
        (0, 0.60, "ana", "acme", "c1", "chat", "ok"),
        (0, 0.30, "ana", "acme", "c1", "search", "ok"),
        (0, 0.15, "bo", "acme", "c2", "chat", "error"),
        (1, 0.45, "bo", "globex", "c3", "chat", "ok"),
        (3, 0.75, "cy", "globex", "", "search", "ok"),
        (10, 1.20, "ana", "initech", "c4", "summarise", "ok"),
        (10, 0.15, "dee", "", "c4", "summarise", "ok"),
        (25, 2.10, "ana", "acme", "c5", "chat", "ok"),
    ]
    events = [
        call(
            now - timedelta(days=d),
            usd=usd,
            user_id=u,
            customer_id=c,
            conversation_id=conv,
            endpoint=e,
            status=s,
        )
        for d, usd, u, c, conv, e, s in spec
    ]
    events.append(call(now - timedelta(days=3), usd=0.3, user_id="cy", metadata={"otel.trace_id": "trace-9"}))
    return events


def _raw(project_id: int, kind: str, rng: econ.DayRange) -> dict[str, tuple[int, int, int]]:
    sql = RAW_CONVERSATIONS if kind == "conversation" else RAW_SQL
    params = {"key": KEY_COLUMN.get(kind, ""), "start": rng.start, "end": rng.end}
    rows = ProjectScope(project_id).query(sql, params, feature="test").rows
    return {key: (int(cost), int(calls), int(endpoints)) for key, cost, calls, endpoints in rows}


def _nano(usd: float) -> int:
    return round(usd * 1e9)


def _assert_matches_raw(project_id: int, today: Any) -> None:
    """Every page figure from the rollups equals the same figure computed from llm_calls FINAL."""
    for preset in econ.RANGES:
        rng = econ.parse_day_range({"range": preset}, today=today)
        for kind in econ.KINDS:
            raw = _raw(project_id, kind, rng)
            summary, top = econ.key_totals(project_id=project_id, kind=kind, rng=rng)
            assert summary.keys == len(raw), (kind, preset)
            assert _nano(summary.cost_usd) == sum(c for c, _, _ in raw.values()), (kind, preset)
            assert summary.calls == sum(n for _, n, _ in raw.values()), (kind, preset)
            assert summary.multi_endpoint == sum(1 for *_, e in raw.values() if e > 1), (kind, preset)
            assert [r.key for r in top] == sorted(raw, key=lambda k: (-raw[k][0], k)), (kind, preset)
            assert {r.key: (_nano(r.cost_usd), r.calls) for r in top} == {k: v[:2] for k, v in raw.items()}
            for row in top:
                assert _nano(sum(row.daily)) == raw[row.key][0]
                assert {e for e, _ in row.endpoints} and len(row.endpoints) == raw[row.key][2]
            if kind in KEY_COLUMN:
                params = {"key": KEY_COLUMN[kind], "start": rng.start, "end": rng.end}
                expected = ProjectScope(project_id).query(RAW_DAILY, params, feature="test").rows
                got = econ.daily(project_id=project_id, kind=kind, rng=rng)
                assert [(d.day, _nano(d.cost_usd), d.calls, d.keys) for d in got] == [
                    (day, int(cost), int(calls), int(keys)) for day, cost, calls, keys in expected
                ], (kind, preset)


@pytest.mark.parametrize(
    ("today", "weeks"),
    [
        (date(2026, 12, 6), (date(2026, 11, 9), date(2026, 12, 7))),  # Sunday: 30 days end on a whole week
        (date(2026, 12, 9), (date(2026, 11, 16), date(2026, 12, 7))),  # Wednesday: days at both ends
        (date(2026, 12, 2), (date(2026, 11, 9), date(2026, 11, 30))),
    ],
)
def test_a_range_reads_its_whole_weeks_and_the_days_around_them(
    today: date, weeks: tuple[date, date]
) -> None:
    assert econ.parse_day_range({"range": "30d"}, today=today).weeks == weeks
    short = econ.parse_day_range({"range": "7d"}, today=today)
    assert short.weeks == (short.end, short.end) or short.weeks == (short.start, short.end)


def test_rollups_equal_the_raw_calls(tenant: Tenant, prices: Any, now: datetime) -> None:
    send(tenant, _traffic(now))
    for back in range(7):  # ranges ending on each day of the week: whole weeks and days at either end
        _assert_matches_raw(tenant.project.pk, now.date() - timedelta(days=back))
    rng = econ.parse_day_range({"range": "30d"}, today=now.date())
    summary, top = econ.key_totals(project_id=tenant.project.pk, kind="user", rng=rng)
    assert (summary.keys, round(summary.cost_usd, 2), summary.multi_endpoint) == (4, 6.0, 2)  # ana, cy
    ana = top[0]
    assert (ana.key, round(ana.cost_usd, 2), ana.calls, ana.endpoints[0]) == ("ana", 4.2, 4, ("chat", 2.7))
    bo = next(r for r in top if r.key == "bo")
    assert (bo.calls, bo.errors) == (2, 1)
    week = econ.parse_day_range({"range": "7d"}, today=now.date())
    ana = next(
        r for r in econ.top_keys(project_id=tenant.project.pk, kind="user", rng=week) if r.key == "ana"
    )
    assert (round(ana.cost_usd, 2), round(ana.previous_usd, 2)) == (0.9, 1.2)  # the call 10 days ago
    conversations, _ = econ.key_totals(project_id=tenant.project.pk, kind="conversation", rng=rng)
    assert conversations.keys == 6  # c1..c5 and the trace; c4 is two users' calls, counted once


def test_a_pricing_recompute_moves_costs_without_counting_calls_twice(
    tenant: Tenant, prices: dict[str, LlmModel], now: datetime
) -> None:
    send(tenant, _traffic(now))
    project = tenant.project.pk
    rng = econ.parse_day_range({"range": "90d"}, today=now.date())
    before, _ = econ.key_totals(project_id=project, kind="user", rng=rng)
    # gpt-4o-mini's input price doubles from 60 days ago: every call costs twice as much
    price_create(
        model=prices["gpt-4o-mini"], organization=None, actor=None, effective_from=now - timedelta(days=60),
        prices={"input": "0.30", "output": "1.20"}, per_exp=6,
    )  # fmt: skip
    price_book_invalidate()
    jobs = recompute_plan(
        organization_id=None,
        since=now - timedelta(days=60),
        model_ids=[prices["gpt-4o-mini"].pk],
        reason="test",
    )
    for job in [j for j in jobs if j.project_id == project]:
        recompute_job_run(job_id=job.pk, max_batches=None)
    revisions = ProjectScope(project).query(
        "SELECT max(revision) FROM llm_calls WHERE project_id = {project_id:UInt64}", feature="test"
    )
    assert revisions.scalar() == 1
    after, top = econ.key_totals(project_id=project, kind="user", rng=rng)
    assert (after.keys, after.calls) == (before.keys, before.calls)
    assert _nano(after.cost_usd) == 2 * _nano(before.cost_usd)
    assert {r.key: r.calls for r in top} == {"ana": 4, "bo": 2, "cy": 2, "dee": 1}
    _assert_matches_raw(project, now.date())


def test_a_retried_batch_is_counted_once(tenant: Tenant, prices: Any, now: datetime) -> None:
    events = _traffic(now)
    send(tenant, events)
    retried = post_batch(tenant.api("ingest"), events)
    assert retried.status_code == 200 and retried.json()["duplicates"] == len(events)
    _assert_matches_raw(tenant.project.pk, now.date())
    summary, _ = econ.key_totals(
        project_id=tenant.project.pk, kind="customer", rng=econ.parse_day_range({}, today=now.date())
    )
    assert summary.calls == 7  # acme 4, globex 2, initech 1 in the last 30 days


def _migration_0008() -> list[str]:
    """0008's statements as migrate_clickhouse runs them (each may run again)."""
    return [s.sql for s in next(m for m in migrator.discover() if m.name.startswith("0008_")).statements]


def _rollup_state(project_id: int) -> list[list[tuple[Any, ...]]]:
    queries = [
        """SELECT kind, day, key_hash, sum(calls), sum(sum_cost_nano_usd), min(endpoint_lo), max(endpoint_hi)
           FROM llm_spend_key_days WHERE project_id = {project_id:UInt64}
           GROUP BY kind, day, key_hash ORDER BY kind, day, key_hash""",
        """SELECT kind, key, day, endpoint, sum(calls), sum(errors), sum(sum_cost_nano_usd), sum(sum_tokens)
           FROM llm_spend_key_endpoint_days WHERE project_id = {project_id:UInt64}
           GROUP BY kind, key, day, endpoint ORDER BY kind, key, day, endpoint""",
        """SELECT kind, week, key_hash, sum(calls), sum(sum_cost_nano_usd), min(endpoint_lo), max(endpoint_hi)
           FROM llm_spend_key_weeks WHERE project_id = {project_id:UInt64}
           GROUP BY kind, week, key_hash ORDER BY kind, week, key_hash""",
        """SELECT kind, day, sum(calls), sum(sum_cost_nano_usd), uniqCombinedMerge(14)(keys)
           FROM llm_spend_kind_days WHERE project_id = {project_id:UInt64} GROUP BY kind, day ORDER BY kind, day""",
    ]
    return [ProjectScope(project_id).query(sql, feature="test").rows for sql in queries]


def test_the_backfill_adds_nothing_when_run_again_and_repairs_drift(
    tenant: Tenant, prices: Any, now: datetime
) -> None:
    send(tenant, _traffic(now))
    project = tenant.project.pk
    state = _rollup_state(project)
    backfills = [s for s in _migration_0008() if s.startswith("INSERT")]
    assert len(backfills) == 5
    for sql in backfills:
        warehouse.system_command(sql, feature="test")
    assert _rollup_state(project) == state
    # a stray row (as if a part had been written twice) is taken out again by the backfill
    warehouse.system_command(
        "INSERT INTO llm_spend_key_days SELECT project_id, kind, day, key_hash, 5, 1000, endpoint_lo, endpoint_hi"
        " FROM llm_spend_key_days WHERE project_id = {project:UInt64} LIMIT 1",
        {"project": project},
        feature="test",
    )
    assert _rollup_state(project) != state
    for sql in backfills:
        warehouse.system_command(sql, feature="test")
    assert _rollup_state(project) == state
    _assert_matches_raw(project, now.date())


def test_an_upgrade_backfills_calls_stored_before_the_rollups(
    tenant: Tenant, prices: Any, now: datetime
) -> None:
    """Calls stored while 0008's views did not exist are in the pages once the migration runs."""
    tables = ("llm_spend_key_days", "llm_spend_key_weeks", "llm_spend_key_names", "llm_spend_kind_days",
              "llm_spend_key_endpoint_days")  # fmt: skip
    try:
        for table in tables:
            warehouse.system_command(f"DROP VIEW IF EXISTS {table}_mv", feature="test")
        send(tenant, _traffic(now))
        rng = econ.parse_day_range({"range": "90d"}, today=now.date())
        assert econ.key_totals(project_id=tenant.project.pk, kind="user", rng=rng)[0].keys == 0
    finally:
        for sql in _migration_0008():
            warehouse.system_command(sql, feature="test")
    _assert_matches_raw(tenant.project.pk, now.date())
    send(tenant, [call(now, usd=0.5, user_id="eve", endpoint="chat")])  # the views work again
    top = econ.top_keys(
        project_id=tenant.project.pk, kind="user", rng=econ.parse_day_range({}, today=now.date())
    )
    assert "eve" in {r.key for r in top}


def test_another_projects_keys_never_show(
    tenant: Tenant, other_tenant: Tenant, prices: Any, now: datetime
) -> None:
    send(tenant, _traffic(now))
    send(other_tenant, [
        call(now, usd=9.0, user_id="ana", customer_id="acme", conversation_id="c1", endpoint="other-chat"),
        call(now, usd=4.0, user_id="intruder", customer_id="intruder-co", conversation_id="x9", endpoint="x"),
    ])  # fmt: skip
    _assert_matches_raw(tenant.project.pk, now.date())
    rng = econ.parse_day_range({}, today=now.date())
    for kind in econ.KINDS:
        _, top = econ.key_totals(project_id=tenant.project.pk, kind=kind, rng=rng)
        assert not {"intruder", "intruder-co", "x9"} & {r.key for r in top}
        assert all("other-chat" not in dict(r.endpoints) for r in top)
    ana = econ.key_detail(project_id=tenant.project.pk, kind="user", key="ana", rng=rng)
    assert ana is not None and round(ana.cost_usd, 2) == 4.2
    other, top = econ.key_totals(project_id=other_tenant.project.pk, kind="user", rng=rng)
    assert (other.keys, [r.key for r in top]) == (2, ["ana", "intruder"]) and round(top[0].cost_usd, 2) == 9.0
    web = tenant.web()
    page = web.get(reverse("spend:users", args=[tenant.project.pk])).content.decode()
    assert "intruder" not in page and "other-chat" not in page
    assert web.get(reverse("spend:users", args=[other_tenant.project.pk])).status_code == 404
    assert web.get(reverse("spend:user", args=[tenant.project.pk, "intruder"])).status_code == 404


def test_the_daily_actives_merge_across_parts(tenant: Tenant, prices: Any, now: datetime) -> None:
    """Two batches on the same day land in different parts; each day still counts a key once."""
    send(tenant, [call(now, usd=0.1, user_id=f"u{i}", endpoint="chat") for i in range(30)])
    send(tenant, [call(now, usd=0.1, user_id=f"u{i}", endpoint="search") for i in range(20, 40)])
    rng = econ.parse_day_range({"range": "7d"}, today=now.date())
    days = econ.daily(project_id=tenant.project.pk, kind="user", rng=rng)
    assert [(d.calls, d.keys) for d in days] == [(50, 40)]
    summary, top = econ.key_totals(project_id=tenant.project.pk, kind="user", rng=rng)
    assert (summary.keys, summary.multi_endpoint, len(top)) == (40, 10, 40)
    per_key = defaultdict(int)
    for r in top:
        per_key[r.calls] += 1
    assert dict(per_key) == {1: 30, 2: 10}
