"""The recommendation page's frontier: cost per call against quality kept, one marker per option
of a replay, with its interval (apps/policies/selectors.FrontierPoint)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from apps.core.charts import ERROR_COLOR, NANO, OTHER_COLOR, PALETTE, Figure, figure, log_ticks


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
