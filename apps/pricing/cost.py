"""The cost function: exact integer arithmetic over token counts. Pure: no database, no I/O.

Prices live in PostgreSQL as Decimal USD per token. When a price book loads, each price becomes a
`Rates`: integer atto-USD (1e-18 USD) per token, with every fallback already applied (no cached
price → the input price, no reasoning price → the output price, …). A call's cost is then a
handful of integer multiplications, summed and rounded to nano-USD (1e-9 USD) once, half-even.
No float ever touches a cost.

Token semantics differ by provider (DESIGN.md §3): OpenAI's `prompt_tokens` include cached
tokens, Anthropic's `input_tokens` do not (cache reads and writes are reported beside them);
OpenAI's `completion_tokens` include reasoning tokens, Gemini's `candidatesTokenCount` and xAI's
`completion_tokens` do not. `compute_cost` takes the usage exactly as the provider reported it
and applies the rule it is given (the usage's own flags first), so nobody upstream has to
subtract anything.

`Usage` is the one normalised usage record: the SDK's event, the estimate API's provider formats
and OTLP spans (apps.pricing.usage) all become one, with the telemetry event's meanings
(docs/protocol.md): `cache_write_tokens` counts every cache write and `cache_write_1h_tokens` is
the part of them written with a one-hour TTL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

ATTO_PER_USD = 10**18
ATTO_PER_NANO = 10**9
NANO_PER_USD = 10**9
PPM = 1_000_000  # discounts are applied as "parts per million kept"

BREAKDOWN_KEYS: tuple[str, ...] = (
    "input",
    "cached_input",
    "cache_write",
    "cache_write_1h",
    "output",
    "reasoning",
    "request_fee",
    "image_fee",
)


@dataclass(frozen=True, slots=True)
class Usage:
    """One call's usage, as the provider reported it (the telemetry event's token fields)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0  # every cache write, 5-minute and 1-hour
    cache_write_1h_tokens: int = 0  # the part of cache_write_tokens written with a 1-hour TTL
    reasoning_tokens: int = 0
    input_includes_cached: bool | None = None  # None = the model's provider's rule
    images: int = 0
    output_includes_reasoning: bool | None = None  # None = the model's provider's rule
    service_tier: str = ""  # standard / batch / flex / priority as served; "" = not reported


@dataclass(frozen=True, slots=True)
class CostResult:
    nano_usd: int  # total, integer nano-USD (1e-9 USD), rounded half-even once
    price_id: int  # the price row used
    breakdown: dict[str, int]  # nano-USD per part (BREAKDOWN_KEYS); the parts sum to nano_usd
    tier: str = "standard"  # the service tier whose price was used


class Rates:
    """One price row ready for arithmetic: atto-USD per token (per request / image for fees).

    `long` is the same row's long-context rates, used when the prompt (uncached + cached + cache
    writes) is above `long_threshold` tokens. `catalogue` is False for an organisation's own price,
    which negotiated discounts do not apply to.
    """

    __slots__ = (
        "cache_write",
        "cache_write_1h",
        "cached_input",
        "catalogue",
        "image_fee",
        "input",
        "long",
        "long_threshold",
        "output",
        "price_id",
        "reasoning",
        "request_fee",
    )

    def __init__(
        self,
        *,
        price_id: int,
        input: int,
        output: int,
        cached_input: int,
        cache_write: int,
        cache_write_1h: int,
        reasoning: int,
        request_fee: int = 0,
        image_fee: int = 0,
        long_threshold: int = 0,
        long: Rates | None = None,
        catalogue: bool = True,
    ):
        self.price_id = price_id
        self.input = input
        self.output = output
        self.cached_input = cached_input
        self.cache_write = cache_write
        self.cache_write_1h = cache_write_1h
        self.reasoning = reasoning
        self.request_fee = request_fee
        self.image_fee = image_fee
        self.long_threshold = long_threshold if long is not None else 0
        self.long = long
        self.catalogue = catalogue

    def __repr__(self) -> str:
        return (
            f"Rates(price_id={self.price_id}, input={self.input}, output={self.output}, long={self.long!r})"
        )


def usd_to_atto(value: Decimal | int | str) -> int:
    """An exact USD amount as integer atto-USD. Refuses negatives and sub-atto precision."""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(f"{value!r} is not a number") from exc
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    if amount < 0:
        raise ValueError(f"{value!r} is negative")
    scaled = amount.scaleb(18)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value!r} has more than 18 decimal places of USD")
    return int(scaled)


def rates_from_prices(
    *,
    price_id: int,
    input: Decimal,
    output: Decimal,
    cached_input: Decimal | None = None,
    cache_write: Decimal | None = None,
    cache_write_1h: Decimal | None = None,
    reasoning: Decimal | None = None,
    request_fee: Decimal | None = None,
    image_fee: Decimal | None = None,
    long_context_threshold: int | None = None,
    input_long: Decimal | None = None,
    output_long: Decimal | None = None,
    cached_input_long: Decimal | None = None,
    cache_write_long: Decimal | None = None,
    cache_write_1h_long: Decimal | None = None,
    reasoning_long: Decimal | None = None,
    catalogue: bool = True,
) -> Rates:
    """Decimal USD-per-token prices (None = not listed) → Rates with every fallback applied.

    Fallbacks: cached input → input; 5-minute cache write → input; 1-hour cache write → 5-minute
    cache write; reasoning → output. A long-context price that is not listed falls back to the
    same part's normal price (reasoning to the long output price unless a reasoning price is set).
    """
    a_in = usd_to_atto(input)
    a_out = usd_to_atto(output)
    a_cached = a_in if cached_input is None else usd_to_atto(cached_input)
    a_cw = a_in if cache_write is None else usd_to_atto(cache_write)
    a_cw1h = a_cw if cache_write_1h is None else usd_to_atto(cache_write_1h)
    a_reason = a_out if reasoning is None else usd_to_atto(reasoning)
    a_req = 0 if request_fee is None else usd_to_atto(request_fee)
    a_img = 0 if image_fee is None else usd_to_atto(image_fee)
    long: Rates | None = None
    if long_context_threshold:
        l_out = a_out if output_long is None else usd_to_atto(output_long)
        if reasoning_long is not None:
            l_reason = usd_to_atto(reasoning_long)
        else:
            l_reason = a_reason if reasoning is not None else l_out
        long = Rates(
            price_id=price_id,
            input=a_in if input_long is None else usd_to_atto(input_long),
            output=l_out,
            cached_input=a_cached if cached_input_long is None else usd_to_atto(cached_input_long),
            cache_write=a_cw if cache_write_long is None else usd_to_atto(cache_write_long),
            cache_write_1h=a_cw1h if cache_write_1h_long is None else usd_to_atto(cache_write_1h_long),
            reasoning=l_reason,
            request_fee=a_req,
            image_fee=a_img,
            catalogue=catalogue,
        )
    return Rates(
        price_id=price_id,
        input=a_in,
        output=a_out,
        cached_input=a_cached,
        cache_write=a_cw,
        cache_write_1h=a_cw1h,
        reasoning=a_reason,
        request_fee=a_req,
        image_fee=a_img,
        long_threshold=int(long_context_threshold or 0),
        long=long,
        catalogue=catalogue,
    )


def round_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, ties to even (banker's rounding)."""
    q, r = divmod(numerator, denominator)
    twice = 2 * r
    if twice > denominator or (twice == denominator and q & 1):
        q += 1
    return q


def compute_cost(
    rates: Rates,
    usage: Usage,
    *,
    input_includes_cached: bool,
    output_includes_reasoning: bool,
    keep_ppm: int = PPM,
) -> CostResult:
    """The exact cost of one call.

    `input_includes_cached` and `output_includes_reasoning` are the provider's rules, used where
    the usage's own flags are None. When input includes cached tokens, it includes cache writes
    too (the OpenAI-compatible convention): uncached = input - cached - writes. Cache writes are
    billed once: the 1-hour part at the 1-hour rate, the rest at the 5-minute rate. `keep_ppm` is
    the share kept after a negotiated discount (1,000,000 = no discount).
    """
    cached = usage.cached_input_tokens
    writes = usage.cache_write_tokens
    w1h = usage.cache_write_1h_tokens
    if w1h > writes:  # an inconsistent report: the 1-hour part cannot exceed all writes
        writes = w1h
    w5 = writes - w1h
    includes = usage.input_includes_cached
    if includes is None:
        includes = input_includes_cached
    uncached = usage.input_tokens
    if includes:
        uncached -= cached + writes
        if uncached < 0:
            uncached = 0
    r = rates
    if r.long_threshold and uncached + cached + writes > r.long_threshold:
        r = r.long  # type: ignore[assignment]  # set whenever long_threshold is
    out = usage.output_tokens
    reasoning = usage.reasoning_tokens
    if usage.output_includes_reasoning is not None:
        output_includes_reasoning = usage.output_includes_reasoning
    if output_includes_reasoning:
        if reasoning > out:
            reasoning = out
        out -= reasoning
    # Written out part by part: this runs for every ingested event.
    return _in_nano(
        r.price_id,
        keep_ppm,
        uncached * r.input,
        cached * r.cached_input,
        w5 * r.cache_write,
        w1h * r.cache_write_1h,
        out * r.output,
        reasoning * r.reasoning,
        r.request_fee,
        usage.images * r.image_fee,
    )


def _in_nano(
    price_id: int, keep_ppm: int, a0: int, a1: int, a2: int, a3: int, a4: int, a5: int, a6: int, a7: int
) -> CostResult:
    """A call's eight parts in atto-USD (BREAKDOWN_KEYS order) as its cost in nano-USD: the
    discount applied, the total rounded once, half-even, and the parts' rounding given to the
    largest remainders so they add up to the total. Positional and unrolled: it runs per event."""
    if keep_ppm == PPM:
        unit = ATTO_PER_NANO
    else:
        unit = ATTO_PER_NANO * PPM
        a0, a1, a2, a3 = a0 * keep_ppm, a1 * keep_ppm, a2 * keep_ppm, a3 * keep_ppm
        a4, a5, a6, a7 = a4 * keep_ppm, a5 * keep_ppm, a6 * keep_ppm, a7 * keep_ppm
    q0, m0 = divmod(a0, unit)
    q1, m1 = divmod(a1, unit)
    q2, m2 = divmod(a2, unit)
    q3, m3 = divmod(a3, unit)
    q4, m4 = divmod(a4, unit)
    q5, m5 = divmod(a5, unit)
    q6, m6 = divmod(a6, unit)
    q7, m7 = divmod(a7, unit)
    floor = q0 + q1 + q2 + q3 + q4 + q5 + q6 + q7
    # The total, rounded once, half-even: the parts' whole nanos plus their remainders' sum.
    rest, r_total = divmod(m0 + m1 + m2 + m3 + m4 + m5 + m6 + m7, unit)
    total = floor + rest
    twice = 2 * r_total
    if twice > unit or (twice == unit and total & 1):
        total += 1
    breakdown = {
        "input": q0,
        "cached_input": q1,
        "cache_write": q2,
        "cache_write_1h": q3,
        "output": q4,
        "reasoning": q5,
        "request_fee": q6,
        "image_fee": q7,
    }
    short = total - floor
    if short:
        # Largest remainders get the rounding, so the parts always add up to the total.
        remainders = (m0, m1, m2, m3, m4, m5, m6, m7)
        for i in sorted(range(8), key=remainders.__getitem__, reverse=True)[:short]:
            breakdown[BREAKDOWN_KEYS[i]] += 1
    return CostResult(total, price_id, breakdown)


def cost_breakdown_json(result: CostResult) -> str:
    """The breakdown as stored in llm_calls.cost_breakdown (compact JSON, fixed key order)."""
    return json.dumps(result.breakdown, separators=(",", ":"))


def nano_to_usd(nano: int) -> Decimal:
    """Nano-USD as an exact Decimal USD amount (for display and APIs)."""
    return Decimal(nano).scaleb(-9)
