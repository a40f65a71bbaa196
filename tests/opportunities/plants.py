"""A synthetic project with each kind of waste planted at a known dollar value, and a clean endpoint.

Seven days of calls ending at `now`, every day alike, sent through the real ingest path (so the
prefix points, finish reasons and output limits are read from the payloads as for any app). What
each plant wastes is worked out here from the plant's own construction and the seed price file's
list prices (apps/pricing/data/prices.json, read directly: not through the cost engine the
detectors use), as the saving of the change the finding should ask for:

- **kb-answer** (caching): claude-sonnet-4-5, a call every 2 minutes, each with the same 16,000-char
  (4,000-token) system prompt and its own question, nothing cached: every call after the first could
  read the 4,000 tokens at the cached price; the first writes them once at the 5-minute write price.
- **nightly-enrich** (tier): gpt-4.1, 600 calls in 5 minutes every night, not streamed, no user:
  the batch tier costs half.
- **product-copy** (output): claude-haiku-4-5 with max_tokens 1,200; every 20th answer is cut at the
  limit and the same prompt is sent again 30 s later (the cut call is thrown away), every 10th
  answer is 1,000 tokens where the typical one is ≈150 (the tokens above three times the median).
- **support-chat** (context): Llama 3.1 405B on Together (no prompt cache), 50 conversations a day
  of 10 turns, each turn resending the whole history (+800 tokens a turn): keeping 2,000 tokens of
  history saves the rest, less the summaries (the trimmed history read once, 500 tokens written per
  2,000 read).
- **legacy-summary** (model): gpt-4o, superseded by gpt-4.1 in the catalogue (20 % cheaper).
- **clean-faq** (control): gpt-4.1-mini, streamed, for users, a shared 2,000-token system prompt it
  already reads from cache, ordinary answer lengths, no conversations: nothing to find.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import statistics
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

SEED_FILE = Path(__file__).resolve().parents[2] / "apps" / "pricing" / "data" / "prices.json"
DAYS = 7
DAYS_PER_MONTH = 365.25 / 12
WORDS = ("order", "refund", "invoice", "shipping", "account", "delivery", "billing", "upgrade", "warranty",
         "return", "exchange", "address", "payment", "customer", "product", "colour", "size", "stock")  # fmt: skip


@dataclass(frozen=True)
class Plant:
    endpoint: str
    kind: str  # the finding kind that should report it; "" for the clean control
    monthly_usd: float


def list_price(provider: str, model: str, part: str, tier: str = "standard") -> float:
    """USD per token from the seed file's newest row for the model and tier (None parts: input's)."""
    data = json.loads(SEED_FILE.read_text())
    entry = next(m for m in data["models"] if m["provider"] == provider and m["name"] == model)
    rows = sorted((p for p in entry["prices"] if p["tier"] == tier), key=lambda p: p["effective_from"])
    value = rows[-1].get(part) or rows[-1]["input"]
    return float(Decimal(value) / 1_000_000)


def _id(endpoint: str, *parts: object) -> str:
    digest = hashlib.sha256(":".join(map(str, (endpoint, *parts))).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def _text(rng: random.Random, chars: int) -> str:
    out = []
    while sum(len(w) + 1 for w in out) < chars:
        out.append(rng.choice(WORDS))
    return " ".join(out)[:chars]


def _event(
    endpoint: str, key: object, ts: datetime, provider: str, model: str, **fields: Any
) -> dict[str, Any]:
    return {"event_id": _id(endpoint, key), "ts": _ms(ts), "endpoint": endpoint, "provider": provider,
            "model": model, "latency_ms": 900, "status": "ok", **fields}  # fmt: skip


SYSTEM_KB = ("Acme Cloud knowledge base. " + "Articles on billing, plans, security and data export. " * 400)[
    :16_000
]


def kb_answer(since: datetime) -> tuple[list[dict[str, Any]], Plant]:
    rng = random.Random(1)
    events = []
    calls = DAYS * 720
    for i in range(calls):
        question = f"Question {i}: " + _text(rng, 400)
        events.append(_event(
            "kb-answer", i, since + timedelta(seconds=i * 120 + 7), "anthropic", "claude-sonnet-4-5",
            input_tokens=(len(SYSTEM_KB) + len(question)) // 4, output_tokens=200, user_id=f"u{i % 300}",
            request={"model": "claude-sonnet-4-5", "system": SYSTEM_KB, "max_tokens": 400,
                     "messages": [{"role": "user", "content": question}]},
            response={"stop_reason": "end_turn", "content": [{"type": "text", "text": "See article 12."}]},
        ))  # fmt: skip
    p = ("anthropic", "claude-sonnet-4-5")
    prefix = len(SYSTEM_KB) // 4
    saved = (calls - 1) * prefix * (list_price(*p, "input") - list_price(*p, "cached_input"))
    saved -= prefix * (list_price(*p, "cache_write") - list_price(*p, "input"))
    return events, Plant("kb-answer", "caching", saved / DAYS * DAYS_PER_MONTH)


def nightly_enrich(since: datetime) -> tuple[list[dict[str, Any]], Plant]:
    rng = random.Random(2)
    events = []
    for day in range(DAYS):
        start = since + timedelta(days=day, hours=2)
        for j in range(600):
            record = _text(rng, 600)
            events.append(_event(
                "nightly-enrich", (day, j), start + timedelta(milliseconds=j * 500), "openai", "gpt-4.1",
                input_tokens=1500, output_tokens=300, latency_ms=14_000,
                request={"model": "gpt-4.1", "messages": [{"role": "system", "content": "Enrich the record."},
                                                           {"role": "user", "content": record}]},
                response={"choices": [{"finish_reason": "stop", "message": {"content": "{}"}}]},
            ))  # fmt: skip
    p = ("openai", "gpt-4.1")
    per_call = 1500 * (list_price(*p, "input") - list_price(*p, "input", "batch"))
    per_call += 300 * (list_price(*p, "output") - list_price(*p, "output", "batch"))
    return events, Plant("nightly-enrich", "tier", per_call * 600 * DAYS_PER_MONTH)


def product_copy(since: datetime) -> tuple[list[dict[str, Any]], Plant]:
    rng = random.Random(3)
    events = []
    cut = 0
    complete: list[int] = []
    long_answers: list[int] = []
    calls = DAYS * 288
    for i in range(calls):
        ts = since + timedelta(seconds=i * 300 + 11)
        request = {"model": "claude-haiku-4-5", "system": "Write product copy.", "max_tokens": 1200,
                   "messages": [{"role": "user", "content": f"Product {i}: " + _text(rng, 300)}]}  # fmt: skip
        if i % 20 == 7:
            out, reason = 1200, "max_tokens"
            cut += 1
            events.append(_event("product-copy", (i, "retry"), ts + timedelta(seconds=30), "anthropic",
                                 "claude-haiku-4-5", input_tokens=800, output_tokens=400, request=request,
                                 response={"stop_reason": "end_turn"}))  # fmt: skip
            complete.append(400)
        elif i % 10 == 3:
            out, reason = 1000, "end_turn"
            long_answers.append(out)
        else:
            out, reason = 140 + i % 21, "end_turn"
        if reason == "end_turn":
            complete.append(out)
        events.append(_event("product-copy", i, ts, "anthropic", "claude-haiku-4-5", input_tokens=800,
                             output_tokens=out, request=request, response={"stop_reason": reason}))  # fmt: skip
    p = ("anthropic", "claude-haiku-4-5")
    cap = 3 * statistics.median_high(complete)
    wasted = cut * (800 * list_price(*p, "input") + 1200 * list_price(*p, "output"))
    wasted += sum(n - cap for n in long_answers) * list_price(*p, "output")
    return events, Plant("product-copy", "output", wasted / DAYS * DAYS_PER_MONTH)


def support_chat(since: datetime) -> tuple[list[dict[str, Any]], Plant]:
    provider, model = "together", "meta-llama/Llama-3.1-405B-Instruct"
    events = []
    budget, turns, first, step = 2000, 10, 500, 800
    for day in range(DAYS):
        for j in range(50):
            start = since + timedelta(days=day, seconds=j * 1728 + 5)
            messages = [{"role": "system", "content": "You are Acme's support assistant."}]
            for k in range(turns):
                messages = [
                    *messages,
                    {"role": "user", "content": f"Turn {k} of {day}-{j}: my order is late."},
                ]
                events.append(_event(
                    "support-chat", (day, j, k), start + timedelta(seconds=120 * k), provider, model,
                    input_tokens=first + k * step, output_tokens=600, ttft_ms=300, user_id=f"c{j}",
                    conversation_id=f"chat-{day}-{j}", request={"model": model, "messages": messages, "stream": True},
                    response={"finish_reason": "stop", "output_text": "Let me check that for you."},
                ))  # fmt: skip
                messages = [*messages, {"role": "assistant", "content": "Let me check that for you."}]
    trimmed = sum(max(0, k * step - budget) for k in range(turns))
    summary_in = (turns - 1) * step - budget
    per_conversation = (trimmed - summary_in) * list_price(provider, model, "input")
    per_conversation -= math.ceil(summary_in / budget) * budget / 4 * list_price(provider, model, "output")
    return events, Plant("support-chat", "context", per_conversation * 50 * DAYS_PER_MONTH)


def legacy_summary(since: datetime) -> tuple[list[dict[str, Any]], Plant]:
    rng = random.Random(5)
    events = []
    for i in range(DAYS * 480):
        events.append(_event(
            "legacy-summary", i, since + timedelta(seconds=i * 180 + 13), "openai", "gpt-4o", input_tokens=1200,
            output_tokens=300, ttft_ms=400, user_id=f"u{i % 90}",
            request={"model": "gpt-4o", "stream": True, "messages": [
                {"role": "system", "content": "Summarise the notes."}, {"role": "user", "content": _text(rng, 900)}]},
            response={"finish_reason": "stop", "output_text": "Summary."},
        ))  # fmt: skip
    old, new = ("openai", "gpt-4o"), ("openai", "gpt-4.1")
    per_call = 1200 * (list_price(*old, "input") - list_price(*new, "input"))
    per_call += 300 * (list_price(*old, "output") - list_price(*new, "output"))
    return events, Plant("legacy-summary", "model", per_call * 480 * DAYS_PER_MONTH)


SYSTEM_FAQ = ("You answer questions about Acme Cloud. Policies: " + "Be precise and kind. " * 400)[:8_000]


def clean_faq(since: datetime) -> tuple[list[dict[str, Any]], Plant]:
    rng = random.Random(6)
    events = []
    for i in range(DAYS * 1440):
        question = _text(rng, 400)
        events.append(_event(
            "clean-faq", i, since + timedelta(seconds=i * 60 + rng.randrange(0, 40)), "openai", "gpt-4.1-mini",
            input_tokens=(len(SYSTEM_FAQ) + len(question)) // 4, cached_input_tokens=0 if i == 0 else 2000,
            output_tokens=max(20, round(180 * math.exp(rng.gauss(0, 0.3)))), ttft_ms=250, user_id=f"u{i % 700}",
            request={"model": "gpt-4.1-mini", "stream": True, "max_tokens": 1024, "messages": [
                {"role": "system", "content": SYSTEM_FAQ}, {"role": "user", "content": question}]},
            response={"finish_reason": "stop", "output_text": "Here is how."},
        ))  # fmt: skip
    return events, Plant("clean-faq", "", 0.0)


PLANTS = (kb_answer, nightly_enrich, product_copy, support_chat, legacy_summary, clean_faq)


def planted_project(now: datetime) -> tuple[list[dict[str, Any]], list[Plant]]:
    """Every plant's events (in time order) over the DAYS days before `now`, and the plants."""
    since = now - timedelta(days=DAYS)
    events: list[dict[str, Any]] = []
    plants = []
    for make in PLANTS:
        made, plant = make(since)
        events.extend(e for e in made if e["ts"] < _ms(now))
        plants.append(plant)
    events.sort(key=lambda e: e["ts"])
    return events, plants


def batches(events: list[dict[str, Any]], size: int = 5000) -> Iterator[list[bytes]]:
    for start in range(0, len(events), size):
        yield [json.dumps(e).encode() for e in events[start : start + size]]
