"""Provider usage payloads → `Usage`, field for field, with no arithmetic on token counts.

What a provider's numbers mean (does input include cached tokens? does output include reasoning?)
is decided by the provider's rule in the price book, not here: these functions only copy the
reported counts into the telemetry event's fields, exactly as the SDK does.

Formats:
- `openai_chat`       Chat Completions `usage` (also every OpenAI-compatible host: xAI, DeepSeek,
                      Mistral, Groq, Together, OpenRouter, vLLM)
- `openai_responses`  Responses API `usage`
- `anthropic`         Messages API `usage` (cache_creation with ephemeral_5m / ephemeral_1h)
- `gemini`            `usageMetadata` (camelCase REST or snake_case SDK names)
- `switchyard`        the telemetry event's own field names (docs/protocol.md)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from apps.core.errors import ApplicationError
from apps.pricing.cost import Usage

FORMATS = ("switchyard", "openai_chat", "openai_responses", "anthropic", "gemini")


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


def from_switchyard(u: Mapping[str, Any]) -> Usage:
    includes = u.get("input_includes_cached")
    if includes is not None and not isinstance(includes, bool):
        raise ApplicationError("usage.input_includes_cached: must be true, false or null")
    return Usage(
        input_tokens=_int(u, "input_tokens"),
        output_tokens=_int(u, "output_tokens"),
        cached_input_tokens=_int(u, "cached_input_tokens"),
        cache_write_tokens=_int(u, "cache_write_tokens"),
        cache_write_1h_tokens=_int(u, "cache_write_1h_tokens"),
        reasoning_tokens=_int(u, "reasoning_tokens"),
        input_includes_cached=includes,
        images=_int(u, "images"),
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
    )


def from_openai_responses(u: Mapping[str, Any]) -> Usage:
    return Usage(
        input_tokens=_int(u, "input_tokens"),
        output_tokens=_int(u, "output_tokens"),
        cached_input_tokens=_int(
            _obj(u, "input_tokens_details"), "cached_tokens", where="input_tokens_details."
        ),
        reasoning_tokens=_int(
            _obj(u, "output_tokens_details"), "reasoning_tokens", where="output_tokens_details."
        ),
    )


def from_anthropic(u: Mapping[str, Any]) -> Usage:
    creation = _obj(u, "cache_creation")
    if creation:
        write_5m = _int(creation, "ephemeral_5m_input_tokens", where="cache_creation.")
        write_1h = _int(creation, "ephemeral_1h_input_tokens", where="cache_creation.")
    else:  # older responses: one total, written with the default 5-minute TTL
        write_5m, write_1h = _int(u, "cache_creation_input_tokens"), 0
    return Usage(
        input_tokens=_int(u, "input_tokens"),
        output_tokens=_int(u, "output_tokens"),
        cached_input_tokens=_int(u, "cache_read_input_tokens"),
        cache_write_tokens=write_5m,
        cache_write_1h_tokens=write_1h,
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
