"""Per-token prices for estimates, from the organisation's price book (catalogue, overrides and
discounts), through the same cost function ingest uses.

A detector reasons in token counts summed over many calls, so it needs each part's price per token
rather than one call's cost: `unit_prices` asks the book for the cost of PROBE tokens of each part
alone (the usage's own flags say which part) and divides. Estimates use the short-context price
(a sum of many calls' tokens is not one long prompt); costs summed from stored calls keep their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from apps.pricing.book import PriceBook
from apps.pricing.cost import Usage

PROBE = 100_000  # tokens per part: at or below every catalogue long-context step


@dataclass(frozen=True)
class Tokens:
    """Token counts split by how they are billed (apps.opportunities.detectors.usage reads them)."""

    calls: int = 0
    uncached: int = 0
    cached: int = 0
    write_5m: int = 0
    write_1h: int = 0
    output: int = 0  # visible output, reasoning excluded
    reasoning: int = 0

    def __add__(self, other: Tokens) -> Tokens:
        return Tokens(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, ...]:
        return (
            self.calls,
            self.uncached,
            self.cached,
            self.write_5m,
            self.write_1h,
            self.output,
            self.reasoning,
        )

    @property
    def prompt(self) -> int:
        return self.uncached + self.cached + self.write_5m + self.write_1h


@dataclass(frozen=True)
class UnitPrices:
    """nano-USD per token of each part (per request for the fee), at one tier."""

    tier: str  # the tier these are the prices of (the standard tier when the model has no other)
    input: float
    cached: float
    cache_write: float
    cache_write_1h: float
    output: float
    reasoning: float
    request_fee: float

    def input_cost(self, t: Tokens) -> float:
        return (
            t.uncached * self.input
            + t.cached * self.cached
            + t.write_5m * self.cache_write
            + t.write_1h * self.cache_write_1h
        )

    def output_cost(self, t: Tokens) -> float:
        return t.output * self.output + t.reasoning * self.reasoning

    def cost(self, t: Tokens) -> float:
        return self.input_cost(t) + self.output_cost(t) + t.calls * self.request_fee

    def write_price(self, kind: str) -> float:
        return {"input": self.input, "cache_write": self.cache_write, "cache_write_1h": self.cache_write_1h}[
            kind
        ]

    @property
    def caches(self) -> bool:
        return self.cached < self.input


_PARTS = {
    "input": Usage(input_tokens=PROBE, input_includes_cached=False),
    "cached": Usage(cached_input_tokens=PROBE, input_includes_cached=False),
    "cache_write": Usage(cache_write_tokens=PROBE, input_includes_cached=False),
    "cache_write_1h": Usage(
        cache_write_tokens=PROBE, cache_write_1h_tokens=PROBE, input_includes_cached=False
    ),
    "output": Usage(output_tokens=PROBE, output_includes_reasoning=False),
    "reasoning": Usage(reasoning_tokens=PROBE, output_includes_reasoning=False),
}


def unit_prices(
    book: PriceBook, *, provider: str, model: str, at: datetime, tier: str = "standard"
) -> UnitPrices | None:
    """The model's prices at `tier` (its standard prices when it has none for the tier, and then
    `UnitPrices.tier` says standard); None when the model has no price at all."""
    fee = book.cost(provider=provider, model=model, ts=at, usage=Usage(), tier=tier)
    if fee is None:
        return None
    values: dict[str, float] = {}
    for name, usage in _PARTS.items():
        result = book.cost(provider=provider, model=model, ts=at, usage=usage, tier=tier)
        assert result is not None  # the same model and tier as the fee's
        values[name] = (result.nano_usd - fee.nano_usd) / PROBE
    return UnitPrices(tier=fee.tier, request_fee=float(fee.nano_usd), **values)
