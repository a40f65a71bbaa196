"""Plotly figures for the dashboard, built from selector results.

Figures are plain Plotly JSON (the `{"data": [...], "layout": {...}}` that plotly.js draws and
`plotly.graph_objects.Figure(...)` validates; tests/dashboard/test_charts.py checks every one
that way), built directly as dicts because a page draws half a dozen and graph_objects
validation would cost more than the queries behind them. One layout and one colour per
endpoint/model everywhere, so the charts look like one product.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from apps.dashboard.distributions import Bin
from apps.dashboard.filters import TimeRange
from apps.dashboard.selectors import Forecast

Figure = dict[str, Any]

PALETTE = (
    "#3b5bdb", "#f08c00", "#2f9e44", "#e64980", "#7048e8", "#1098ad", "#d9480f", "#5c940d",
    "#ae3ec9", "#0b7285", "#c92a2a", "#e8590c", "#364fc7", "#099268", "#9c36b5", "#74b816",
    "#1864ab", "#a61e4d", "#5f3dc4", "#495057",
)  # fmt: skip
OTHER_COLOR = "#adb5bd"
ERROR_COLOR = "#e03131"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif'
MAX_SERIES = 8
NANO = 1e9


@dataclass(frozen=True)
class Chart:
    """A chart as a page shows it: a figure, or what to do when there is nothing to draw."""

    id: str
    title: str
    figure: Figure | None
    empty: str = "No calls in this range."
    note: str = ""
    height: int = 300

    @property
    def script_id(self) -> str:
        return f"fig-{self.id}"


def colors_for(names: Sequence[str]) -> dict[str, str]:
    """Distinct colours for the names in one chart: each name's own colour, the next free one
    on a collision. Assigned in name order, so a chart's colours do not depend on its ranking."""
    taken: dict[str, str] = {}
    used: set[int] = set()
    for name in sorted(set(names)):
        slot = zlib.crc32(name.encode()) % len(PALETTE)
        for step in range(len(PALETTE)):
            if (slot + step) % len(PALETTE) not in used:
                slot = (slot + step) % len(PALETTE)
                break
        used.add(slot)
        taken[name] = PALETTE[slot]
    return taken


def layout(**overrides: Any) -> dict[str, Any]:
    """The shared layout: quiet grid, legend on top, unified hover, our font and margins."""
    base: dict[str, Any] = {
        "font": {"family": FONT, "size": 12, "color": "#1d2330"},
        "margin": {"l": 56, "r": 16, "t": 8, "b": 40},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hovermode": "x unified",
        "showlegend": True,
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "font": {"size": 11}},
        "xaxis": {"gridcolor": "#eef0f3", "linecolor": "#e4e7ec", "zeroline": False},
        "yaxis": {"gridcolor": "#eef0f3", "linecolor": "#e4e7ec", "zeroline": False, "rangemode": "tozero"},
        "bargap": 0.15,
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def figure(data: list[dict[str, Any]], **overrides: Any) -> Figure:
    return {"data": data, "layout": layout(**overrides)}


def local_label(t: int, tz: ZoneInfo) -> str:
    """A bucket start as plotly reads dates: local wall time, no offset."""
    return datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d %H:%M")


def _x(buckets: Sequence[int], tz: ZoneInfo) -> list[str]:
    return [local_label(t, tz) for t in buckets]


USD_AXIS = {"tickprefix": "$", "tickformat": ",.2~f"}


def usd_axis(top: float) -> dict[str, Any]:
    """Dollar ticks with enough decimals for the chart's scale ($0.0025 apart, not $0.01 twice)."""
    if top <= 0:
        return USD_AXIS
    digits = min(8, max(2, 1 - math.floor(math.log10(top))))
    return {"tickprefix": "$", "tickformat": f",.{digits}~f"}


USD_HOVER = "%{fullData.name}: $%{y:,.4~f}<extra></extra>"


def title(text: str) -> dict[str, Any]:
    """An axis title: what the axis measures, with its unit in brackets."""
    return {"title": {"text": text, "font": {"size": 11, "color": "#667085"}}}


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


def sparkline_points(values: list[float], *, width: int = 90, height: int = 22) -> str:
    """An SVG polyline for a table cell: the shape of the trend, no axes."""
    if len(values) < 2 or max(values) <= 0:
        return ""
    top = max(values)
    step = width / (len(values) - 1)
    return " ".join(
        f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values)
    )


def log_ticks(low: float, high: float) -> list[float]:
    """1-2-3-5 steps per decade between low and high (> 0), for a log axis labelled in full."""
    if low <= 0 or high <= low:
        return []
    out = []
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for mantissa in (1, 2, 3, 5):
            value = float(f"{mantissa}e{exponent}")
            if low <= value <= high:
                out.append(value)
    return out


def _option_text(p: Any) -> str:
    if p.key == "baseline":
        return f"baseline: {p.target}"
    return getattr(p, "label", "") or f"{p.strategy} → {p.target}"


def _pareto_trace(items: list[Any], **style: Any) -> dict[str, Any]:
    """One group of a replay's options as markers with their 99 % interval of quality kept."""
    return {
        "type": "scatter",
        "x": [round(p.cost_per_call_nano / NANO, 9) for p in items],
        "y": [round(p.retention * 100, 2) for p in items],
        "text": [_option_text(p) for p in items],
        "customdata": [
            [
                round(p.retention_low * 100, 1),
                round(p.retention_high * 100, 1),
                p.monthly_savings_nano / NANO,
            ]
            for p in items
        ],
        "error_y": {
            "type": "data",
            "symmetric": False,
            "array": [round((p.retention_high - p.retention) * 100, 2) for p in items],
            "arrayminus": [round((p.retention - p.retention_low) * 100, 2) for p in items],
            "thickness": 1,
            "width": 3,
        },
        "hovertemplate": "<b>%{text}</b><br>cost per call $%{x:,.6~f}"
        "<br>quality kept %{y:.1f} % (99 % CI %{customdata[0]:.1f}–%{customdata[1]:.1f} %)"
        "<br>saves $%{customdata[2]:,.2f} a month<extra></extra>",
        **style,
    }


def _quality_bar_trace(costs: list[float], quality_bar: float) -> dict[str, Any]:
    """The endpoint's quality bar as a dashed line across the cost range shown."""
    return {
        "type": "scatter",
        "mode": "lines",
        "name": f"quality bar {quality_bar * 100:.0f} %",
        "x": [min(costs) * 0.8, max(costs) * 1.25],
        "y": [quality_bar * 100, quality_bar * 100],
        "line": {"color": ERROR_COLOR, "width": 1, "dash": "dash"},
        "hoverinfo": "skip",
    }


def _cost_axis(costs: list[float]) -> dict[str, Any]:
    """A log cost axis labelled in full dollars (1-2-3-5 steps) over the cost range shown."""
    ticks = log_ticks(min(costs) * 0.8, max(costs) * 1.25) if costs else []
    return {
        "type": "log",
        "title": {"text": "cost per call (USD, log scale)"},
        "tickvals": ticks,
        "ticktext": ["$" + format(Decimal(repr(v)).normalize(), ",f") for v in ticks],
    }


def pareto(points: Sequence[Any], *, quality_bar: float) -> Figure | None:
    """Cost per call (log scale) against quality kept, one marker per option of a replay: the
    frontier joined by a line, the recommended option starred, the baseline as a diamond, and the
    endpoint's quality bar. Hovering a point names the option with its figures and interval.
    `points` are apps.policies.selectors.FrontierPoint."""
    if not points:
        return None
    options = [p for p in points if p.key != "baseline"]
    edge = sorted((p for p in points if p.on_frontier), key=lambda p: p.cost_per_call_nano)
    data = [
        _pareto_trace(options, mode="markers", name="options", marker={"color": OTHER_COLOR, "size": 8}),
        _pareto_trace(edge, mode="lines+markers", name="frontier", line={"color": PALETTE[0], "width": 2}),
    ]
    chosen = [p for p in points if p.recommended]
    if chosen:
        star = {"color": PALETTE[1], "size": 16, "symbol": "star"}
        data.append(_pareto_trace(chosen, mode="markers", name="recommended", marker=star))
    base = [p for p in points if p.key == "baseline"]
    if base:
        diamond = {"color": "#1d2330", "size": 11, "symbol": "diamond"}
        data.append(_pareto_trace(base, mode="markers", name="baseline", marker=diamond))
    costs = [p.cost_per_call_nano / NANO for p in points if p.cost_per_call_nano > 0]
    if costs:
        data.append(_quality_bar_trace(costs, quality_bar))
    return figure(
        data,
        hovermode="closest",
        xaxis=_cost_axis(costs),
        yaxis={"title": {"text": "quality kept (%)"}, "ticksuffix": " %", "rangemode": "normal"},
        margin={"b": 52},
    )
