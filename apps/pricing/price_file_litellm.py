"""LiteLLM's model_prices_and_context_window.json as a price plan (apps.pricing.price_plan).

LiteLLM's file has no dates and one entry per (provider, model name) it routes: a price for each
token kind, tier (`_batches`, `_flex`, `_priority`) and long-context step (`_above_200k_tokens`),
or a `tiered_pricing` list of prompt-size ranges. Every entry with a per-token price is kept:

- `alias_of` entries name another entry: the name becomes an alias of that model;
- two entries naming the same model (`gemini-2.5-pro` under `vertex_ai-language-models` and
  `vertex_ai/gemini-2.5-pro`) are one model: the first entry's prices, the other name an alias;
- `tiered_pricing` becomes the base price and one long-context step (the engine has one; a third
  range is noted in `PricePlan.notes`).

Entries priced otherwise (per second of provisioned throughput, per image, per video second,
per query) are listed in `PricePlan.skipped` with the reason.
"""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from apps.pricing.price_plan import (
    LinedObject,
    ModelSpec,
    PriceFileError,
    PricePlan,
    PriceSpec,
    ProviderSpec,
    checked,
    expect_object,
)
from apps.pricing.validation import clean_model_name, clean_prices, clean_slug

LITELLM_PROVIDERS = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
    "vertex_ai-language-models": "vertex_ai",
    "together_ai": "together",
    "mistral": "mistral",
    "deepseek": "deepseek",
    "xai": "xai",
    "groq": "groq",
    "bedrock": "bedrock",
    "bedrock_converse": "bedrock",
}
# How each provider's API counts tokens: (input includes cached, output includes reasoning).
KNOWN_RULES = {
    "anthropic": (False, True),
    "bedrock": (False, True),
    "vertex_ai-anthropic_models": (False, True),
    "google": (True, False),
    "vertex_ai": (True, False),
    "xai": (True, False),
}
_BASES = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cached_input",
    "input_cost_per_token_cache_hit": "cached_input",
    "cache_creation_input_token_cost": "cache_write",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
    "output_cost_per_reasoning_token": "reasoning",
}
_LITELLM_KEY = re.compile(
    r"^(?P<base>cache_creation_input_token_cost_above_1hr|cache_creation_input_token_cost|cache_read_input_token_cost|"
    r"input_cost_per_token_cache_hit|input_cost_per_token|output_cost_per_token|output_cost_per_reasoning_token)"
    r"(?:_above_(?P<k>\d+)k_tokens)?(?:_(?P<tier>batches|flex|priority))?$"
)
_TIER_NAMES = {None: "standard", "batches": "batch", "flex": "flex", "priority": "priority"}
_MODES = {None, "chat", "completion", "responses", "embedding"}
ATTO = Decimal(1).scaleb(-18)  # one atto-USD: LiteLLM's float-born prices are rounded to it


def _tiered(obj: LinedObject, notes: list[str], key: str) -> dict[str, Any]:
    """`tiered_pricing` ranges as the flat keys LiteLLM uses elsewhere: the first range's prices,
    and the second's as `…_above_<k>k_tokens` (the engine prices one long-context step)."""
    ranges = obj.get("tiered_pricing")
    if not isinstance(ranges, list):
        return {}
    steps = sorted(
        (r for r in ranges if isinstance(r, dict) and isinstance(r.get("range"), list) and r["range"]),
        key=lambda r: Decimal(str(r["range"][0])),
    )
    flat: dict[str, Any] = {}
    for i, step in enumerate(steps[:2]):
        start = int(Decimal(str(step["range"][0])))
        for name, value in step.items():
            if name != "range":
                flat[name if i == 0 else f"{name}_above_{start // 1000}k_tokens"] = value
    if len(steps) > 2:
        notes.append(
            f"{key}: prices above {int(Decimal(str(steps[2]['range'][0]))):,} prompt tokens "
            f"are charged at the {int(Decimal(str(steps[1]['range'][0]))):,}+ step's price"
        )
    return flat


def _why_not(obj: LinedObject) -> str:
    names = " ".join(obj)
    if "per_second" in names:
        return "priced per second (provisioned throughput or media), not per token"
    if obj.get("output_cost_per_token") is not None or obj.get("input_cost_per_token") is not None:
        return "priced per token for only one side (the other per image, audio or video)"
    return "no per-token price"


def _litellm_prices(
    obj: LinedObject, where: str, flat: dict[str, Any] | None = None, notes: list[str] | None = None
) -> list[PriceSpec]:
    by_tier: dict[str, dict[str, Any]] = {}
    steps: dict[str, dict[int, dict[str, Any]]] = {}  # tier → above N tokens → prices
    for key, value in {**obj, **(flat or {})}.items():
        match = _LITELLM_KEY.match(key)
        if match is None:
            continue
        tier = _TIER_NAMES[match["tier"]]
        name = _BASES[match["base"]]
        prices = by_tier.setdefault(tier, {})
        if match["k"]:
            prices = steps.setdefault(tier, {}).setdefault(int(match["k"]) * 1000, {})
            name = f"{name}_long"
        if name in prices and match["base"] == "input_cost_per_token_cache_hit":
            continue  # cache_read_input_token_cost wins
        prices[name] = value
    thresholds: dict[str, set[int]] = {}
    for tier, by_step in steps.items():  # the engine has one long-context step: the first one
        first = min(by_step)
        by_tier.setdefault(tier, {}).update(by_step[first])
        thresholds[tier] = {first}
        if len(by_step) > 1 and notes is not None:
            notes.append(
                f"{where} ({tier}): prompts above {max(by_step):,} tokens are charged at the "
                f"{first:,}+ step's price (one long-context step)"
            )
    standard = by_tier.get("standard", {})
    for (
        tier,
        raw,
    ) in by_tier.items():  # a price a tier does not list is the standard one (as LiteLLM reads it)
        if tier != "standard":
            for name, value in standard.items():
                raw.setdefault(name, value)
            if not thresholds.get(tier) and any(name.endswith("_long") for name in raw):
                thresholds[tier] = set(thresholds.get("standard", ()))
    out: list[PriceSpec] = []
    for tier, raw in by_tier.items():
        if raw.get("output") is None and tier == "standard" and obj.get("mode") == "embedding":
            raw["output"] = 0  # embeddings have no output tokens
        if raw.get("input") is None or raw.get("output") is None:
            continue  # a tier without both prices is not a price we can trust
        if tier == "standard":
            raw["request_fee"] = obj.get("input_cost_per_request")
            raw["image_fee"] = obj.get("input_cost_per_image")
        for name, value in raw.items():
            # LiteLLM's numbers went through binary floats (2.9999900000000002e-06): round them to
            # whole atto-USD per token, a difference below $0.000001 per trillion tokens.
            if isinstance(value, Decimal) and value.is_finite() and value.as_tuple().exponent < -18:  # type: ignore[operator]
                raw[name] = value.quantize(ATTO, rounding=ROUND_HALF_EVEN)
        found = sorted(thresholds.get(tier, ()))
        if len(found) > 1:  # one long-context step is supported; keep the lowest
            found = found[:1]
        values = checked(obj, where, clean_prices, raw)
        out.append(
            PriceSpec(
                tier=tier,
                effective_from=None,
                values=values,
                long_context_threshold=found[0] if found else None,
                source=str(obj.get("source") or "LiteLLM model_prices_and_context_window.json")[:500],
                line=obj.line,
            )
        )
    return out


def _short(key: str, *prefixes: str) -> str:
    name = key.strip()
    for prefix in prefixes:
        if name.lower().startswith(f"{prefix}/"):
            return name[len(prefix) + 1 :]
    return name


def _provider(slug: str, litellm_provider: str) -> ProviderSpec:
    rule = KNOWN_RULES.get(slug, KNOWN_RULES.get(litellm_provider))
    return ProviderSpec(
        slug=slug,
        name=slug,
        input_includes_cached=rule[0] if rule else None,
        output_includes_reasoning=rule[1] if rule else None,
    )


def _merge_same_model(
    spec: ModelSpec, first: str, key: str, prices: list[PriceSpec], litellm_provider: str
) -> str:
    """Another key for a model already kept (first under `first`): one model. LiteLLM prices
    `provider/model` by that entry, so it wins over a bare name's; tiers only one of them lists are
    kept from the other. Returns the key whose prices won."""
    prefix = f"{litellm_provider}/"
    if key.lower().startswith(prefix) and not first.lower().startswith(prefix):
        keep, other, winner = prices, spec.prices, key
    else:
        keep, other, winner = spec.prices, prices, first
    listed = {price.tier for price in keep}
    spec.prices = keep + [price for price in other if price.tier not in listed]
    return winner


def _add_aliases(
    aliases: list[tuple[str, str]],
    by_key: dict[str, tuple[ModelSpec, str, str]],
    skipped: list[str],
    notes: list[str],
) -> None:
    """`alias_of` entries (key, the key it names) as aliases of the models kept."""
    for key, target in aliases:
        hit = by_key.get(target)
        if hit is None:
            skipped.append(f"{key}: alias of {target}, which is not imported")
            continue
        spec, litellm_provider, slug = hit
        alias = _short(key, litellm_provider, slug)
        if alias.lower() != spec.name.lower():
            spec.aliases = [*(spec.aliases or []), alias]
        notes.append(f"{key}: an alias of {spec.provider}/{spec.name}")


def parse_litellm(root: LinedObject) -> PricePlan:
    providers: dict[str, ProviderSpec] = {}
    models: list[ModelSpec] = []
    skipped: list[str] = []
    notes: list[str] = []
    index: dict[tuple[str, str], tuple[ModelSpec, str]] = {}  # (slug, name) → the spec, its winning key
    by_key: dict[str, tuple[ModelSpec, str, str]] = {}  # every key kept → (spec, LiteLLM provider, slug)
    aliases: list[tuple[str, str]] = []
    for key, raw in root.items():
        if key == "sample_spec":
            continue
        obj = expect_object(raw, json.dumps(key), root.line)
        where = json.dumps(key)
        if "alias_of" in obj and not any(_LITELLM_KEY.match(k) for k in obj):
            aliases.append((key, str(obj["alias_of"])))
            continue
        if obj.get("mode") not in _MODES:
            skipped.append(f"{key}: mode {obj.get('mode')}")
            continue
        litellm_provider = str(obj.get("litellm_provider") or "").strip().lower()
        if not litellm_provider:
            if any(_LITELLM_KEY.match(k) for k in obj):
                raise PriceFileError(f"{where}.litellm_provider: is required", line=obj.line)
            skipped.append(f"{key}: not a model")
            continue
        slug = checked(
            obj,
            where,
            clean_slug,
            LITELLM_PROVIDERS.get(litellm_provider, litellm_provider),
            "litellm_provider",
        )
        name = _short(key, litellm_provider, slug)
        prices = _litellm_prices(obj, where, _tiered(obj, notes, key), notes)
        if not prices:
            skipped.append(f"{key}: {_why_not(obj)}")
            continue
        found = index.get((slug, name.lower()))
        if found is not None:  # another key for the same model: one model
            spec, first = found
            winner = _merge_same_model(spec, first, key, prices, litellm_provider)
            index[(slug, name.lower())] = (spec, winner)
            by_key[key] = (spec, litellm_provider, slug)
            notes.append(f"{key}: the same model as {first}; one model, the prices of {winner}")
            continue
        if slug not in providers:
            providers[slug] = _provider(slug, litellm_provider)
        spec = ModelSpec(
            provider=slug,
            name=checked(obj, where, clean_model_name, name),
            prices=prices,
            line=obj.line,
            merge_aliases=True,
        )
        models.append(spec)
        index[(slug, name.lower())] = (spec, key)
        by_key[key] = (spec, litellm_provider, slug)
    _add_aliases(aliases, by_key, skipped, notes)
    return PricePlan("litellm", list(providers.values()), models, skipped, notes)
