"""LiteLLM's current price file (from the litellm 1.110.2 wheel) imports whole and costs as LiteLLM does.

`tests/pricing/data/litellm_prices.json.gz` is the wheel's model_prices_and_context_window.json and
`litellm_costs.json.gz` what `litellm.cost_per_token` charged for usages of every chat, responses
and completion model priced per token (tools/litellm_reference.py made both).
"""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from apps.pricing.book import PriceBook
from apps.pricing.catalogue import prices_import
from apps.pricing.cost import Usage
from apps.pricing.models import LlmModel
from apps.pricing.price_file import parse_price_file
from apps.pricing.price_file_litellm import LITELLM_PROVIDERS
from apps.pricing.selectors import price_book_load

DATA = Path(__file__).parent / "data"
CHAT = {"chat", "responses", "completion"}
STEP = re.compile(r"^input_cost_per_token_above_(\d+)k_tokens$")
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _gz(name: str) -> str:
    with gzip.open(DATA / name, "rt", encoding="utf-8") as f:
        return f.read()


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_gz("litellm_prices.json.gz"))
    return data


@pytest.fixture
def book(db: None) -> PriceBook:
    prices_import(parse_price_file(_gz("litellm_prices.json.gz"), format="litellm"), recompute=False)
    return price_book_load(organization_id=None)


def _call(key: str, entry: dict[str, Any]) -> tuple[str, str]:
    """(provider, model) as an app reports a call LiteLLM names `key`: its provider, the name without it."""
    litellm_provider = entry["litellm_provider"]
    model = key[len(litellm_provider) + 1 :] if key.startswith(f"{litellm_provider}/") else key
    return LITELLM_PROVIDERS.get(litellm_provider, litellm_provider), model


def _per_token(entry: dict[str, Any]) -> bool:
    if entry.get("input_cost_per_token") is not None and entry.get("output_cost_per_token") is not None:
        return True
    steps = entry.get("tiered_pricing") or []
    return any(s.get("input_cost_per_token") is not None for s in steps if isinstance(s, dict))


def test_every_chat_model_priced_per_token_is_kept_and_resolves(book: PriceBook, raw: dict[str, Any]) -> None:
    chat = {k: v for k, v in raw.items() if isinstance(v, dict) and v.get("mode") in CHAT and _per_token(v)}
    assert len(chat) > 3000
    lost = [key for key, entry in chat.items() if book.resolve(*_call(key, entry)) is None]
    assert lost == []
    # A key LiteLLM lists twice is one model (one row, both names resolve to it).
    assert book.resolve("vertex_ai", "gemini-3.5-flash") == book.resolve("", "vertex_ai/gemini-3.5-flash")


def test_alias_of_entries_become_aliases_of_their_model(book: PriceBook, raw: dict[str, Any]) -> None:
    aliases = {k: v["alias_of"] for k, v in raw.items() if isinstance(v, dict) and "alias_of" in v}
    assert len(aliases) > 50
    unresolved = []
    for key, target in aliases.items():
        entry = raw.get(target, {})
        if entry.get("mode") not in CHAT or not _per_token(entry):
            continue  # an alias of an image or audio model
        provider, _ = _call(target, entry)
        want = book.resolve(*_call(target, entry))
        alias = key[len(provider) + 1 :] if key.startswith(f"{provider}/") else key
        if want is None or book.resolve(provider, alias) != want:
            unresolved.append(key)
    assert unresolved == [], [(k, aliases[k]) for k in unresolved]
    opus = LlmModel.objects.get(pk=book.resolve("", "bedrock/claude-opus-latest").model_id)  # type: ignore[union-attr]
    assert "claude-opus-latest" in opus.aliases


def _second_step(entry: dict[str, Any]) -> int | None:
    """Where an entry's second long-context step starts (the engine prices the first one only)."""
    starts = sorted({int(m.group(1)) * 1000 for k in entry if (m := STEP.match(k))})
    return starts[1] if len(starts) > 1 else None


def test_costs_match_litellms_own_arithmetic(book: PriceBook, raw: dict[str, Any]) -> None:
    reference = json.loads(_gz("litellm_costs.json.gz"))
    assert reference["meta"]["litellm"] == "1.110.2"
    differ = []
    beyond = 0
    for case in reference["costs"]:
        second = _second_step(raw[case["key"]])
        if second is not None and case["prompt_tokens"] > second:
            beyond += 1  # README: one long-context step
            continue
        provider, model = _call(case["key"], raw[case["key"]])
        usage = Usage(
            input_tokens=case["prompt_tokens"],
            output_tokens=case["completion_tokens"],
            service_tier=case["service_tier"],
        )
        result = book.cost(provider=provider, model=model, ts=NOW, usage=usage)
        theirs = Decimal(case["usd"]).scaleb(9)  # LiteLLM's float, in nano-USD
        # cost_per_token leaves out per-request fees (litellm.completion_cost adds them).
        ours = None if result is None else result.nano_usd - result.breakdown["request_fee"]
        if ours is None or abs(ours - theirs) > 1:
            differ.append((case["key"], case["service_tier"], case["prompt_tokens"], ours, theirs))
    assert len(reference["costs"]) > 4000 and beyond < 30
    assert differ == [], "\n".join(map(str, differ))
