"""Providers' own rules that the detectors price by, and the change each finding asks for.

Prompt caching (as each provider documents it, read 2026-11-22):

- **OpenAI**: automatic for prompts of 1,024 tokens or more, in 128-token steps; a prefix stays in
  memory 5–10 minutes of inactivity, and `prompt_cache_retention="24h"` keeps it a day on GPT-5.x
  and GPT-4.1. Writes cost the normal input price; reads the cached price.
  https://platform.openai.com/docs/guides/prompt-caching
- **Anthropic**: explicit `cache_control` breakpoints; at least 1,024 tokens (4,096 on Opus 4.5+ and
  Haiku 4.5+, 2,048 on Haiku 3.x); a 5-minute entry (write 1.25 × input) refreshed on every hit, or a
  1-hour one (`"ttl": "1h"`, write 2 × input); reads 0.1 × input. Writes and reads are priced from
  the catalogue's own cache_write / cache_write_1h / cached_input prices.
  https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching
- **Google Gemini**: implicit caching on 2.5 and later models for prompts of 1,024 tokens (Flash) or
  2,048 (Pro) or more that share a prefix, a few minutes; explicit context caching adds a storage
  charge per hour the catalogue does not hold, so only implicit caching is priced.
  https://ai.google.dev/gemini-api/docs/caching
- **Others** with a cached price (DeepSeek, xAI, Groq, Mistral, …): automatic prefix caching,
  1,024 tokens, 5 minutes, writes at the input price.

A model caches only if the catalogue prices its cached input below its input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from apps.opportunities.models import Kind


@dataclass(frozen=True)
class Lifetime:
    name: str  # shown: "5-minute", "1-hour", "24-hour"
    seconds: int
    write: str  # the price a write is billed at: "input", "cache_write" or "cache_write_1h"


@dataclass(frozen=True)
class CacheRule:
    min_tokens: int
    lifetimes: tuple[Lifetime, ...]


FIVE_MIN_FREE = Lifetime("5-minute", 300, "input")
_OPENAI_24H = re.compile(r"^(gpt-5|gpt-4\.1)", re.I)
_ANTHROPIC_4096 = re.compile(r"(opus-4-[5-9]|opus-[5-9]|haiku-4-5|haiku-[5-9])", re.I)
_ANTHROPIC_2048 = re.compile(r"haiku-3", re.I)
_GEMINI_PRO = re.compile(r"pro", re.I)


def cache_rule(provider: str, model: str) -> CacheRule:
    if provider == "openai":
        extended = (Lifetime("24-hour", 86_400, "input"),) if _OPENAI_24H.match(model) else ()
        return CacheRule(1024, (FIVE_MIN_FREE, *extended))
    if provider in ("anthropic", "bedrock"):
        minimum = 4096 if _ANTHROPIC_4096.search(model) else 2048 if _ANTHROPIC_2048.search(model) else 1024
        return CacheRule(
            minimum, (Lifetime("5-minute", 300, "cache_write"), Lifetime("1-hour", 3600, "cache_write_1h"))
        )
    if provider in ("google", "vertex_ai"):
        return CacheRule(2048 if _GEMINI_PRO.search(model) else 1024, (FIVE_MIN_FREE,))
    return CacheRule(1024, (FIVE_MIN_FREE,))


@dataclass(frozen=True)
class Change:
    """The exact change a finding asks for: a headline, steps, and a snippet to paste."""

    title: str
    steps: tuple[str, ...]
    snippet: str = ""

    def as_json(self) -> dict[str, object]:
        return {"title": self.title, "steps": list(self.steps), "snippet": self.snippet}


def caching_change(provider: str, model: str, lifetime: Lifetime, prefix_tokens: int) -> Change:
    size = f"the first ≈{prefix_tokens:,} tokens"
    if provider in ("anthropic", "bedrock"):
        ttl = ', "ttl": "1h"' if lifetime.seconds == 3600 else ""
        return Change(
            f"Cache the stable prefix with a cache_control breakpoint ({lifetime.name} lifetime)",
            (
                f"Put what repeats ({size}: tools, system prompt, examples, documents) first, in the "
                "same order on every call, and everything that varies after it.",
                f'Mark the last block of that prefix with cache_control {{"type": "ephemeral"{ttl}}}.',
                "Check usage.cache_read_input_tokens rises on the calls that follow.",
            ),
            'system=[{"type": "text", "text": STABLE_PROMPT,\n'
            f'         "cache_control": {{"type": "ephemeral"{ttl}}}}}]',
        )
    if provider in ("google", "vertex_ai"):
        return Change(
            "Let Gemini's implicit cache hit: the shared prefix first, similar requests close together",
            (
                f"Send what repeats ({size}) at the start of contents (system_instruction first), "
                "byte-for-byte the same, and the varying question last.",
                "For a large fixed context reused for hours, create a CachedContent with a TTL instead "
                "(its storage is billed per hour).",
                "Check usage_metadata.cached_content_token_count rises.",
            ),
        )
    if provider == "openai":
        retention = lifetime.seconds > 300
        return Change(
            "Keep the stable prefix first so OpenAI's automatic cache hits"
            + (" and keep it for 24 hours" if retention else ""),
            (
                f"Put what repeats ({size}) at the very start of the messages, identical on every call; "
                "move timestamps, user names and other varying text after it.",
                "Pass the same prompt_cache_key for calls that share the prefix, so they reach the same cache.",
                *(
                    ('Set prompt_cache_retention="24h": repeats here come more than 5–10 minutes apart.',)
                    if retention
                    else ()
                ),
                "Check usage.prompt_tokens_details.cached_tokens rises.",
            ),
            "client.chat.completions.create(model=..., messages=[STABLE_SYSTEM, *varying],\n"
            '    prompt_cache_key="<endpoint>"'
            + (', prompt_cache_retention="24h"' if retention else "")
            + ")",
        )
    return Change(
        "Keep the stable prefix first so the provider's prefix cache hits",
        (f"Put what repeats ({size}) first, identical on every call, and the varying text after it.",),
    )


TIER_STEPS = {
    "openai": (
        "Send these calls through the Batch API (a JSONL file of requests, results within 24 hours) — or, "
        'when an answer is needed in minutes, pass service_tier="flex" on the same call (slower, may queue).',
        "Record batch results with switchyard.record_batch(results) so they are priced at the batch tier.",
    ),
    "anthropic": (
        "Send these calls through the Message Batches API (client.messages.batches.create), results "
        "within 24 hours (most within an hour).",
        "Record the results with switchyard.record_batch(client.messages.batches.results(id)).",
    ),
    "google": (
        "Send these calls through Gemini's Batch Mode (client.batches.create), or flex where offered.",
    ),
}


def tier_change(providers: list[str], tier: str) -> Change:
    steps: list[str] = []
    for provider in providers:
        steps.extend(TIER_STEPS.get(provider, (f"Use {provider}'s {tier} tier for these calls.",)))
    return Change(
        f"Move this endpoint's calls to the {tier} tier of the same model"
        + (" (Batch API)" if tier == "batch" else ""),
        (*steps, "Keep user-facing calls where they are: only latency-insensitive work belongs here."),
    )


TITLES = {
    Kind.CACHING: "Prompt caching",
    Kind.TIER: "Batch or flex tier",
    Kind.OUTPUT: "Output waste",
    Kind.CONTEXT: "Context growth",
    Kind.MODEL: "Superseded model",
}
