"""A sampled call as a replay sends it: the app's own request with a token limit, and (never sent,
read by the `sim` provider only) the app's answer and its recorded tokens in plain terms.
"""

from __future__ import annotations

import dataclasses

from apps.pricing.book import PriceBook
from apps.pricing.cost import Usage
from apps.replay.providers.base import ChatRequest
from apps.replay.sampling import Sample

MAX_OUTPUT_DEFAULT = 16_384


def replay_max_tokens(request: ChatRequest, sample: Sample) -> int:
    """The app's own limit, else room for twice its answer (at least 1,024 tokens)."""
    if request.max_tokens:
        return request.max_tokens
    return min(MAX_OUTPUT_DEFAULT, max(1024, 2 * sample.usage.output_tokens + 256))


def reference_usage(book: PriceBook, provider: str, usage: Usage) -> Usage:
    """The app's call in plain tokens, whatever its provider's reporting rules: the whole prompt
    (cache reads and writes included) and everything it generated (reasoning included)."""
    includes_cached, includes_reasoning = book.rule(provider)
    if usage.input_includes_cached is not None:
        includes_cached = usage.input_includes_cached
    if usage.output_includes_reasoning is not None:
        includes_reasoning = usage.output_includes_reasoning
    # cache_write_tokens counts every write, the 1-hour ones included (docs/protocol.md)
    cache = usage.cached_input_tokens + max(usage.cache_write_tokens, usage.cache_write_1h_tokens)
    return Usage(
        input_tokens=usage.input_tokens + (0 if includes_cached else cache),
        output_tokens=usage.output_tokens + (0 if includes_reasoning else usage.reasoning_tokens),
    )


def replay_request(book: PriceBook, provider: str, sample: Sample) -> ChatRequest:
    """The sampled call as a replay sends it: a token limit, and (never sent, read by `sim` only)
    the app's own answer and its recorded tokens; `provider` is the baseline's."""
    return dataclasses.replace(
        sample.request,
        max_tokens=replay_max_tokens(sample.request, sample),
        reference=sample.baseline,
        reference_usage=reference_usage(book, provider, sample.usage),
    )
