"""Every source of usage → one `Usage` record (apps.pricing.cost), with no arithmetic on the counts.

The counts are copied as they were reported; what they mean is said by the record's flags where
the shape itself says it (an Anthropic Messages `usage` never includes the cache in
`input_tokens`), else by the rule of the model's provider in the price book (an OpenAI-compatible
`completion_tokens` includes reasoning at OpenAI and not at xAI). The SDK fills its events the
same way (docs/protocol.md), and the OTLP mapping (`from_otel`) reads span attributes into it.

Formats:
- `openai_chat`       Chat Completions `usage` (also every OpenAI-compatible host: xAI, DeepSeek,
                      Mistral, Groq, Together, OpenRouter, vLLM); input includes cached tokens
- `openai_responses`  Responses API `usage`; input includes cached, output includes reasoning
- `anthropic`         Messages API `usage` (cache_creation with ephemeral_5m / ephemeral_1h,
                      `service_tier`); input excludes cache reads and writes
- `gemini`            `usageMetadata` (camelCase REST or snake_case SDK names); the prompt
                      includes cached tokens, candidates exclude thoughts
- `switchyard`        the telemetry event's own field names (docs/protocol.md)

A call already stored reads back with `from_call` (the llm_calls columns, apps.warehouse.calls).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from apps.core.errors import ApplicationError
from apps.pricing.cost import Usage
from apps.warehouse.calls import usage_fields

FORMATS = ("switchyard", "openai_chat", "openai_responses", "anthropic", "gemini")

# What providers call their service tiers, as Switchyard's tiers (priced at that tier's price).
# OpenAI: auto / default / flex / scale / priority; Anthropic: standard / priority / batch.
TIER_NAMES: dict[str, str] = {
    "": "standard",
    "standard": "standard",
    "default": "standard",
    "auto": "standard",
    "scale": "standard",
    "on_demand": "standard",
    "batch": "batch",
    "flex": "flex",
    "priority": "priority",
}


def normalize_tier(value: object) -> str | None:
    """A reported service tier as standard / batch / flex / priority; None when it is not one."""
    if value is None:
        return "standard"
    if not isinstance(value, str):
        return None
    return TIER_NAMES.get(value.strip().lower())


def _int(payload: Mapping[str, Any], *names: str, where: str = "") -> int:
    for name in names:
        value = payload.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApplicationError(
                f"usage.{where}{name}: must be a whole number, got {value!r}", field=f"usage.{where}{name}"
            )
        if value < 0:
            raise ApplicationError(f"usage.{where}{name}: must be >= 0", field=f"usage.{where}{name}")
        return value
    return 0


def _obj(payload: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = payload.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ApplicationError(f"usage.{name}: must be an object", field=f"usage.{name}")
    return value


def _flag(u: Mapping[str, Any], name: str) -> bool | None:
    value = u.get(name)
    if value is not None and not isinstance(value, bool):
        raise ApplicationError(f"usage.{name}: must be true, false or null", field=f"usage.{name}")
    return value


def _tier(u: Mapping[str, Any], name: str = "service_tier") -> str:
    tier = normalize_tier(u.get(name))
    if tier is None:
        raise ApplicationError(
            f"usage.{name}: must be standard, batch, flex or priority, got {u.get(name)!r}",
            field=f"usage.{name}",
        )
    return tier


def from_switchyard(u: Mapping[str, Any]) -> Usage:
    return Usage(
        input_tokens=_int(u, "input_tokens"),
        output_tokens=_int(u, "output_tokens"),
        cached_input_tokens=_int(u, "cached_input_tokens"),
        cache_write_tokens=_int(u, "cache_write_tokens"),
        cache_write_1h_tokens=_int(u, "cache_write_1h_tokens"),
        reasoning_tokens=_int(u, "reasoning_tokens"),
        input_includes_cached=_flag(u, "input_includes_cached"),
        output_includes_reasoning=_flag(u, "output_includes_reasoning"),
        images=_int(u, "images"),
        service_tier=_tier(u) if u.get("service_tier") is not None else "",
    )


def from_openai_chat(u: Mapping[str, Any]) -> Usage:
    prompt = _obj(u, "prompt_tokens_details")
    completion = _obj(u, "completion_tokens_details")
    return Usage(
        input_tokens=_int(u, "prompt_tokens"),
        output_tokens=_int(u, "completion_tokens"),
        # DeepSeek's older responses report cache hits only at the top level.
        cached_input_tokens=_int(prompt, "cached_tokens", where="prompt_tokens_details.")
        or _int(u, "prompt_cache_hit_tokens"),
        # OpenAI-compatible hosts that write caches (OpenRouter) report them here.
        cache_write_tokens=_int(prompt, "cache_write_tokens", where="prompt_tokens_details."),
        reasoning_tokens=_int(completion, "reasoning_tokens", where="completion_tokens_details."),
        input_includes_cached=True,
    )


def from_openai_responses(u: Mapping[str, Any]) -> Usage:
    details = _obj(u, "input_tokens_details")
    return Usage(
        input_tokens=_int(u, "input_tokens"),
        output_tokens=_int(u, "output_tokens"),
        cached_input_tokens=_int(details, "cached_tokens", where="input_tokens_details."),
        cache_write_tokens=_int(details, "cache_write_tokens", where="input_tokens_details."),
        reasoning_tokens=_int(
            _obj(u, "output_tokens_details"), "reasoning_tokens", where="output_tokens_details."
        ),
        input_includes_cached=True,
        output_includes_reasoning=True,
    )


def from_anthropic(u: Mapping[str, Any]) -> Usage:
    creation = _obj(u, "cache_creation")
    total = _int(u, "cache_creation_input_tokens")
    write_1h = 0
    if creation:  # the TTL breakdown; older responses have only the total (5-minute writes)
        write_5m = _int(creation, "ephemeral_5m_input_tokens", where="cache_creation.")
        write_1h = _int(creation, "ephemeral_1h_input_tokens", where="cache_creation.")
        total = max(total, write_5m + write_1h)
    return Usage(
        input_tokens=_int(u, "input_tokens"),
        output_tokens=_int(u, "output_tokens"),
        cached_input_tokens=_int(u, "cache_read_input_tokens"),
        cache_write_tokens=total,
        cache_write_1h_tokens=write_1h,
        input_includes_cached=False,
        output_includes_reasoning=True,
        service_tier=_tier(u),
    )


def from_gemini(u: Mapping[str, Any]) -> Usage:
    # toolUsePromptTokenCount (tool results fed back to the model) is billed as input but
    # reported beside promptTokenCount; it is the one count folded into another field.
    return Usage(
        input_tokens=_int(u, "promptTokenCount", "prompt_token_count")
        + _int(u, "toolUsePromptTokenCount", "tool_use_prompt_token_count"),
        output_tokens=_int(u, "candidatesTokenCount", "candidates_token_count"),
        cached_input_tokens=_int(u, "cachedContentTokenCount", "cached_content_token_count"),
        reasoning_tokens=_int(u, "thoughtsTokenCount", "thoughts_token_count"),
        input_includes_cached=True,
        output_includes_reasoning=False,
    )


PARSERS: dict[str, Callable[[Mapping[str, Any]], Usage]] = {
    "switchyard": from_switchyard,
    "openai_chat": from_openai_chat,
    "openai_responses": from_openai_responses,
    "anthropic": from_anthropic,
    "gemini": from_gemini,
}


def usage_from_payload(usage_format: str, payload: Mapping[str, Any]) -> Usage:
    """A provider's usage object (in one of FORMATS) as a `Usage`."""
    parser = PARSERS.get(usage_format)
    if parser is None:
        raise ApplicationError(
            f"usage_format: must be one of {', '.join(FORMATS)}, got {usage_format!r}", field="usage_format"
        )
    if not isinstance(payload, Mapping):
        raise ApplicationError("usage: must be an object", field="usage")
    return parser(payload)


# --- OpenTelemetry spans ---------------------------------------------------------------------------

# Attribute names, newest first: the GenAI conventions (current, then older), then OpenLLMetry's.
OTEL_INPUT = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.usage.prompt_tokens")
OTEL_OUTPUT = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.usage.completion_tokens")
OTEL_CACHE_READ = (
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "llm.usage.cache_read_input_tokens",
)
OTEL_CACHE_WRITE = (
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "llm.usage.cache_creation_input_tokens",
)
OTEL_REASONING = (
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.reasoning_tokens",
    "llm.usage.reasoning_tokens",
)
OTEL_TOTAL = ("gen_ai.usage.total_tokens", "llm.usage.total_tokens")
OTEL_TIER = (
    "openai.response.service_tier",
    "gen_ai.openai.response.service_tier",
    "openai.request.service_tier",
    "gen_ai.openai.request.service_tier",
)


def _attr_int(attrs: Mapping[str, Any], names: tuple[str, ...]) -> int | None:
    for name in names:
        value = attrs.get(name)
        if value is None or isinstance(value, bool):
            continue
        try:
            return max(0, int(value))
        except (TypeError, ValueError):
            continue
    return None


def otel_tier(attrs: Mapping[str, Any]) -> str:
    """The tier a span says the call was served at (the response's, else a definite request's)."""
    for name in OTEL_TIER:
        value = attrs.get(name)
        if isinstance(value, str) and value and not (value == "auto" and ".request." in name):
            tier = normalize_tier(value)
            if tier is not None:
                return tier
    return "standard"


def from_otel(attrs: Mapping[str, Any]) -> Usage:
    """A GenAI span's usage.

    The current conventions count the whole prompt in `gen_ai.usage.input_tokens` (cache reads and
    writes included) and reasoning in `gen_ai.usage.output_tokens`, for every provider; OpenLLMetry
    does the same (its Anthropic input is input + cache read + cache creation). Older conventions
    had no cache or reasoning attributes, so their counts mean the same. One exception is read from
    the numbers: an instrumentation that reports no reasoning count but a total above input +
    output (OpenLLMetry's Gemini: `candidates_token_count` without the thoughts, which only the
    total carries) left reasoning out of the output; the difference is its reasoning. Likewise a
    total of input + output + reasoning says the output was counted without the reasoning (the
    provider's own counts copied, as OpenLLMetry does for xAI).
    """
    input_tokens = _attr_int(attrs, OTEL_INPUT) or 0
    output_tokens = _attr_int(attrs, OTEL_OUTPUT) or 0
    reasoning = _attr_int(attrs, OTEL_REASONING)
    total = _attr_int(attrs, OTEL_TOTAL)
    includes_reasoning = True
    if reasoning is None:
        reasoning = 0
        if total is not None and total > input_tokens + output_tokens:
            reasoning = total - input_tokens - output_tokens
            includes_reasoning = False
    elif reasoning and total is not None and total == input_tokens + output_tokens + reasoning:
        includes_reasoning = False  # the provider's own counts copied (xAI's completion_tokens exclude it)
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=_attr_int(attrs, OTEL_CACHE_READ) or 0,
        cache_write_tokens=_attr_int(attrs, OTEL_CACHE_WRITE) or 0,
        reasoning_tokens=reasoning,
        input_includes_cached=True,
        output_includes_reasoning=includes_reasoning,
        service_tier=otel_tier(attrs),
    )


def from_call(row: Mapping[str, Any]) -> Usage:
    """A stored call's usage (a row of llm_calls), read exactly as ingest read the event."""
    return Usage(**usage_fields(row))
