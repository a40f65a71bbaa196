"""Rollup reads against calls stored through the real ingest path (exact nano-USD sums)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from apps.dashboard import selectors as s
from apps.dashboard.distributions import bounded_since, distributions
from apps.dashboard.filters import parse_range
from tests.dashboard.data import CallSet, recompute
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db


def scope(tenant: Tenant, now: datetime, preset: str = "7d", **kw: Any) -> s.Scope:
    return s.Scope(tenant.project.pk, parse_range({"range": preset}, now=now), **kw)


def in_range(calls: CallSet, start: datetime, end: datetime) -> list[dict[str, Any]]:
    return [e for e in calls.events if start <= datetime.fromisoformat(e["ts"]) < end]


def test_totals_are_exact(tenant: Tenant, calls: CallSet) -> None:
    totals = s.totals(scope(tenant, calls.now)).current
    priced = [CallSet.cost(e) for e in calls.events if CallSet.cost(e) is not None]
    assert totals.calls == 36 and totals.errors == 2 and totals.unpriced_calls == 9
    assert totals.cost_nano_usd == sum(priced)  # type: ignore[arg-type]
    assert totals.input_tokens == sum(e["input_tokens"] for e in calls.events)
    assert totals.p50_ms is not None and totals.p50_ms <= totals.p95_ms <= totals.p99_ms  # type: ignore[operator]
    assert totals.cost_per_call_nano == totals.cost_nano_usd / 27


def test_last_24_hours_against_the_24_before(tenant: Tenant, calls: CallSet) -> None:
    sc = scope(tenant, calls.now, "24h")
    assert sc.range.table == "llm_calls_1m"
    totals = s.totals(sc)
    start, end = sc.range.start, sc.range.end
    assert totals.current.calls == len(in_range(calls, start, end))
    assert totals.previous.calls == len(in_range(calls, start - timedelta(hours=24), start))


def test_breakdown_by_endpoint_and_model(tenant: Tenant, calls: CallSet) -> None:
    sc = scope(tenant, calls.now)
    rows = s.breakdown(s.series(sc), "endpoint", buckets=s.bucket_starts(sc.range))
    assert [r.key for r in rows] == ["summarise", "support-reply", "tagger"]  # by spend; tagger is unpriced
    assert sum(r.share for r in rows) == pytest.approx(1.0)
    assert rows[1].calls == 18 and rows[2].unpriced_calls == 9 and rows[2].cost_per_call_nano is None
    assert all(r.trend is None for r in rows)  # nothing in the week before
    assert (
        len(rows[0].spark) == len(s.bucket_starts(sc.range)) and sum(rows[0].spark) == rows[0].cost_nano_usd
    )
    models = s.breakdown(s.series(sc), "model")
    assert {(m.key, m.provider) for m in models} == {
        ("claude-haiku-4-5", "anthropic"), ("gpt-4o-mini", "openai"), ("house-llm-7b", "vllm")
    }  # fmt: skip


def test_trend_compares_with_the_period_before(tenant: Tenant, calls: CallSet) -> None:
    sc = scope(tenant, calls.now, "24h", endpoint="support-reply")
    row = s.breakdown(s.series(sc), "endpoint")[0]
    start = sc.range.start
    now_cost = sum(
        CallSet.cost(e) or 0 for e in in_range(calls, start, sc.range.end) if e["endpoint"] == "support-reply"
    )
    before = sum(
        CallSet.cost(e) or 0
        for e in in_range(calls, start - timedelta(hours=24), start)
        if e["endpoint"] == "support-reply"
    )
    assert (row.cost_nano_usd, row.previous_cost_nano_usd) == (now_cost, before)
    assert row.trend == pytest.approx((now_cost - before) / before)


def test_totals_with_latency_and_dimensions(tenant: Tenant, calls: CallSet) -> None:
    sc = scope(tenant, calls.now, endpoint="summarise")
    both, latency = s.totals_and_latency(sc)
    alone = s.totals(sc)
    for period, expected in ((both.current, alone.current), (both.previous, alone.previous)):
        assert (period.calls, period.cost_nano_usd, period.latency_ms_sum) == (
            expected.calls, expected.cost_nano_usd, expected.latency_ms_sum
        )  # fmt: skip
        assert period.p95_ms == (
            None if expected.p95_ms is None else pytest.approx(expected.p95_ms, rel=0.05)
        )
    assert latency["calls"].sum() == 9 == both.current.calls and latency["p95"].notna().all()
    assert set(latency["t"]) <= set(s.bucket_starts(sc.range))
    dims = s.dimensions(project_id=tenant.project.pk)
    assert s.endpoint_names(dims) == ["summarise", "support-reply", "tagger"]
    assert s.model_names(dims) == ["claude-haiku-4-5", "gpt-4o-mini", "house-llm-7b"]


def test_month_forecast(tenant: Tenant, calls: CallSet) -> None:
    rng = parse_range({"range": "30d", "tz": "America/New_York"}, now=calls.now)
    forecast = s.month_forecast(project_id=tenant.project.pk, tz=rng.tz, now=calls.now)
    local_month = calls.now.astimezone(rng.tz).strftime("%Y-%m")
    this_month = [
        CallSet.cost(e) or 0
        for e in calls.events
        if datetime.fromisoformat(e["ts"]).astimezone(rng.tz).strftime("%Y-%m") == local_month
    ]
    assert forecast.month_to_date_nano == sum(this_month)
    assert forecast.projected_nano >= forecast.month_to_date_nano
    assert forecast.days_in_month >= forecast.days_elapsed >= 1
    assert sum(v for _, v in forecast.daily) == forecast.month_to_date_nano


def test_a_recomputed_cost_replaces_the_old_one(tenant: Tenant, calls: CallSet) -> None:
    sc = scope(tenant, calls.now)
    before = s.totals(sc).current
    event = calls.by(endpoint="support-reply")[0]
    recompute(tenant.project.pk, event["event_id"], 123)
    after = s.totals(sc).current
    assert after.calls == before.calls
    assert after.cost_nano_usd == before.cost_nano_usd - CallSet.cost(event) + 123  # type: ignore[operator]


def test_distributions_of_one_endpoint(tenant: Tenant, calls: CallSet) -> None:
    sc = scope(tenant, calls.now, endpoint="support-reply")
    per_bucket = s.current(s.series(sc)).groupby("t")["calls"].sum()
    dist = distributions(
        project_id=tenant.project.pk, rng=sc.range, endpoint="support-reply", calls_per_bucket=per_bucket
    )
    assert dist.calls == 18 and dist.captured == 18 and not dist.sampled_recent
    assert sum(b.calls for b in dist.input_tokens) == 18 == sum(b.calls for b in dist.cost)
    for b in dist.input_tokens:
        expected = [
            e
            for e in calls.by(endpoint="support-reply")
            if (b.low or 0) <= e["input_tokens"] < (b.high or 10**9)
        ]
        assert b.calls == len(expected)
    assert [(f.status, f.error_type, f.calls) for f in dist.failures] == [("error", "RateLimitError", 1)]
    event = calls.by(endpoint="support-reply")[0]
    recompute(tenant.project.pk, event["event_id"], 5)  # now below every other call's cost
    again = distributions(
        project_id=tenant.project.pk, rng=sc.range, endpoint="support-reply", calls_per_bucket=per_bucket
    )
    assert again.calls == 18 == sum(b.calls for b in again.cost)
    assert (again.cost[0].low, again.cost[0].high, again.cost[0].calls) == (None, 100, 1)


def test_the_scan_is_bounded_to_the_most_recent_calls(tenant: Tenant, calls: CallSet) -> None:
    rng = parse_range({"range": "24h"}, now=calls.now)  # hourly buckets
    last = s.bucket_starts(rng)[-1]
    per_bucket = pd.Series({last - 3600 * h: 10 for h in range(20)})
    since = bounded_since(rng, per_bucket, limit=25)  # two whole hours and half of the third
    third = datetime.fromtimestamp(last - 2 * 3600, since.tzinfo)
    assert since == third + timedelta(minutes=30)
    assert bounded_since(rng, per_bucket, limit=10**6) == rng.start


def test_forecast_projects_each_day_left_at_its_weekday_average(tenant: Tenant) -> None:
    import calendar
    import uuid
    from datetime import UTC
    from zoneinfo import ZoneInfo

    from apps.warehouse import client as warehouse

    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    cost = {d: 1_000_000 * (d + 1) for d in range(7)}  # Monday $0.001 … Sunday $0.007
    days = [now - timedelta(days=i) for i in range(1, 36)]
    rows = [
        [
            tenant.project.pk,
            "production",
            "e",
            day,
            uuid.uuid4(),
            "openai",
            "m",
            "ok",
            cost[day.weekday()],
            [],
            {},
            [],
        ]
        for day in days
    ]
    columns = ("project_id", "environment", "endpoint", "ts", "event_id", "provider", "model", "status",
               "cost_nano_usd", "tags", "metadata", "redactions")  # fmt: skip
    warehouse.system_insert("llm_calls", rows, columns, feature="test")
    forecast = s.month_forecast(project_id=tenant.project.pk, tz=ZoneInfo("UTC"), now=now)
    month_start = now.replace(day=1).date()
    mtd = sum(cost[d.weekday()] for d in days if d.date() >= month_start)
    left = [
        now.date() + timedelta(days=i)
        for i in range(calendar.monthrange(now.year, now.month)[1] - now.day + 1)
    ]
    assert forecast.month_to_date_nano == mtd and forecast.history_days == 28
    assert forecast.projected_nano == mtd + sum(cost[d.weekday()] for d in left)
    assert forecast.run_rate_nano == mtd + len(left) * round(sum(cost.values()) / 7)
    last_month_start = (now.replace(day=1) - timedelta(days=1)).replace(day=1).date()
    assert forecast.last_month_nano == sum(
        cost[d.weekday()] for d in days if last_month_start <= d.date() < month_start
    )


def test_whole_hours_from_the_hour_rollup_give_the_same_totals(tenant: Tenant, calls: CallSet) -> None:
    from apps.warehouse.client import ProjectScope

    sc = scope(tenant, calls.now, "24h")
    hybrid = s.totals(sc)  # totals_hybrid.sql: an unfiltered range from the minute rollup
    minute_only = ProjectScope(tenant.project.pk).query(
        s.rollup_sql("totals", sc.range), sc.params(), feature="test"
    )
    by_period = {bool(row["current"]): row for row in minute_only.dicts()}
    for period, row in ((hybrid.current, by_period[True]), (hybrid.previous, by_period[False])):
        assert (period.calls, period.cost_nano_usd, period.input_tokens, period.errors) == (
            row["calls"], row["cost_nano_usd"], row["input_tokens"], row["errors"]
        )  # fmt: skip
        assert period.p50_ms == pytest.approx(row["latency_ms"][0], rel=0.05)
