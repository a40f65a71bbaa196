"""What each dashboard page shows, assembled from selectors and charts (views stay thin)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from apps.accounts.models import Project
from apps.core.charts import PALETTE, Chart
from apps.core.errors import NotFound
from apps.dashboard import charts
from apps.dashboard.distributions import Distributions, distributions
from apps.dashboard.filters import TimeRange
from apps.dashboard.savings import endpoint_routing, savings_summary
from apps.dashboard.selectors import (
    Scope,
    breakdown,
    bucket_starts,
    current,
    has_calls,
    month_forecast,
    series,
    totals,
    totals_and_latency,
)
from apps.dashboard.templatetags.humanize_money import compact, usd_text
from apps.dashboard.tiers import tier_spend
from apps.opportunities.selectors import endpoint_card
from apps.pricing.display import price_out
from apps.pricing.selectors import price_book, price_rows


def _per_bucket(
    chart_id: str, title: str, frame: Any, *, by: str, rng: TimeRange, buckets: list[int], usd: bool = True
) -> Chart:
    """Spend (or calls) per chart bucket, stacked by endpoint or model."""
    value = "cost_nano_usd" if usd else "calls"
    figure = charts.stacked_bars(frame, by=by, value=value, rng=rng, buckets=buckets, usd=usd)
    return Chart(chart_id, title, figure, note=f"per {rng.grain.label}")


def overview(project: Project, rng: TimeRange) -> dict[str, Any]:
    scope = Scope(project.pk, rng)
    frame = series(scope)
    buckets = bucket_starts(rng)
    now_frame = current(frame)
    sums = totals(scope)
    forecast = month_forecast(project_id=project.pk, tz=rng.tz, now=rng.now)
    endpoints = breakdown(frame, "endpoint", buckets=buckets)
    models = breakdown(frame, "model", buckets=buckets)
    return {
        "totals": sums,
        "endpoints": endpoints,
        "models": models[:8],
        "more_models": max(len(models) - 8, 0),
        "forecast": forecast,
        "charts": [
            _per_bucket(
                "spend-by-endpoint", "Spend by endpoint", now_frame, by="endpoint", rng=rng, buckets=buckets
            ),
            _per_bucket("spend-by-model", "Spend by model", now_frame, by="model", rng=rng, buckets=buckets),
        ],
        "forecast_chart": Chart(
            "forecast",
            f"{forecast.month_label}: spend so far and forecast",
            charts.forecast_chart(forecast),
            empty="No spend recorded this month yet.",
            height=240,
        ),
        "routed_share": (sums.current.routed_calls / sums.current.calls) if sums.current.calls else None,
        "savings": savings_summary(project=project, rng=rng),
        "tiers": tier_spend(scope, sums.current),
    }


def _distribution_charts(dist: Distributions, rng: TimeRange) -> list[Chart]:
    """Histograms of input tokens, output tokens and cost per call, with what they were read from."""
    sample_note = (
        f"The most recent {dist.calls:,} calls (since {timezone.localtime(dist.since, rng.tz):%Y-%m-%d %H:%M})."
        if dist.sampled_recent
        else f"All {dist.calls:,} calls in the range."
    )
    return [
        Chart(
            "input-tokens",
            "Input tokens per call",
            charts.histogram(
                dist.input_tokens,
                fmt=compact,
                color=PALETTE[0],
                name="input tokens",
                axis="input tokens per call",
            ),
            note=sample_note,
            height=260,
        ),
        Chart(
            "output-tokens",
            "Output tokens per call",
            charts.histogram(
                dist.output_tokens,
                fmt=compact,
                color=PALETTE[1],
                name="output tokens",
                axis="output tokens per call",
            ),
            note=sample_note,
            height=260,
        ),
        Chart(
            "cost-per-call",
            "Cost per call",
            charts.histogram(
                dist.cost, fmt=usd_text, color=PALETTE[2], name="cost", axis="cost per call (USD)"
            ),
            empty="No priced calls in this range.",
            note=sample_note
            + (
                f" {dist.unpriced_calls:,} calls have no price and are not shown."
                if dist.unpriced_calls
                else ""
            ),
            height=260,
        ),
    ]


def endpoint_page(project: Project, rng: TimeRange, endpoint: str) -> dict[str, Any]:
    if not has_calls(project_id=project.pk, endpoint=endpoint):
        raise NotFound(f"This project has no calls from an endpoint named {endpoint[:128]!r}")
    scope = Scope(project.pk, rng, endpoint=endpoint)
    frame = series(scope)
    now_frame = current(frame)
    buckets = bucket_starts(rng)
    sums, latency = totals_and_latency(scope)
    per_bucket = now_frame.groupby("t")["calls"].sum()
    dist = distributions(project_id=project.pk, rng=rng, endpoint=endpoint, calls_per_bucket=per_bucket)
    return {
        "endpoint": endpoint,
        "totals": sums,
        "models": breakdown(frame, "model", buckets=buckets),
        "distributions": dist,
        "charts": [
            Chart(
                "volume",
                "Calls and error rate",
                charts.volume_and_errors(now_frame, rng=rng, buckets=buckets),
                note=f"per {rng.grain.label}",
            ),
            _per_bucket("cost", "Spend by model", now_frame, by="model", rng=rng, buckets=buckets),
            Chart(
                "latency",
                "Latency",
                charts.latency_lines(latency, rng=rng, buckets=buckets),
                note="p50, p95 and p99",
            ),
            Chart(
                "model-mix",
                "Model mix (calls)",
                charts.share_donut(now_frame, by="model", value="calls", usd=False),
            ),
        ],
        "distribution_charts": _distribution_charts(dist, rng),
        "opportunities": endpoint_card(project_id=project.pk, endpoint=endpoint),
    } | endpoint_routing(project=project, rng=rng, endpoint=endpoint)


def models_index(project: Project, rng: TimeRange) -> dict[str, Any]:
    scope = Scope(project.pk, rng)
    frame = series(scope)
    now_frame = current(frame)
    buckets = bucket_starts(rng)
    return {
        "rows": breakdown(frame, "model", buckets=buckets),
        "charts": [
            _per_bucket("models-spend", "Spend by model", now_frame, by="model", rng=rng, buckets=buckets),
            Chart(
                "spend-share",
                "Share of spend",
                charts.share_donut(now_frame, by="model", value="cost_nano_usd", usd=True),
            ),
        ],
    }


@dataclass(frozen=True)
class PriceInfo:
    model_id: int
    name: str
    in_force: dict[str, Any] | None
    history: list[dict[str, Any]]


def _price_info(organization_id: int, provider: str, model: str, now: datetime) -> PriceInfo | None:
    resolved = price_book(organization_id=organization_id).resolve(provider, model)
    if resolved is None:
        return None
    rows = price_rows(organization_id=organization_id, model_ids=[resolved.model_id])
    in_force = None
    for row in rows:
        price = row.price
        live = price.effective_from <= now and (row.effective_until is None or row.effective_until > now)
        if price.tier == "standard" and live and (in_force is None or price.organization_id is not None):
            in_force = row
    return PriceInfo(
        model_id=resolved.model_id,
        name=f"{resolved.provider}/{resolved.name}",
        in_force=price_out(in_force) if in_force is not None else None,
        history=[price_out(row) for row in rows],
    )


def _price_points(info: PriceInfo) -> list[tuple[datetime, float, float]]:
    standard = [p for p in info.history if p["tier"] == "standard"]
    own = [p for p in standard if p["scope"] == "organization"]
    points = []
    for p in own or standard:
        points.append(
            (
                datetime.fromisoformat(p["effective_from"]),
                float(p["input"] or 0),
                float(p["output"] or 0),
            )
        )
    return points


def model_page(project: Project, rng: TimeRange, provider: str, model: str) -> dict[str, Any]:
    if not has_calls(project_id=project.pk, provider=provider, model=model):
        raise NotFound(f"This project has no calls to {provider}/{model[:128]}")
    scope = Scope(project.pk, rng, provider=provider, model=model)
    frame = series(scope)
    now_frame = current(frame)
    buckets = bucket_starts(rng)
    info = _price_info(project.organization_id, provider, model, timezone.now())
    return {
        "provider": provider,
        "model": model,
        "totals": totals(scope),
        "endpoints": breakdown(frame, "endpoint", buckets=buckets),
        "price": info,
        "charts": [
            _per_bucket(
                "model-spend", "Spend by endpoint", now_frame, by="endpoint", rng=rng, buckets=buckets
            ),
            _per_bucket(
                "model-calls",
                "Calls by endpoint",
                now_frame,
                by="endpoint",
                rng=rng,
                buckets=buckets,
                usd=False,
            ),
        ],
        "price_chart": Chart(
            "price-history",
            "Price history (standard tier)",
            charts.price_history(_price_points(info), now=timezone.now()) if info else None,
            empty="No price is known for this model: its calls are stored with cost unknown.",
            height=220,
        ),
    }
