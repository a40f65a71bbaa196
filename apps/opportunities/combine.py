"""Adding findings up without counting a dollar twice — with each other, and with routing.

Each finding's own figure is what its change saves if it is the only one made. Changes to one
endpoint overlap, so an endpoint's total is built in the order the changes stack, each priced on
what the ones before it leave:

1. **Routing first.** An open routing recommendation (real evidence only) saves R of the endpoint's
   monthly spend S; every opportunity is then counted on the share of spend routing leaves,
   1 − R / S (whether the traffic stays on the baseline or moves to the cheaper model, a cheaper
   price, a shorter prompt or a shorter answer saves in proportion to what is still spent).
2. **Price levers** — a successor model, then the batch or flex tier — act on every dollar: each
   counts on what is left, and leaves (1 − its share) for what follows.
3. **Input levers** — prompt caching and trimming context — act on the same input tokens: their
   shares a and b of the input spend combine as 1 − (1 − a)(1 − b) of it (exact when they act on
   the same tokens, below the sum when on different ones), never above the input spend.
4. **Output levers** add, on the output spend.

Intervals are scaled by the same factors. The whole never exceeds what routing leaves of S.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from apps.opportunities.models import ActsOn, Kind

PRICE_ORDER = (Kind.MODEL, Kind.TIER)


@dataclass(frozen=True)
class Figure:
    """What combining needs of a finding (an Opportunity row has all of it)."""

    endpoint: str
    kind: str
    acts_on: str
    monthly_nano: int
    monthly_low_nano: int
    monthly_high_nano: int
    endpoint_monthly_nano: int
    input_monthly_nano: int


@dataclass(frozen=True)
class EndpointTotal:
    endpoint: str
    findings: int
    own_nano: int  # the findings' own figures, added (overlapping)
    net_nano: int  # overlap with each other and with routing removed
    net_low_nano: int
    net_high_nano: int
    routing_nano: int  # routing's potential on this endpoint (counted by routing)
    left_share: float  # of the endpoint's spend routing leaves


@dataclass(frozen=True)
class Total:
    endpoints: list[EndpointTotal]

    @property
    def net_nano(self) -> int:
        return sum(e.net_nano for e in self.endpoints)

    @property
    def net_low_nano(self) -> int:
        return sum(e.net_low_nano for e in self.endpoints)

    @property
    def net_high_nano(self) -> int:
        return sum(e.net_high_nano for e in self.endpoints)

    @property
    def own_nano(self) -> int:
        return sum(e.own_nano for e in self.endpoints)

    @property
    def overlap_nano(self) -> int:
        return self.own_nano - self.net_nano

    def endpoint(self, name: str) -> EndpointTotal | None:
        return next((e for e in self.endpoints if e.endpoint == name), None)


def _endpoint(name: str, figures: list[Figure], routing_nano: int) -> EndpointTotal:
    spend = max(f.endpoint_monthly_nano for f in figures)
    left = max(0.0, 1 - routing_nano / spend) if spend > 0 else 0.0
    factors: list[tuple[Figure, float]] = []
    rho = left
    for kind in PRICE_ORDER:
        for f in (f for f in figures if f.kind == kind):
            factors.append((f, rho))
            rho *= max(0.0, 1 - f.monthly_nano / spend) if spend else 0.0
    inputs = [f for f in figures if f.acts_on == ActsOn.INPUT and f.kind not in PRICE_ORDER]
    input_spend = max((f.input_monthly_nano for f in figures), default=0)
    if inputs and input_spend > 0:
        by_kind: dict[str, int] = defaultdict(int)
        for f in inputs:
            by_kind[f.kind] += f.monthly_nano
        kept = 1.0
        for saved in by_kind.values():
            kept *= max(0.0, 1 - saved / input_spend)
        combined = input_spend * (1 - kept)
        own = sum(by_kind.values())
        factors.extend((f, rho * combined / own if own else 0.0) for f in inputs)
    factors.extend((f, rho) for f in figures if f.acts_on == ActsOn.OUTPUT and f.kind not in PRICE_ORDER)
    cap = left * spend

    def total(attr: str) -> int:
        return round(min(cap, sum(getattr(f, attr) * k for f, k in factors)))

    return EndpointTotal(
        endpoint=name,
        findings=len(figures),
        own_nano=sum(f.monthly_nano for f in figures),
        net_nano=total("monthly_nano"),
        net_low_nano=total("monthly_low_nano"),
        net_high_nano=total("monthly_high_nano"),
        routing_nano=routing_nano,
        left_share=left,
    )


def combine(figures: Iterable[Figure], routing: Mapping[str, int]) -> Total:
    """Open findings (any number per endpoint) and routing's potential per endpoint → totals."""
    by_endpoint: dict[str, list[Figure]] = defaultdict(list)
    for f in figures:
        by_endpoint[f.endpoint].append(f)
    rows = [_endpoint(name, items, max(0, routing.get(name, 0))) for name, items in by_endpoint.items()]
    rows.sort(key=lambda e: -e.net_nano)
    return Total(rows)
