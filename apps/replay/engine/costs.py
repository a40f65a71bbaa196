"""What a replay request may cost at most, and what it will probably cost.

Worst case (what the spend cap reserves): the prompt can be no more tokens than its UTF-8 bytes
(every byte-level BPE or SentencePiece-with-byte-fallback tokenizer emits at least one byte per
token), plus a few tokens per message for the chat template; the answer no more than the
request's max_tokens (twice that for providers that report thinking tokens beside the output).
Priced with the same cost function ingest uses, at today's price; per-request fees and
long-context steps included. Expected cost (the preview): the app's own token counts for the
call, priced for the candidate.
"""

from __future__ import annotations

from datetime import UTC, datetime

from apps.pricing.book import PriceBook
from apps.pricing.cost import Usage
from apps.replay.providers.base import DEFAULT_MAX_TOKENS, ChatRequest

PER_MESSAGE_TOKENS = 8
FIXED_TOKENS = 16
JUDGE_OVERHEAD_TOKENS = 220  # the judge's instructions and the prompt's frame
JUDGE_EXPECTED_OUTPUT = 80


def prompt_upper_tokens(request: ChatRequest) -> int:
    return (
        len(request.all_text().encode("utf-8"))
        + PER_MESSAGE_TOKENS * (len(request.messages) + 1)
        + FIXED_TOKENS
    )


def worst_case(
    book: PriceBook, provider: str, model: str, request: ChatRequest, *, reasoning_outside: bool = False
) -> int | None:
    """Nano-USD at most for one request, or None when the model has no price now."""
    output = (request.max_tokens or DEFAULT_MAX_TOKENS) * (2 if reasoning_outside else 1)
    usage = Usage(input_tokens=prompt_upper_tokens(request), output_tokens=output, input_includes_cached=True)
    result = book.cost(provider=provider, model=model, ts=datetime.now(UTC), usage=usage)
    return result.nano_usd if result is not None else None


def expected_cost(book: PriceBook, provider: str, model: str, usage: Usage) -> int | None:
    """Nano-USD for the app's own token counts, priced for another model (cache reads ignored)."""
    plain = Usage(
        input_tokens=usage.input_tokens
        + (0 if usage.input_includes_cached is not False else usage.cached_input_tokens),
        output_tokens=usage.output_tokens,
    )
    result = book.cost(provider=provider, model=model, ts=datetime.now(UTC), usage=plain)
    return result.nano_usd if result is not None else None


def expected_judge_cost(book: PriceBook, provider: str, model: str, usage: Usage) -> int | None:
    """Two judge calls, each reading the prompt and both answers."""
    one = Usage(
        input_tokens=usage.input_tokens + 2 * usage.output_tokens + JUDGE_OVERHEAD_TOKENS,
        output_tokens=JUDGE_EXPECTED_OUTPUT,
    )
    result = book.cost(provider=provider, model=model, ts=datetime.now(UTC), usage=one)
    return 2 * result.nano_usd if result is not None else None


def current_cost(book: PriceBook, provider: str, model: str, usage: Usage) -> int | None:
    """The app's own call at today's price (so baseline and candidate costs compare like with like)."""
    result = book.cost(provider=provider, model=model, ts=datetime.now(UTC), usage=usage)
    return result.nano_usd if result is not None else None


def is_priced(book: PriceBook, provider: str, model: str) -> bool:
    return (
        book.cost(
            provider=provider, model=model, ts=datetime.now(UTC), usage=Usage(input_tokens=1, output_tokens=1)
        )
        is not None
    )
