"""Plotly figures for the dashboard, built from selector results.

Figures are plain Plotly JSON (the `{"data": [...], "layout": {...}}` that plotly.js draws and
`plotly.graph_objects.Figure(...)` validates; tests/dashboard/test_charts.py checks every one
that way), built directly as dicts because a page draws half a dozen and graph_objects
validation would cost more than the queries behind them. The house style (layout, palette, dollar
axes, `Chart`) is apps/core/charts.py, so every app's charts look like one product.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from apps.core.charts import (
    ERROR_COLOR,
    MAX_SERIES,
    NANO,
    OTHER_COLOR,
    PALETTE,
    USD_AXIS,
    USD_HOVER,
    Figure,
    colors_for,
    figure,
    title,
    usd_axis,
)
from apps.dashboard.distributions import Bin
from apps.dashboard.filters import TimeRange
from apps.dashboard.selectors import Forecast


def local_label(t: int, tz: ZoneInfo) -> str:
    """A bucket start as plotly reads dates: local wall time, no offset."""
    return datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d %H:%M")


def _x(buckets: Sequence[int], tz: ZoneInfo) -> list[str]:
    return [local_label(t, tz) for t in buckets]


def time_axis(rng: TimeRange) -> dict[str, Any]:
    return title(f"time ({rng.tz.key}), per {rng.grain.label}")


def _top(frame: pd.DataFrame, by: str, value: str, limit: int = MAX_SERIES) -> list[str]:
    ranked = frame.groupby(by)[value].sum().sort_values(ascending=False)
    return [str(k) for k, v in ranked.items() if v][:limit]


def stacked_bars(
    frame: pd.DataFrame,
    *,
    by: str,
    value: str,
    rng: TimeRange,
    buckets: list[int],
    usd: bool,
) -> Figure | None:
    """One bar per bucket, stacked by `by` (endpoint or model); the smallest grouped as 'other'."""
    if frame.empty or not frame[value].abs().sum():
        return None
    top = _top(frame, by, value)
    keyed = frame.assign(_key=frame[by].where(frame[by].isin(top), "other"))
    table = keyed.pivot_table(index="t", columns="_key", values=value, aggfunc="sum")
    table = table.reindex(buckets).fillna(0)
    scale = NANO if usd else 1.0
    x = _x(buckets, rng.tz)
    colors = colors_for(top)
    data = []
    for key in [*top, "other"]:
        if key not in table or not table[key].abs().sum():
            continue
        data.append(
            {
                "type": "bar",
                "name": key,
                "x": x,
                "y": [round(float(v) / scale, 9) for v in table[key].tolist()],
                "marker": {"color": OTHER_COLOR if key == "other" else colors[key]},
                "hovertemplate": USD_HOVER if usd else "%{fullData.name}: %{y:,}<extra></extra>",
            }
        )
    highest = float(table.sum(axis=1).max()) / scale if len(table) else 0.0
    value_axis = (usd_axis(highest) | title("spend (USD)")) if usd else title("calls")
    return figure(data, barmode="stack", xaxis=time_axis(rng), yaxis=value_axis)


def volume_and_errors(frame: pd.DataFrame, *, rng: TimeRange, buckets: list[int]) -> Figure | None:
    """Calls per bucket as bars, the error rate as a line on a second axis."""
    if frame.empty or not frame["calls"].sum():
        return None
    sums = frame.groupby("t")[["calls", "errors"]].sum().reindex(buckets).fillna(0)
    x = _x(buckets, rng.tz)
    rate = [(e / c * 100) if c else None for c, e in zip(sums["calls"], sums["errors"], strict=True)]
    data = [
        {
            "type": "bar",
            "name": "calls",
            "x": x,
            "y": [int(v) for v in sums["calls"]],
            "marker": {"color": PALETTE[0]},
            "hovertemplate": "calls: %{y:,}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "error rate",
            "x": x,
            "y": rate,
            "yaxis": "y2",
            "line": {"color": ERROR_COLOR, "width": 2},
            "hovertemplate": "error rate: %{y:.2f} %<extra></extra>",
        },
    ]
    return figure(
        data,
        xaxis=time_axis(rng),
        yaxis=title("calls"),
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "ticksuffix": " %",
            "rangemode": "tozero",
            "showgrid": False,
            **title("error rate (%)"),
        },
        margin={"r": 56},
    )


def latency_lines(latency: pd.DataFrame, *, rng: TimeRange, buckets: list[int]) -> Figure | None:
    if latency.empty or not latency["calls"].sum():
        return None
    table = latency.set_index("t").reindex(buckets)
    x = _x(buckets, rng.tz)
    data = []
    for name, color, dash in (
        ("p50", PALETTE[0], "solid"),
        ("p95", PALETTE[1], "solid"),
        ("p99", ERROR_COLOR, "dot"),
    ):
        values = [None if pd.isna(v) else round(float(v)) for v in table[name].tolist()]
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": name,
                "x": x,
                "y": values,
                "connectgaps": False,
                "line": {"color": color, "width": 2, "dash": dash},
                "hovertemplate": f"{name}: %{{y:,}} ms<extra></extra>",
            }
        )
    return figure(data, xaxis=time_axis(rng), yaxis={"ticksuffix": " ms", **title("latency (ms)")})


def share_donut(frame: pd.DataFrame, *, by: str, value: str, usd: bool) -> Figure | None:
    """Share of spend (or calls) per model or endpoint."""
    if frame.empty or not frame[value].sum():
        return None
    sums = frame.groupby(by)[value].sum().sort_values(ascending=False)
    sums = sums[sums > 0]
    labels = [str(k) for k in sums.index]
    scale = NANO if usd else 1.0
    colors = colors_for(labels)
    return figure(
        [
            {
                "type": "pie",
                "hole": 0.55,
                "labels": labels,
                "values": [round(float(v) / scale, 9) for v in sums.tolist()],
                "marker": {"colors": [colors[label] for label in labels]},
                "textinfo": "percent",
                "textposition": "inside",
                "sort": False,
                "hovertemplate": "%{label}: "
                + ("$%{value:,.4~f}" if usd else "%{value:,}")
                + " (%{percent})<extra></extra>",
            }
        ],
        hovermode="closest",
        uniformtext={"minsize": 10, "mode": "hide"},
        legend={"orientation": "v", "y": 0.5, "yanchor": "middle", "x": 1.02},
        margin={"l": 8, "r": 8, "t": 8, "b": 8},
    )


def _bin_label(b: Bin, fmt: Any) -> str:
    if b.low is None:
        return "0" if b.high == 1 else f"< {fmt(b.high)}"
    if b.high is None:
        return f"≥ {fmt(b.low)}"
    return f"{fmt(b.low)}–{fmt(b.high).lstrip('$')}"


def histogram(bins: list[Bin], *, fmt: Any, color: str, name: str, axis: str = "") -> Figure | None:
    """Calls per 1-2-5 bin, labelled with the bin's range; `axis` titles the bins' axis (what is
    binned, with its unit), `name` by default."""
    if not bins or not sum(b.calls for b in bins):
        return None
    return figure(
        [
            {
                "type": "bar",
                "name": name,
                "x": [_bin_label(b, fmt) for b in bins],
                "y": [b.calls for b in bins],
                "marker": {"color": color},
                "hovertemplate": f"{name} %{{x}}: %{{y:,}} calls<extra></extra>",
            }
        ],
        showlegend=False,
        hovermode="closest",
        xaxis={"type": "category", "tickangle": -35, **title(axis or name)},
        yaxis=title("calls"),
        margin={"b": 92},
    )


def forecast_chart(forecast: Forecast) -> Figure | None:
    """This month's cumulative spend, where it is heading, and last month's total for scale."""
    if not forecast.daily and not forecast.last_month_nano:
        return None
    x, y, total = [], [], 0
    for day, cost in forecast.daily:
        total += cost
        x.append(day.strftime("%Y-%m-%d"))
        y.append(round(total / NANO, 6))
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "spent so far",
            "x": x,
            "y": y,
            "line": {"color": PALETTE[0], "width": 2},
            "hovertemplate": "spent so far: $%{y:,.2f}<extra></extra>",
        }
    ]
    if x and forecast.history_days:
        last = forecast.daily[-1][0]
        month_end = last.replace(day=forecast.days_in_month).strftime("%Y-%m-%d")
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "forecast",
                "x": [x[-1], month_end],
                "y": [y[-1], round(forecast.projected_nano / NANO, 6)],
                "line": {"color": PALETTE[1], "width": 2, "dash": "dash"},
                "hovertemplate": "forecast: $%{y:,.2f}<extra></extra>",
            }
        )
    if forecast.last_month_nano and x:
        level = round(forecast.last_month_nano / NANO, 6)
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "last month",
                "x": [x[0], data[-1]["x"][-1]],
                "y": [level, level],
                "line": {"color": OTHER_COLOR, "width": 1, "dash": "dot"},
                "hovertemplate": "last month: $%{y:,.2f}<extra></extra>",
            }
        )
    return figure(data, xaxis=title("day"), yaxis=USD_AXIS | title("spend this month, cumulative (USD)"))


def price_history(points: list[tuple[datetime, float, float]], *, now: datetime) -> Figure | None:
    """Input and output price (USD per 1M tokens) over time, as steps."""
    if not points:
        return None
    points = sorted(points)
    x = [p[0].strftime("%Y-%m-%d") for p in points] + [now.strftime("%Y-%m-%d")]
    data = []
    for index, (name, color) in enumerate((("input", PALETTE[0]), ("output", PALETTE[1])), start=1):
        values = [p[index] for p in points]
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "line": {"shape": "hv", "color": color, "width": 2},
                "name": f"{name} / 1M tokens",
                "x": x,
                "y": [*values, values[-1]],
                "hovertemplate": f"{name}: $%{{y:,.4~f}} per 1M<extra></extra>",
            }
        )
    return figure(data, xaxis=title("effective from"), yaxis=USD_AXIS | title("price (USD per 1M tokens)"))
