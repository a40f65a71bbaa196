"""How prices are shown by the API and the pages: USD per 1M tokens, exact decimal strings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.pricing.selectors import PriceRow


def per_million(value: Decimal | None) -> str | None:
    """USD per token → USD per 1M tokens, exact, as a plain decimal string."""
    if value is None:
        return None
    return format(value.scaleb(6).normalize(), "f")


def price_out(row: PriceRow) -> dict[str, Any]:
    p = row.price
    long = None
    if p.long_context_threshold:
        long = {
            "above_tokens": p.long_context_threshold,
            "input": per_million(p.input_long),
            "output": per_million(p.output_long),
            "cached_input": per_million(p.cached_input_long),
            "cache_write": per_million(p.cache_write_long),
            "cache_write_1h": per_million(p.cache_write_1h_long),
            "reasoning": per_million(p.reasoning_long),
        }
    return {
        "id": p.pk,
        "provider": p.model.provider.slug,
        "model": p.model.name,
        "model_id": p.model_id,
        "aliases": p.model.aliases,
        "tier": p.tier,
        "scope": row.scope,
        "effective_from": p.effective_from.isoformat(),
        "effective_until": row.effective_until.isoformat() if row.effective_until else None,
        "currency": p.currency,
        "unit": "usd_per_1m_tokens",
        "input": per_million(p.input),
        "cached_input": per_million(p.cached_input),
        "cache_write": per_million(p.cache_write),
        "cache_write_1h": per_million(p.cache_write_1h),
        "output": per_million(p.output),
        "reasoning": per_million(p.reasoning),
        "long_context": long,
        "request_fee_usd": None if p.request_fee is None else format(p.request_fee.normalize(), "f"),
        "image_fee_usd": None if p.image_fee is None else format(p.image_fee.normalize(), "f"),
        "source": p.source,
        "source_date": p.source_date.isoformat() if p.source_date else None,
    }
