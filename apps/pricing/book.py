"""The price book: every price an organisation sees, ready to cost a call in microseconds.

Built from plain records (no ORM here, so benchmarks and unit tests need no database), it
resolves a reported (provider, model) to a catalogue or custom model once — exact name, alias,
`provider/model` prefix, then match patterns — and remembers the answer in a dict, so the hot
path is a dict lookup, a bisect on the price timeline for the call's time, and integer
arithmetic (apps.pricing.cost).

Precedence: an organisation's own models, aliases and prices come before the catalogue's; an
organisation price for a catalogue model applies from its `effective_from` on, the catalogue
before that. Negotiated provider discounts apply to catalogue prices only.

Token rules (does input include cached tokens, does output include reasoning?) come from the
provider of the model a call resolves to, so `claude-…` reported without a provider is read as
Anthropic reports it; a usage's own flags (`Usage.input_includes_cached`,
`Usage.output_includes_reasoning`) win where they are set. The service tier comes from the usage
(or the caller); a model without a price for that tier is priced at its standard price, and the
result says which tier's price was used.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from apps.pricing.cost import PPM, CostResult, Rates, Usage, compute_cost, rates_from_prices

STANDARD = "standard"
TIERS: tuple[str, ...] = ("standard", "batch", "flex", "priority")
# Provider names other tools report, as catalogue slugs: every `gen_ai.provider.name` value of the
# OpenTelemetry GenAI conventions (and the older `gen_ai.system` values), OpenLLMetry's names and
# LiteLLM's. A catalogue provider's own aliases take precedence; a name whose slug the catalogue
# does not have stays unknown (its models are then matched by name alone).
WELL_KNOWN_PROVIDERS: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gcp.gemini": "google",
    "gcp.gen_ai": "google",
    "gemini": "google",
    "google": "google",
    "google_genai": "google",
    "gcp.vertex_ai": "vertex_ai",
    "vertex_ai": "vertex_ai",
    "aws.bedrock": "bedrock",
    "bedrock": "bedrock",
    "azure.ai.openai": "azure",
    "az.ai.openai": "azure",
    "azure": "azure",
    "azure.ai.inference": "azure_ai",
    "az.ai.inference": "azure_ai",
    "azure_ai": "azure_ai",
    "mistral_ai": "mistral",
    "mistralai": "mistral",
    "x_ai": "xai",
    "xai": "xai",
    "ibm.watsonx.ai": "watsonx",
    "watsonx": "watsonx",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "groq": "groq",
    "perplexity": "perplexity",
    "together_ai": "together",
    "fireworks": "fireworks",
    "fireworks_ai": "fireworks",
    "openrouter": "openrouter",
    "ollama": "ollama",
}
# A provider the catalogue does not know follows the OpenAI-compatible convention.
DEFAULT_RULE = (True, True)
_CACHE_LIMIT = 50_000
_MISSING: Any = object()

PRICE_FIELDS: tuple[str, ...] = (
    "input",
    "output",
    "cached_input",
    "cache_write",
    "cache_write_1h",
    "reasoning",
    "input_long",
    "output_long",
    "cached_input_long",
    "cache_write_long",
    "cache_write_1h_long",
    "reasoning_long",
    "request_fee",
    "image_fee",
)


def normalize(name: str) -> str:
    return name.strip().lower()


@dataclass(frozen=True, slots=True)
class ProviderRecord:
    slug: str
    name: str = ""
    aliases: tuple[str, ...] = ()
    input_includes_cached: bool = True
    output_includes_reasoning: bool = True
    custom: bool = False  # an organisation's own provider (self-hosted, …)


@dataclass(frozen=True, slots=True)
class ModelRecord:
    id: int
    provider: str  # provider slug
    name: str
    aliases: tuple[str, ...] = ()
    pattern: str = ""  # a regular expression the whole reported name must match
    custom: bool = False  # an organisation's own model


@dataclass(frozen=True, slots=True)
class PriceRecord:
    """One price row: Decimal USD per token (fees: per request / per image); None = not listed."""

    id: int
    model_id: int
    effective_from: datetime
    input: Decimal
    output: Decimal
    tier: str = STANDARD
    custom: bool = False  # an organisation's own price (takes precedence; no discount)
    cached_input: Decimal | None = None
    cache_write: Decimal | None = None
    cache_write_1h: Decimal | None = None
    reasoning: Decimal | None = None
    long_context_threshold: int | None = None
    input_long: Decimal | None = None
    output_long: Decimal | None = None
    cached_input_long: Decimal | None = None
    cache_write_long: Decimal | None = None
    cache_write_1h_long: Decimal | None = None
    reasoning_long: Decimal | None = None
    request_fee: Decimal | None = None
    image_fee: Decimal | None = None

    def rates(self) -> Rates:
        return rates_from_prices(
            price_id=self.id,
            catalogue=not self.custom,
            long_context_threshold=self.long_context_threshold,
            **{name: getattr(self, name) for name in PRICE_FIELDS},
        )


@dataclass(frozen=True, slots=True)
class DiscountRecord:
    provider: str
    percent: Decimal  # 0..100
    effective_from: datetime


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    model_id: int
    provider: str
    name: str
    custom: bool


class _Timeline:
    """Values in force from sorted start times; `fallback` answers before the first start."""

    __slots__ = ("fallback", "starts", "values")

    def __init__(self, pairs: list[tuple[datetime, Any]], fallback: _Timeline | None = None):
        pairs.sort(key=lambda pair: pair[0])
        self.starts = [start for start, _ in pairs]
        self.values = [value for _, value in pairs]
        self.fallback = fallback

    def pick(self, ts: datetime) -> Any:
        i = bisect_right(self.starts, ts) - 1
        if i >= 0:
            return self.values[i]
        if self.fallback is not None:
            return self.fallback.pick(ts)
        return None


class _Entry:
    """A reported (provider, model) resolved: the model's price timelines and the provider's rule."""

    __slots__ = ("discounts", "includes_cached", "includes_reasoning", "model", "tiers")

    def __init__(
        self,
        model: ResolvedModel,
        tiers: dict[str, _Timeline],
        discounts: _Timeline | None,
        rule: tuple[bool, bool],
    ):
        self.model = model
        self.tiers = tiers
        self.discounts = discounts
        self.includes_cached, self.includes_reasoning = rule

    @property
    def rule(self) -> tuple[bool, bool]:
        return self.includes_cached, self.includes_reasoning


def _keep_ppm(percent: Decimal) -> int:
    kept = (Decimal(100) - percent) * 10_000
    if kept != kept.to_integral_value() or not 0 <= kept <= PPM:
        raise ValueError(f"discount {percent}% must be between 0 and 100 with at most 4 decimals")
    return int(kept)


class PriceBook:
    """Prices for one organisation: the catalogue plus the organisation's overrides."""

    def __init__(
        self,
        *,
        providers: Iterable[ProviderRecord],
        models: Iterable[ModelRecord],
        prices: Iterable[PriceRecord],
        discounts: Iterable[DiscountRecord] = (),
    ):
        self._rules: dict[str, tuple[bool, bool]] = {}
        self._provider_alias: dict[str, str] = {}
        providers = sorted(providers, key=lambda p: p.custom)  # an organisation's own last: it wins
        slugs = {normalize(p.slug) for p in providers}
        for name, slug in WELL_KNOWN_PROVIDERS.items():
            if slug in slugs and name != slug:
                self._provider_alias[name] = slug
        for p in providers:
            slug = normalize(p.slug)
            self._rules[slug] = (p.input_includes_cached, p.output_includes_reasoning)
            for alias in p.aliases:
                self._provider_alias[normalize(alias)] = slug

        by_model: dict[int, dict[str, dict[bool, list[tuple[datetime, Rates]]]]] = {}
        for price in prices:
            tiers = by_model.setdefault(price.model_id, {})
            tiers.setdefault(price.tier, {}).setdefault(price.custom, []).append(
                (price.effective_from, price.rates())
            )
        self._tiers: dict[int, dict[str, _Timeline]] = {}
        for model_id, tiers in by_model.items():
            built: dict[str, _Timeline] = {}
            for tier, scopes in tiers.items():
                catalogue = _Timeline(scopes[False]) if False in scopes else None
                built[tier] = _Timeline(scopes[True], catalogue) if True in scopes else catalogue  # type: ignore[assignment]
            self._tiers[model_id] = built

        by_provider: dict[str, list[tuple[datetime, int]]] = {}
        for d in discounts:
            by_provider.setdefault(normalize(d.provider), []).append((d.effective_from, _keep_ppm(d.percent)))
        self._discounts = {slug: _Timeline(pairs) for slug, pairs in by_provider.items()}

        self._names: dict[tuple[str, str], ModelRecord] = {}
        self._patterns: dict[str, list[tuple[re.Pattern[str], ModelRecord]]] = {}
        self._by_name: dict[str, ModelRecord | None] = {}
        ordered = sorted(models, key=lambda m: m.custom)  # an organisation's own last: it wins
        for m in ordered:
            slug = normalize(m.provider)
            for name in (m.name, *m.aliases):
                key = normalize(name)
                self._names[(slug, key)] = m
                seen = self._by_name.get(key, _MISSING)
                if m.custom or seen is _MISSING or (seen is not None and seen.id == m.id):
                    self._by_name[key] = m
                elif seen is not None and not seen.custom:
                    self._by_name[key] = None  # ambiguous across providers
            if m.pattern:
                self._patterns.setdefault(slug, []).append((re.compile(m.pattern, re.IGNORECASE), m))
        for slug, patterns in self._patterns.items():
            # Custom models first, then the most specific (longest) pattern.
            patterns.sort(key=lambda item: (not item[1].custom, -len(item[0].pattern)))
            self._patterns[slug] = patterns
        self._cache: dict[tuple[str, str], _Entry | None] = {}

    # --- resolution -------------------------------------------------------------------------

    def rule(self, provider: str, model: str = "") -> tuple[bool, bool]:
        """(input includes cached, output includes reasoning): the rule of the provider of the
        model the call resolves to; the reported provider's (else the default) when it resolves
        to none."""
        if model:
            entry = self._entry(provider, model)
            if entry is not None:
                return entry.rule
        slug = normalize(provider)
        return self._rules.get(self._provider_alias.get(slug, slug), DEFAULT_RULE)

    def provider_slug(self, provider: str) -> str:
        """The catalogue slug a reported provider name stands for (itself when unknown)."""
        slug = normalize(provider)
        return self._provider_alias.get(slug, slug)

    def _find(self, provider: str, model: str) -> ModelRecord | None:
        p = normalize(provider)
        p = self._provider_alias.get(p, p)
        m = normalize(model)
        candidates = [(p, m)]
        if m.startswith("models/"):  # Gemini's resource names
            m = m[len("models/") :]
            candidates.append((p, m))
        if "/" in m:  # "openai/gpt-4o", as routers and LiteLLM name models
            prefix, rest = m.split("/", 1)
            prefix = self._provider_alias.get(prefix, prefix)
            if prefix in self._rules:
                candidates.append((prefix, rest))
        for key in candidates:
            hit = self._names.get(key)
            if hit is not None:
                return hit
        for slug, name in candidates:
            for pattern, record in self._patterns.get(slug, ()):
                if pattern.fullmatch(name):
                    return record
        # A provider the catalogue does not know, or one that does not list this model (OpenLLMetry
        # reports "openai" for every OpenAI-compatible host, e.g. grok-4.20 at xAI): the name alone,
        # when exactly one model has it.
        for _, name in candidates:
            hit = self._by_name.get(name)
            if hit is not None:
                return hit
        for _, name in candidates:  # then every provider's patterns, if exactly one model fits
            found = {
                record.id: record
                for patterns in self._patterns.values()
                for pattern, record in patterns
                if pattern.fullmatch(name)
            }
            if len(found) == 1:
                return next(iter(found.values()))
        return None

    def resolve(self, provider: str, model: str) -> ResolvedModel | None:
        entry = self._entry(provider, model)
        return entry.model if entry is not None else None

    def _entry(self, provider: str, model: str) -> _Entry | None:
        key = (provider, model)
        entry = self._cache.get(key, _MISSING)
        if entry is not _MISSING:
            return entry
        record = self._find(provider, model)
        entry = None
        if record is not None:
            slug = normalize(record.provider)
            entry = _Entry(
                ResolvedModel(record.id, slug, record.name, record.custom),
                self._tiers.get(record.id, {}),
                self._discounts.get(slug),
                self._rules.get(slug, DEFAULT_RULE),
            )
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = entry
        return entry

    # --- cost -------------------------------------------------------------------------------

    def cost(
        self, *, provider: str, model: str, ts: datetime, usage: Usage, tier: str | None = None
    ) -> CostResult | None:
        """The exact cost of one call, or None when no price is known for it at `ts`.

        `tier` defaults to the usage's service tier (standard when it has none); a tier the model
        has no price for at `ts` is priced at the standard price (`CostResult.tier` says so).
        """
        entry = self._cache.get((provider, model), _MISSING)
        if entry is _MISSING:
            entry = self._entry(provider, model)
        if entry is None:
            return None
        if tier is None:
            tier = usage.service_tier or STANDARD
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)
        timeline = entry.tiers.get(tier)
        rates = timeline.pick(ts) if timeline is not None else None
        priced = tier
        if rates is None and tier != STANDARD:
            timeline = entry.tiers.get(STANDARD)
            rates = timeline.pick(ts) if timeline is not None else None
            priced = STANDARD
        if rates is None:
            return None
        keep = PPM
        if rates.catalogue and entry.discounts is not None:
            keep = entry.discounts.pick(ts) or PPM
        result = compute_cost(
            rates,
            usage,
            input_includes_cached=entry.includes_cached,
            output_includes_reasoning=entry.includes_reasoning,
            keep_ppm=keep,
        )
        if priced != STANDARD:
            return CostResult(result.nano_usd, result.price_id, result.breakdown, priced)
        return result

    def discount_percent(self, provider_slug: str, ts: datetime) -> Decimal:
        timeline = self._discounts.get(normalize(provider_slug))
        keep = timeline.pick(ts if ts.tzinfo else ts.replace(tzinfo=UTC)) if timeline else None
        return Decimal(100) - Decimal(PPM if keep is None else keep) / 10_000
