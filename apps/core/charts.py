"""The house style of every chart: one layout, one palette, dollar axes, and the `Chart` a page
shows (a figure, or what to do when there is nothing to draw).

Figures are plain Plotly JSON (the `{"data": [...], "layout": {...}}` that plotly.js draws and
`plotly.graph_objects.Figure(...)` validates), built directly as dicts because a page draws half a
dozen and graph_objects validation would cost more than the queries behind them. Each app builds
its own figures from these (apps/dashboard/charts.py, apps/spend/charts.py, apps/policies/charts.py).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
