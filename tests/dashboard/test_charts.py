"""Every figure the pages draw is valid Plotly (checked by plotly's own validators) and shows
the numbers the selectors computed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import plotly.graph_objects as go
import pytest

from apps.core.charts import Chart, sparkline_points
from apps.dashboard import charts
from apps.dashboard import selectors as s
from apps.dashboard.distributions import distributions
from apps.dashboard.filters import parse_range
from apps.dashboard.page_contexts import endpoint_page, model_page, models_index, overview
from apps.policies.charts import pareto
from tests.dashboard.data import CallSet
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db


def valid(figure: dict[str, Any] | None) -> go.Figure:
    assert figure is not None
    return go.Figure(figure)  # raises ValueError on any property plotly.js does not know


def all_charts(context: dict[str, Any]) -> list[Chart]:
    found = []
    for value in context.values():
        if isinstance(value, Chart):
            found.append(value)
        elif isinstance(value, list):
            found += [v for v in value if isinstance(v, Chart)]
    return found


def test_every_page_chart_is_a_valid_figure(tenant: Tenant, calls: CallSet) -> None:
    rng = parse_range({"range": "7d", "tz": "Europe/Paris"}, now=calls.now)
    contexts = [
        overview(tenant.project, rng),
        endpoint_page(tenant.project, rng, "support-reply"),
        models_index(tenant.project, rng),
        model_page(tenant.project, rng, "openai", "gpt-4o-mini"),
    ]
    drawn = [c for ctx in contexts for c in all_charts(ctx)]
    assert len(drawn) == 15
    for chart in drawn:
        assert chart.figure is not None, chart.id
        valid(chart.figure)


def test_stacked_spend_adds_up_to_the_total(tenant: Tenant, calls: CallSet) -> None:
    rng = parse_range({"range": "7d"}, now=calls.now)
    frame = s.current(s.series(s.Scope(tenant.project.pk, rng)))
    figure = valid(
        charts.stacked_bars(
            frame, by="endpoint", value="cost_nano_usd", rng=rng, buckets=s.bucket_starts(rng), usd=True
        )
    )
    total = sum(sum(trace.y) for trace in figure.data)
    assert total == pytest.approx(s.totals(s.Scope(tenant.project.pk, rng)).current.cost_nano_usd / 1e9)
    names = [trace.name for trace in figure.data]
    assert names == ["summarise", "support-reply"]  # the unpriced endpoint spends nothing
    colors = [trace.marker.color for trace in figure.data]
    assert len(set(colors)) == len(colors)


def test_histograms_and_latency(tenant: Tenant, calls: CallSet) -> None:
    rng = parse_range({"range": "7d"}, now=calls.now)
    scope = s.Scope(tenant.project.pk, rng, endpoint="summarise")
    per_bucket = s.current(s.series(scope)).groupby("t")["calls"].sum()
    dist = distributions(
        project_id=tenant.project.pk, rng=rng, endpoint="summarise", calls_per_bucket=per_bucket
    )
    figure = valid(charts.histogram(dist.input_tokens, fmt=str, color="#000", name="input"))
    assert sum(figure.data[0].y) == 9
    latency = valid(
        charts.latency_lines(s.totals_and_latency(scope)[1], rng=rng, buckets=s.bucket_starts(rng))
    )
    assert [t.name for t in latency.data] == ["p50", "p95", "p99"]


def test_empty_data_draws_nothing(tenant: Tenant, now: datetime) -> None:
    rng = parse_range({"range": "24h"}, now=now)
    frame = s.series(s.Scope(tenant.project.pk, rng))
    assert charts.stacked_bars(frame, by="model", value="calls", rng=rng, buckets=[], usd=False) is None
    assert charts.volume_and_errors(frame, rng=rng, buckets=[]) is None
    assert charts.share_donut(frame, by="model", value="calls", usd=False) is None
    assert charts.histogram([], fmt=str, color="#000", name="x") is None


def test_forecast_and_price_history_figures() -> None:
    day = datetime(2026, 3, 1, tzinfo=UTC)
    forecast = s.Forecast(
        month_label="March 2026", month_to_date_nano=3_000_000_000, projected_nano=9_300_000_000,
        run_rate_nano=9_000_000_000, last_month_nano=8_000_000_000, last_month_partial_from=None,
        days_elapsed=3, days_in_month=31,
        daily=[(day + timedelta(days=i), 1_000_000_000) for i in range(3)], history_days=28,
    )  # fmt: skip
    figure = valid(charts.forecast_chart(forecast))
    assert [t.name for t in figure.data] == ["spent so far", "forecast", "last month"]
    assert figure.data[1].y[-1] == pytest.approx(9.3) and figure.data[1].x[-1] == "2026-03-31"
    history = valid(charts.price_history([(day, 2.5, 10.0), (day - timedelta(days=200), 5.0, 15.0)], now=day))
    assert list(history.data[0].y) == [5.0, 2.5, 2.5]


def test_sparkline_points() -> None:
    assert sparkline_points([0, 0]) == ""
    points = sparkline_points([1, 3, 2]).split()
    assert len(points) == 3 and points[1].endswith(",2.0")


def _axis_title(figure: go.Figure, axis: str) -> str:
    title = getattr(figure.layout, axis).title
    return str(title.text or "") if title else ""


def test_every_chart_type_has_labelled_axes_with_units_and_hover_text(tenant: Tenant, calls: CallSet) -> None:
    """Each kind of figure the pages draw (time series, stacked bars, histogram, forecast, price
    history, cost–quality frontier; the donut has no axes): both axes titled, the value axis with
    its unit, and every trace's hover naming what the point is."""
    from apps.policies.selectors import FrontierPoint

    rng = parse_range({"range": "7d", "tz": "Europe/Paris"}, now=calls.now)
    contexts = [
        overview(tenant.project, rng),
        endpoint_page(tenant.project, rng, "support-reply"),
        models_index(tenant.project, rng),
        model_page(tenant.project, rng, "openai", "gpt-4o-mini"),
    ]
    day = datetime(2026, 3, 1, tzinfo=UTC)
    frontier = [
        FrontierPoint("override:openai/gpt-4o-mini", "override", "openai/gpt-4o-mini", 1_000, 0.97, 0.95, 0.99,
                      5_000_000_000, True, True, True, "override → openai/gpt-4o-mini"),
        FrontierPoint("baseline", "none", "openai/gpt-4o", 10_000, 1.0, 1.0, 1.0, 0, True, True, False),
    ]  # fmt: skip
    figures = {c.id: c.figure for ctx in contexts for c in all_charts(ctx)} | {
        "price-history": charts.price_history([(day, 2.5, 10.0)], now=day + timedelta(days=3)),
        "pareto": pareto(frontier, quality_bar=0.95),
    }
    units = {
        "spend-by-endpoint": "USD", "spend-by-model": "USD", "cost": "USD", "models-spend": "USD",
        "forecast": "USD", "volume": "calls", "latency": "ms", "input-tokens": "calls", "model-spend": "USD",
        "model-calls": "calls",
        "output-tokens": "calls", "cost-per-call": "calls", "price-history": "USD per 1M tokens",
        "pareto": "%",
    }  # fmt: skip
    seen = set()
    for chart_id, raw in figures.items():
        figure = valid(raw)
        kinds = {trace.type for trace in figure.data}
        if kinds == {"pie"}:
            assert all("%{label}" in trace.hovertemplate for trace in figure.data), chart_id
            continue
        seen.add(chart_id)
        x, y = _axis_title(figure, "xaxis"), _axis_title(figure, "yaxis")
        assert x and y, f"{chart_id}: axes titled {x!r} and {y!r}"
        assert units[chart_id] in y, f"{chart_id}: the value axis says {y!r}"
        for trace in figure.data:
            if trace.hoverinfo == "skip":
                continue
            hover = trace.hovertemplate or ""
            names = ("%{fullData.name}", "%{text}", str(trace.name).split()[0])
            assert any(n in hover for n in names), (chart_id, trace.name, hover)  # which series
            where = figure.layout.hovermode == "x unified" or "%{x}" in hover or "%{text}" in hover
            assert where, (chart_id, trace.name, hover)  # which point: the x value heads a unified hover
    assert "cost-per-call" in seen and "forecast" in seen and "latency" in seen
    assert _axis_title(valid(figures["volume"]), "yaxis2") == "error rate (%)"
    assert "Europe/Paris" in _axis_title(valid(figures["spend-by-endpoint"]), "xaxis")
