"""Filters for the routing pages: money in nano-USD, shares, latency changes."""

from __future__ import annotations

from typing import Any

from django import template

from apps.core.formatting import percent
from apps.routing.options import usd as _usd

register = template.Library()


@register.filter
def usd(nano: Any) -> str:
    if nano is None or nano == "":
        return "—"
    return _usd(float(nano))


@register.filter
def pct(value: Any, digits: int = 1) -> str:
    """A fraction (0.034) as '3.4 %': apps.core.formatting.percent, the same on every page."""
    return percent(value, digits)


@register.filter
def signed_ms(value: Any) -> str:
    if value is None or value == "":
        return "—"
    v = float(value)
    return f"{v:+,.0f} ms"


@register.filter
def get(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def per_month(per_call_nano: Any, monthly_calls: Any) -> float | None:
    """A per-call figure (nano-USD) times the endpoint's calls a month; None stays None."""
    if per_call_nano is None or per_call_nano == "" or monthly_calls in (None, ""):
        return None
    return float(per_call_nano) * float(monthly_calls)
