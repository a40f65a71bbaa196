"""Price files: Switchyard's own format and LiteLLM's model_prices_and_context_window.json.

Parsing is pure (no database) and strict: the whole file is checked before anything is written,
and the first problem is reported with its line number ("line 42: models[3].prices[0].input:
must be >= 0, got -1"). Numbers are read as Decimal, never float.

Switchyard format (apps/pricing/data/prices.json):

    {"format": "switchyard-prices", "version": 1, "currency": "USD", "unit": "usd_per_1m_tokens",
     "providers": [{"slug": "openai", "name": "OpenAI", "aliases": [], "input_includes_cached": true,
                    "output_includes_reasoning": true}],
     "models": [{"provider": "openai", "name": "gpt-4o", "aliases": ["gpt-4o-2024-08-06"], "pattern": "",
                 "prices": [{"effective_from": "2024-10-02", "tier": "standard", "input": "2.50",
                             "cached_input": "1.25", "output": "10",
                             "long_context": {"above_tokens": 200000, "input": "5"},
                             "request_fee": null, "image_fee": null,
                             "source": "https://…", "source_date": "2026-11-22"}]}]}

Token prices are USD per 1M tokens (or per token with "unit": "usd_per_token"); fees are USD.
"""

from __future__ import annotations

from datetime import datetime

from apps.pricing.book import PRICE_FIELDS
from apps.pricing.price_file_litellm import parse_litellm
from apps.pricing.price_plan import (
    LinedObject,
    ModelSpec,
    PriceFileError,
    PricePlan,
    PriceSpec,
    ProviderSpec,
    bool_or_none,
    checked,
    expect_list,
    expect_object,
    line_of,
    load_json_with_lines,
    refuse_unknown,
)
from apps.pricing.validation import (
    clean_aliases,
    clean_currency,
    clean_date,
    clean_datetime,
    clean_model_name,
    clean_pattern,
    clean_prices,
    clean_slug,
    clean_threshold,
    clean_tier,
)

FORMAT = "switchyard-prices"
UNITS = {"usd_per_1m_tokens": 6, "usd_per_token": 0}
LONG_KEYS = ("input", "output", "cached_input", "cache_write", "cache_write_1h", "reasoning")


# --- Switchyard format ----------------------------------------------------------------------------

_PRICE_KEYS = {
    "effective_from",
    "tier",
    "currency",
    "input",
    "output",
    "cached_input",
    "cache_write",
    "cache_write_1h",
    "reasoning",
    "long_context",
    "request_fee",
    "image_fee",
    "source",
    "source_date",
    "note",
}


def _native_price(obj: LinedObject, where: str, *, per_exp: int, currency: str) -> PriceSpec:
    refuse_unknown(obj, _PRICE_KEYS, where)
    if "effective_from" not in obj:
        raise PriceFileError(f"{where}.effective_from: is required", line=obj.line)
    raw = {name: obj.get(name) for name in PRICE_FIELDS if not name.endswith("_long")}
    threshold = None
    long = obj.get("long_context")
    if long is not None:
        long = expect_object(long, f"{where}.long_context", obj.line)
        refuse_unknown(long, {"above_tokens", *LONG_KEYS}, f"{where}.long_context")
        threshold = long.get("above_tokens")
        for key in LONG_KEYS:
            raw[f"{key}_long"] = long.get(key)
    values = checked(obj, where, clean_prices, raw, per_exp=per_exp)
    return PriceSpec(
        tier=checked(obj, where, clean_tier, obj.get("tier")),
        effective_from=checked(obj, where, clean_datetime, obj["effective_from"], "effective_from"),
        values=values,
        long_context_threshold=checked(
            obj, where, clean_threshold, threshold, values, "long_context.above_tokens"
        ),
        currency=checked(obj, where, clean_currency, obj.get("currency", currency)),
        source=str(obj.get("source") or "")[:500],
        source_date=checked(obj, where, clean_date, obj.get("source_date"), "source_date"),
        line=obj.line,
    )


_LIFECYCLE_KEYS = ("deprecated_on", "retires_on", "successor")


def _successor(obj: LinedObject, where: str, name: str) -> str | None:
    value = obj.get("successor")
    if value is None:
        return None
    successor = checked(obj, where, clean_model_name, value, "successor")
    if successor.lower() == name.lower():
        raise PriceFileError(f"{where}.successor: a model cannot succeed itself", line=obj.line)
    return str(successor)


_PROVIDER_KEYS = {"slug", "name", "aliases", "input_includes_cached", "output_includes_reasoning", "note"}
_MODEL_KEYS = {"provider", "name", "display_name", "aliases", "pattern", "prices", "note", *_LIFECYCLE_KEYS}


def _provider(obj: LinedObject, where: str) -> ProviderSpec:
    refuse_unknown(obj, _PROVIDER_KEYS, where)
    return ProviderSpec(
        slug=checked(obj, where, clean_slug, obj.get("slug"), "slug"),
        name=str(obj.get("name") or obj.get("slug"))[:120],
        aliases=[a.lower() for a in checked(obj, where, clean_aliases, obj.get("aliases"), "aliases")],
        input_includes_cached=bool_or_none(obj, "input_includes_cached", where),
        output_includes_reasoning=bool_or_none(obj, "output_includes_reasoning", where),
        notes=str(obj.get("note") or ""),
    )


def _model(
    obj: LinedObject, where: str, *, declared: set[str], seen: dict[tuple[str, str], int]
) -> ModelSpec:
    """One model without its prices; `seen` (provider, lower-case name) → line, to refuse a repeat."""
    refuse_unknown(obj, _MODEL_KEYS, where)
    provider = checked(obj, where, clean_slug, obj.get("provider"), "provider")
    if provider not in declared:
        raise PriceFileError(f"{where}.provider: {provider!r} is not in the file's providers", line=obj.line)
    name = checked(obj, where, clean_model_name, obj.get("name"))
    key = (provider, name.lower())
    if key in seen:
        raise PriceFileError(
            f"{where}.name: {provider}/{name} is listed twice (first on line {seen[key]})", line=obj.line
        )
    seen[key] = obj.line
    return ModelSpec(
        provider=provider,
        name=name,
        display_name=str(obj.get("display_name") or "")[:200],
        aliases=checked(obj, where, clean_aliases, obj.get("aliases")),
        pattern=checked(obj, where, clean_pattern, obj.get("pattern"), "pattern"),
        line=obj.line,
        lifecycle=True,
        deprecated_on=checked(obj, where, clean_date, obj.get("deprecated_on"), "deprecated_on"),
        retires_on=checked(obj, where, clean_date, obj.get("retires_on"), "retires_on"),
        successor=_successor(obj, where, name),
    )


def _model_prices(obj: LinedObject, where: str, *, per_exp: int, currency: str) -> list[PriceSpec]:
    """A model's prices, refusing two of one tier that start at the same moment."""
    prices: list[PriceSpec] = []
    starts: dict[tuple[str, datetime], int] = {}
    for j, raw_price in enumerate(expect_list(obj.get("prices", []), f"{where}.prices", obj.line)):
        pwhere = f"{where}.prices[{j}]"
        price = _native_price(
            expect_object(raw_price, pwhere, obj.line), pwhere, per_exp=per_exp, currency=currency
        )
        assert price.effective_from is not None
        start = (price.tier, price.effective_from)
        if start in starts:
            raise PriceFileError(
                f"{pwhere}.effective_from: overlaps the {price.tier} price on line {starts[start]} "
                f"(both start {price.effective_from:%Y-%m-%d %H:%M})",
                line=price.line,
            )
        starts[start] = price.line
        prices.append(price)
    return prices


def parse_switchyard(root: LinedObject) -> PricePlan:
    refuse_unknown(root, {"format", "version", "currency", "unit", "note", "providers", "models"}, "file")
    if root.get("version") != 1:
        raise PriceFileError(f"version: must be 1, got {root.get('version')!r}", line=root.line)
    currency = checked(root, "file", clean_currency, root.get("currency"))
    unit = root.get("unit", "usd_per_1m_tokens")
    if unit not in UNITS:
        raise PriceFileError(f"unit: must be one of {', '.join(UNITS)}, got {unit!r}", line=root.line)
    per_exp = UNITS[unit]
    providers = [
        _provider(expect_object(raw, f"providers[{i}]", root.line), f"providers[{i}]")
        for i, raw in enumerate(expect_list(root.get("providers", []), "providers", root.line))
    ]
    declared = {p.slug for p in providers}
    models: list[ModelSpec] = []
    seen: dict[tuple[str, str], int] = {}
    for i, raw in enumerate(expect_list(root.get("models", []), "models", root.line)):
        where = f"models[{i}]"
        obj = expect_object(raw, where, root.line)
        spec = _model(obj, where, declared=declared, seen=seen)
        spec.prices = _model_prices(obj, where, per_exp=per_exp, currency=currency)
        models.append(spec)
    return PricePlan(FORMAT, providers, models)


def parse_price_file(text: str, *, format: str = "auto") -> PricePlan:
    """Check a whole price file; raise PriceFileError (with the line) on the first problem."""
    root = load_json_with_lines(text)
    if not isinstance(root, dict):
        raise PriceFileError("the file must hold a JSON object", line=1)
    if format == "auto":
        format = "switchyard" if root.get("format") == FORMAT else "litellm"
    if format == "switchyard":
        if root.get("format") != FORMAT:
            raise PriceFileError(f"format: must be {FORMAT!r}", line=line_of(root, 1))
        return parse_switchyard(root)  # type: ignore[arg-type]
    if format == "litellm":
        return parse_litellm(root)  # type: ignore[arg-type]
    raise PriceFileError(f"unknown format {format!r}; use switchyard, litellm or auto")
