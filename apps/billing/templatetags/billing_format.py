"""Money and counts on the billing pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def nano_usd(value: int | None) -> str:
    """Nano-USD (1e-9 USD) as dollars: 5000000000 → $5.00."""
    return f"${(value or 0) / 1e9:,.2f}"


@register.filter
def cents(value: int | None, currency: str = "USD") -> str:
    amount = f"{(value or 0) / 100:,.2f}"
    return f"${amount}" if currency.upper() == "USD" else f"{amount} {currency.upper()}"


@register.filter
def count(value: int | None) -> str:
    """1234567 → 1,234,567; 0 → unlimited (for limits)."""
    return f"{value:,}" if value else "unlimited"
