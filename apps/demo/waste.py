"""Demo endpoints that waste money the way real apps do, so the Opportunities page has findings
with believable numbers (apps.opportunities). Each hour's calls depend only on the seed and the
hour, as the rest of the demo's traffic does (apps.demo.traffic):

- **kb-search**: Claude Sonnet answering from a long, fixed knowledge-base prompt (≈6k tokens) with no
  `cache_control`: prompt caching would serve most of it.
- **nightly-enrichment**: GPT-4.1 enriching the catalogue in a burst at 02:00 UTC, not streamed, no
  end user: the Batch API costs half.
- **product-descriptions**: Claude Haiku with max_tokens 1024; some answers hit the limit and are asked
  again with the same prompt, some ramble at five times the usual length.
- **support-chat**: Claude Sonnet conversations of 5–14 turns that resend the whole history (answers and
  the order details looked up) each turn.

The demo's `draft-email` and part of `summarise-thread` run on gpt-4o, which the catalogue marks
superseded by gpt-4.1: that finding comes from the existing traffic.
"""

from __future__ import annotations

import hashlib
import math
import random
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

ENDPOINTS = ("kb-search", "nightly-enrichment", "product-descriptions", "support-chat")
KB_PROMPT = (
    "You are Acme Cloud's help assistant. Answer only from the articles below and cite the article id.\n"
    + "\n".join(
        f"[kb-{n:03d}] {topic}: steps, limits and plan differences are described in the admin guide."
        for n, topic in enumerate(
            ("Password reset", "SSO with Okta", "SAML setup", "Billing cycles", "Refund policy", "Data export",
             "API rate limits", "Webhooks", "Audit log", "EU data residency", "Seat management", "Invoices",
             "Usage alerts", "Sandbox projects", "Deleting an account", "Two-factor authentication") * 2
        )
    )
)  # fmt: skip
QUESTIONS = ("How do I reset my password?", "Can we use Okta for SSO?", "Where is the audit log?",
             "How do refunds work?", "Can I export all my data?", "What are the API rate limits?",
             "How do I add seats?", "Is our data kept in the EU?")  # fmt: skip
PRODUCTS = ("linen shirt", "oak side table", "wool throw", "ceramic mug", "trail runner", "desk lamp")
TOPICS = ("a late parcel", "a double charge", "changing plan", "an API error", "adding a teammate")


def _id(seed: int, hour: int, endpoint: str, index: int) -> str:
    digest = hashlib.sha256(f"switchyard-demo:{seed}:{hour}:{endpoint}:{index}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _lognormal(rng: random.Random, median: float, sigma: float) -> int:
    return max(1, round(median * math.exp(rng.gauss(0.0, sigma))))


def _base(
    seed: int, hour: int, endpoint: str, index: int, ts: datetime, provider: str, model: str
) -> dict[str, Any]:
    return {"event_id": _id(seed, hour, endpoint, index), "ts": int(ts.timestamp() * 1000), "endpoint": endpoint,
            "environment": "production", "provider": provider, "model": model, "status": "ok"}  # fmt: skip


def _kb(rng: random.Random, seed: int, hour: int, start: datetime, count: int) -> Iterator[dict[str, Any]]:
    for i in range(count):
        question = f"{rng.choice(QUESTIONS)} (ticket {rng.randrange(10_000, 99_999)})"
        output = _lognormal(rng, 220, 0.3)
        latency = round(900 + 14 * output * math.exp(rng.gauss(0, 0.2)))
        yield _base(seed, hour, "kb-search", i, start + timedelta(milliseconds=rng.randrange(3_600_000)),
                    "anthropic", "claude-sonnet-4-5") | {
            "input_tokens": _lognormal(rng, 6_300, 0.05), "output_tokens": output, "latency_ms": latency,
            "ttft_ms": round(latency * 0.12), "user_id": f"user-{rng.randrange(1, 1500):04d}",
            "request": {"model": "claude-sonnet-4-5", "system": KB_PROMPT, "max_tokens": 800, "stream": True,
                        "messages": [{"role": "user", "content": question}]},
            "response": {"stop_reason": "end_turn", "output_text": "See [kb-004]: refunds reach your card in 5–10 days."},
        }  # fmt: skip


def _nightly(
    rng: random.Random, seed: int, hour: int, start: datetime, count: int
) -> Iterator[dict[str, Any]]:
    for i in range(count):
        product = f"{rng.choice(PRODUCTS)} SKU-{rng.randrange(100_000, 999_999)}"
        yield _base(seed, hour, "nightly-enrichment", i, start + timedelta(milliseconds=rng.randrange(480_000)),
                    "openai", "gpt-4.1") | {
            "input_tokens": _lognormal(rng, 1_200, 0.2), "output_tokens": _lognormal(rng, 250, 0.2),
            "latency_ms": round(rng.uniform(4_000, 9_000)),
            "request": {"model": "gpt-4.1", "response_format": {"type": "json_object"}, "messages": [
                {"role": "system", "content": "Enrich the product record: category, colour, material, as JSON."},
                {"role": "user", "content": product}]},
            "response": {"choices": [{"finish_reason": "stop", "message": {"content": '{"category": "home"}'}}]},
        }  # fmt: skip


def _descriptions(
    rng: random.Random, seed: int, hour: int, start: datetime, count: int
) -> Iterator[dict[str, Any]]:
    for i in range(count):
        ts = start + timedelta(milliseconds=rng.randrange(3_600_000))
        request = {
            "model": "claude-haiku-4-5",
            "max_tokens": 1024,
            "system": "Write a product description.",
            "messages": [{"role": "user", "content": f"{rng.choice(PRODUCTS)}, id {rng.randrange(10**6)}"}],
        }
        roll = rng.random()
        if roll < 0.06:  # cut at the limit
            output, reason = 1024, "max_tokens"
        elif roll < 0.15:  # rambling
            output, reason = _lognormal(rng, 900, 0.08), "end_turn"
        else:
            output, reason = _lognormal(rng, 180, 0.25), "end_turn"
        common = {"input_tokens": _lognormal(rng, 420, 0.15), "user_id": f"user-{rng.randrange(1, 1500):04d}",
                  "request": request}  # fmt: skip
        yield (
            _base(seed, hour, "product-descriptions", i, ts, "anthropic", "claude-haiku-4-5")
            | common
            | {
                "output_tokens": output,
                "latency_ms": round(500 + 6 * output),
                "response": {"stop_reason": reason},
            }
        )
        if reason == "max_tokens":  # cut off: the app asks again with the same prompt
            retry = ts + timedelta(seconds=rng.uniform(15, 60))
            output = _lognormal(rng, 450, 0.1)
            yield _base(seed, hour, "product-descriptions", 100_000 + i, retry, "anthropic", "claude-haiku-4-5") | \
                common | {"output_tokens": output, "latency_ms": round(500 + 6 * output),
                          "response": {"stop_reason": "end_turn"}}  # fmt: skip


def _chat(rng: random.Random, seed: int, hour: int, start: datetime, count: int) -> Iterator[dict[str, Any]]:
    for c in range(count):
        ts = start + timedelta(milliseconds=rng.randrange(3_600_000))
        user = rng.randrange(1, 1500)
        topic = rng.choice(TOPICS)
        messages: list[dict[str, str]] = []
        prompt = _lognormal(rng, 1_100, 0.1)
        for turn in range(rng.randrange(5, 15)):
            messages = [*messages, {"role": "user", "content": f"About {topic}: turn {turn + 1}."}]
            output = _lognormal(rng, 380, 0.25)
            latency = round(700 + 15 * output)
            yield _base(seed, hour, "support-chat", c * 100 + turn, ts, "anthropic", "claude-sonnet-4-5") | {
                "input_tokens": prompt, "output_tokens": output, "latency_ms": latency, "ttft_ms": round(latency * 0.1),
                "user_id": f"user-{user:04d}", "conversation_id": f"chat-{seed}-{hour}-{c}",
                "request": {"model": "claude-sonnet-4-5", "max_tokens": 1024, "stream": True,
                            "system": "You are Acme's support agent. Be warm and precise.", "messages": messages},
                "response": {"stop_reason": "end_turn", "output_text": "Thanks, let me look into that."},
            }  # fmt: skip
            messages = [*messages, {"role": "assistant", "content": "Thanks, let me look into that."}]
            # The answer, the order details the agent looked up and the next question join the history.
            prompt += output + _lognormal(rng, 500, 0.3)
            ts += timedelta(seconds=rng.uniform(60, 240))


Maker = Callable[[random.Random, int, int, datetime, int], Iterator[dict[str, Any]]]


def plan(*, hour_start: datetime, daily: float, shape: float, weekday: float) -> list[tuple[Maker, float]]:
    """This hour's wasteful endpoints and the mean number of calls (or conversations) of each.
    `shape` is the hour's relative volume in office hours, `weekday` the weekend factor."""
    per_hour = daily / 24 * weekday
    nightly = daily * 0.05 if hour_start.hour == 2 else 0.0
    return [
        (_kb, per_hour * 0.03 * shape),
        (_nightly, nightly),
        (_descriptions, per_hour * 0.03 * shape),
        (_chat, per_hour * 0.004 * shape),
    ]
