"""Numbers for people: $1.2k, 3.4M tokens, 850 ms, +12%.

Costs arrive as integer nano-USD (1e-9 USD) or None for "no price known", which shows as an
em dash, never as $0.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.core.charts import sparkline_points
from apps.core.formatting import percent

register = template.Library()

NANO = 1_000_000_000
UNKNOWN = "—"


def _compact(value: float) -> str:
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            scaled = value / limit
            text = f"{scaled:.1f}" if abs(scaled) < 100 else f"{scaled:.0f}"
            return text.removesuffix(".0") + suffix
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def usd_text(nano: Any) -> str:
    """nano-USD → '$1.2k', '$12.34', '$0.42', '$0.0042', '$0.000068', '$0' (None → '—')."""
    if nano is None or nano == "":
        return UNKNOWN
    usd = float(nano) / NANO
    sign = "-" if usd < 0 else ""
    usd = abs(usd)
    if usd == 0:
        return "$0"
    if usd >= 1000:
        return f"{sign}${_compact(usd)}"
    if usd >= 100:
        return f"{sign}${usd:,.0f}"
    if usd >= 0.01:
        return f"{sign}${usd:,.2f}"
    if usd >= 1e-7:  # two significant digits, never in scientific notation
        digits = 1 - math.floor(math.log10(usd))
        return f"{sign}${usd:.{digits}f}"
    return f"{sign}<$0.0000001"


@register.filter
def usd(nano: Any) -> str:
    return usd_text(nano)


@register.filter
def usd_exact(nano: Any) -> str:
    """nano-USD to the last digit: '$0.000123450'."""
    if nano is None or nano == "":
        return UNKNOWN
    return "$" + format(Decimal(int(nano)).scaleb(-9), "f")


@register.filter
def compact(value: Any) -> str:
    """3400000 → '3.4M', 1234 → '1.2k', 999 → '999'."""
    if value is None or value == "":
        return UNKNOWN
    return _compact(float(value))


@register.filter
def tokens(value: Any) -> str:
    if value is None or value == "":
        return UNKNOWN
    return f"{_compact(float(value))} tokens"


@register.filter
def pct(value: Any, digits: int = 1) -> str:
    """A fraction (0.034) as '3.4 %': apps.core.formatting.percent, the same on every page."""
    return percent(value, digits)


@register.filter
def ms(value: Any) -> str:
    """850 → '850 ms', 1234 → '1.23 s', 65000 → '1m 5s'."""
    if value is None or value == "":
        return UNKNOWN
    number = float(value)
    if number < 1000:
        return f"{number:.0f} ms"
    if number < 60_000:
        return f"{number / 1000:.3g} s"
    minutes, seconds = divmod(round(number / 1000), 60)
    return f"{minutes}m {seconds}s"


def change(current: float | None, previous: float | None) -> float | None:
    if current is None or previous is None or previous == 0:
        return None
    return (current - previous) / abs(previous)


@register.simple_tag
def delta(current: Any, previous: Any, good: str = "down", label: str = "vs previous") -> SafeString:
    """'▲ 12% vs previous' against the previous period; coloured by whether up is good or bad.

    good = "down" (spend, errors, latency: a fall is good), "up", or "none" (neutral). Without a
    previous value to compare with: 'no earlier data' (label "" gives a bare 'new').
    """
    fraction = change(
        None if current is None else float(current), None if previous is None else float(previous)
    )
    suffix = f" {label}" if label else ""
    if fraction is None:
        return format_html(
            '<span class="delta none" title="{}">{}</span>',
            "nothing to compare with in the previous period",
            "no earlier data" if label else "new",
        )
    if abs(fraction) < 0.0005:
        return format_html('<span class="delta flat">{}</span>{}', "± 0%", suffix)
    arrow = "▲" if fraction > 0 else "▼"
    if good == "none":
        tone = "neutral"
    elif (fraction > 0) == (good == "up"):
        tone = "better"
    else:
        tone = "worse"
    text = f"{abs(fraction) * 100:.0f}%" if abs(fraction) >= 0.1 else f"{abs(fraction) * 100:.1f}%"
    return format_html('<span class="delta {}">{} {}</span>{}', tone, arrow, text, suffix)


@register.simple_tag
def trend(fraction: Any) -> SafeString:
    """A spend trend already computed as a fraction (None: nothing to compare with)."""
    if fraction is None:
        return format_html('<span class="delta none">{}</span>', "new")
    return delta(1 + float(fraction), 1.0, "down", label="")


@register.simple_tag
def sparkline(values: list[float]) -> SafeString:
    points = sparkline_points(list(values or []))
    if not points:
        return format_html("{}", "")
    return format_html(
        '<svg class="spark" width="90" height="22" viewBox="0 0 90 22" aria-hidden="true">'
        '<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{}"/></svg>',
        points,
    )
