"""Formatting for replay pages: nano-USD as dollars, shares as percentages, durations."""

from __future__ import annotations

from typing import Any

from django import template

from apps.core.formatting import percent

register = template.Library()
NANO = 1_000_000_000


@register.filter
def usd(nano: Any) -> str:
    """Nano-USD as dollars, with enough digits to be read ($0.000042, $1.23, $12,345)."""
    if nano is None or nano == "":
        return "—"
    value = int(nano) / NANO
    sign = "−" if value < 0 else ""
    value = abs(value)
    if value == 0:
        return "$0"
    if value >= 1000:
        text = f"{value:,.0f}"
    elif value >= 1:
        text = f"{value:,.2f}"
    elif value >= 0.01:
        text = f"{value:.4f}"
    else:
        text = f"{value:.6f}"
    return f"{sign}${text}"


@register.filter
def pct(value: Any, digits: int = 1) -> str:
    """A fraction (0.034) as '3.4 %': apps.core.formatting.percent, the same on every page."""
    return percent(value, digits)


@register.filter
def seconds(value: Any) -> str:
    if value is None or value == "":
        return "—"
    s = int(value)
    if s < 90:
        return f"{s} s"
    if s < 5400:
        return f"{s // 60} min"
    return f"{s / 3600:.1f} h"


@register.filter
def simulated_label(parts: Any) -> str:
    """What ran on the `sim` provider, as a badge says it: "simulated judge", "simulated
    candidates and judge" (plain "simulated" when the parts were not recorded)."""
    names = [str(p) for p in (parts or ()) if p]
    return f"simulated {' and '.join(names)}" if names else "simulated"
