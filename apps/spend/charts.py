"""Plotly figures for the spend pages (the dashboard's layout and palette)."""

from __future__ import annotations

from apps.core.charts import Chart, figure, usd_axis
from apps.core.charts import title as axis_title
from apps.spend.selectors.economics import Day

NOUN = {"user": "user", "customer": "customer", "conversation": "conversation"}


def cost_per_key(days: list[Day], *, kind: str) -> Chart:
    """Spend per day (bars) and cost per active key that day (line, right axis)."""
    noun = NOUN[kind]
    if not days:
        return Chart("cost-per-key", f"Cost per {noun}", None, empty=f"No calls with a {noun} in this range.")
    x = [d.day.isoformat() for d in days]
    spend = [round(d.cost_usd, 6) for d in days]
    per = [round(d.cost_per_key, 6) for d in days]
    fig = figure(
        [
            {"type": "bar", "name": "spend", "x": x, "y": spend, "marker": {"color": "#c5d4f5"},
             "hovertemplate": "spend: $%{y:,.2f}<extra></extra>"},
            {"type": "scatter", "mode": "lines+markers", "name": f"per active {noun}", "x": x, "y": per,
             "yaxis": "y2", "line": {"color": "#1f6feb", "width": 2},
             "hovertemplate": f"per {noun}: $%{{y:,.4f}}<extra></extra>"},
        ],
        xaxis=axis_title("day (UTC)"),
        yaxis=usd_axis(max(spend)) | axis_title("spend per day (USD)"),
        yaxis2={**usd_axis(max(per)), **axis_title(f"per active {noun} (USD)"), "overlaying": "y", "side": "right",
                "showgrid": False, "rangemode": "tozero"},
        margin={"r": 64},
    )  # fmt: skip
    return Chart("cost-per-key", f"Spend per day and cost per active {noun}", fig, height=280)


def key_daily(days: list[tuple[str, float]], *, title: str) -> Chart:
    if not any(v for _, v in days):
        return Chart("key-daily", title, None, empty="No spend in this range.")
    x = [d for d, _ in days]
    y = [round(v, 6) for _, v in days]
    fig = figure(
        [{"type": "bar", "name": "spend", "x": x, "y": y, "marker": {"color": "#1f6feb"},
          "hovertemplate": "%{x}: $%{y:,.4f}<extra></extra>"}],
        xaxis=axis_title("day (UTC)"),
        yaxis=usd_axis(max(y)) | axis_title("spend (USD)"),
        showlegend=False,
    )  # fmt: skip
    return Chart("key-daily", title, fig, height=240)
