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

import json
import json.decoder
import json.scanner
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from apps.core.errors import ApplicationError
from apps.pricing.book import PRICE_FIELDS
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
ATTO = Decimal(1).scaleb(-18)
LONG_KEYS = ("input", "output", "cached_input", "cache_write", "cache_write_1h", "reasoning")


class PriceFileError(ApplicationError):
    def __init__(self, message: str, *, line: int | None = None):
        super().__init__(f"line {line}: {message}" if line else message, code="invalid_price_file")
        self.line = line


@dataclass
class ProviderSpec:
    slug: str
    name: str
    aliases: list[str] = field(default_factory=list)
    input_includes_cached: bool | None = None  # None: keep what is there (or the default)
    output_includes_reasoning: bool | None = None
    notes: str = ""


@dataclass
class PriceSpec:
    tier: str
    effective_from: datetime | None  # None: "when it changed" is unknown (LiteLLM)
    values: dict[str, Decimal | None]
    long_context_threshold: int | None
    currency: str = "USD"
    source: str = ""
    source_date: Any = None
    line: int = 0


@dataclass
class ModelSpec:
    provider: str
    name: str
    display_name: str = ""
    aliases: list[str] | None = None  # None: leave the stored aliases alone
    merge_aliases: bool = False  # True: add these to the stored aliases instead of replacing them
    pattern: str | None = None
    prices: list[PriceSpec] = field(default_factory=list)
    line: int = 0
    # Lifecycle, when the file states it (`lifecycle`: a Switchyard file does, absent keys meaning
    # none; a LiteLLM file does not, and the stored values are left alone).
    lifecycle: bool = False
    deprecated_on: Any = None
    retires_on: Any = None
    successor: str | None = None  # a model name of the same provider, in the file or the catalogue


@dataclass
class PricePlan:
    format: str
    providers: list[ProviderSpec]
    models: list[ModelSpec]
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # kept, with something worth saying (merged, aliased)


class _Obj(dict[str, Any]):
    line = 0


def load_json_with_lines(text: str) -> Any:
    """json.loads, but numbers are Decimal and every object knows the line it starts on."""
    newlines = [m.start() for m in re.finditer("\n", text)]

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[_Obj, int]:
        obj, end = json.decoder.JSONObject(s_and_end, *args)  # type: ignore[attr-defined]
        out = _Obj(obj)
        out.line = bisect_left(newlines, s_and_end[1] - 1) + 1
        return out, end

    decoder = json.JSONDecoder(parse_float=Decimal)
    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    try:
        return decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise PriceFileError(f"not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    except RecursionError:
        raise PriceFileError("JSON nested too deeply") from None


def _line(obj: Any, default: int = 0) -> int:
    return getattr(obj, "line", default)


def _expect_obj(value: Any, where: str, line: int) -> _Obj:
    if not isinstance(value, dict):
        raise PriceFileError(f"{where}: must be an object", line=line)
    return value  # type: ignore[return-value]


def _expect_list(value: Any, where: str, line: int) -> list[Any]:
    if not isinstance(value, list):
        raise PriceFileError(f"{where}: must be a list", line=line)
    return value


def _no_unknown(obj: _Obj, allowed: set[str], where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise PriceFileError(f"{where}: unknown field {unknown[0]!r}", line=obj.line)


def _checked(obj: _Obj, where: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a validator, re-raising its refusal with the object's line and path."""
    try:
        return fn(*args, **kwargs)
    except PriceFileError:
        raise
    except ApplicationError as exc:
        raise PriceFileError(f"{where}.{exc.message}", line=obj.line) from None


def _bool_or_none(obj: _Obj, key: str, where: str) -> bool | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, bool):
        raise PriceFileError(f"{where}.{key}: must be true or false", line=obj.line)
    return value


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


def _native_price(obj: _Obj, where: str, *, per_exp: int, currency: str) -> PriceSpec:
    _no_unknown(obj, _PRICE_KEYS, where)
    if "effective_from" not in obj:
        raise PriceFileError(f"{where}.effective_from: is required", line=obj.line)
    raw = {name: obj.get(name) for name in PRICE_FIELDS if not name.endswith("_long")}
    threshold = None
    long = obj.get("long_context")
    if long is not None:
        long = _expect_obj(long, f"{where}.long_context", obj.line)
        _no_unknown(long, {"above_tokens", *LONG_KEYS}, f"{where}.long_context")
        threshold = long.get("above_tokens")
        for key in LONG_KEYS:
            raw[f"{key}_long"] = long.get(key)
    values = _checked(obj, where, clean_prices, raw, per_exp=per_exp)
    return PriceSpec(
        tier=_checked(obj, where, clean_tier, obj.get("tier")),
        effective_from=_checked(obj, where, clean_datetime, obj["effective_from"], "effective_from"),
        values=values,
        long_context_threshold=_checked(
            obj, where, clean_threshold, threshold, values, "long_context.above_tokens"
        ),
        currency=_checked(obj, where, clean_currency, obj.get("currency", currency)),
        source=str(obj.get("source") or "")[:500],
        source_date=_checked(obj, where, clean_date, obj.get("source_date"), "source_date"),
        line=obj.line,
    )


_LIFECYCLE_KEYS = ("deprecated_on", "retires_on", "successor")


def _successor(obj: _Obj, where: str, name: str) -> str | None:
    value = obj.get("successor")
    if value is None:
        return None
    successor = _checked(obj, where, clean_model_name, value, "successor")
    if successor.lower() == name.lower():
        raise PriceFileError(f"{where}.successor: a model cannot succeed itself", line=obj.line)
    return str(successor)


def parse_switchyard(root: _Obj) -> PricePlan:
    _no_unknown(root, {"format", "version", "currency", "unit", "note", "providers", "models"}, "file")
    if root.get("version") != 1:
        raise PriceFileError(f"version: must be 1, got {root.get('version')!r}", line=root.line)
    currency = _checked(root, "file", clean_currency, root.get("currency"))
    unit = root.get("unit", "usd_per_1m_tokens")
    if unit not in UNITS:
        raise PriceFileError(f"unit: must be one of {', '.join(UNITS)}, got {unit!r}", line=root.line)
    per_exp = UNITS[unit]
    providers: list[ProviderSpec] = []
    for i, raw in enumerate(_expect_list(root.get("providers", []), "providers", root.line)):
        where = f"providers[{i}]"
        obj = _expect_obj(raw, where, root.line)
        _no_unknown(
            obj,
            {"slug", "name", "aliases", "input_includes_cached", "output_includes_reasoning", "note"},
            where,
        )
        providers.append(
            ProviderSpec(
                slug=_checked(obj, where, clean_slug, obj.get("slug"), "slug"),
                name=str(obj.get("name") or obj.get("slug"))[:120],
                aliases=[
                    a.lower() for a in _checked(obj, where, clean_aliases, obj.get("aliases"), "aliases")
                ],
                input_includes_cached=_bool_or_none(obj, "input_includes_cached", where),
                output_includes_reasoning=_bool_or_none(obj, "output_includes_reasoning", where),
                notes=str(obj.get("note") or ""),
            )
        )
    declared = {p.slug for p in providers}
    models: list[ModelSpec] = []
    seen: dict[tuple[str, str], int] = {}
    for i, raw in enumerate(_expect_list(root.get("models", []), "models", root.line)):
        where = f"models[{i}]"
        obj = _expect_obj(raw, where, root.line)
        _no_unknown(
            obj,
            {"provider", "name", "display_name", "aliases", "pattern", "prices", "note", *_LIFECYCLE_KEYS},
            where,
        )
        provider = _checked(obj, where, clean_slug, obj.get("provider"), "provider")
        if provider not in declared:
            raise PriceFileError(
                f"{where}.provider: {provider!r} is not in the file's providers", line=obj.line
            )
        name = _checked(obj, where, clean_model_name, obj.get("name"))
        key = (provider, name.lower())
        if key in seen:
            raise PriceFileError(
                f"{where}.name: {provider}/{name} is listed twice (first on line {seen[key]})", line=obj.line
            )
        seen[key] = obj.line
        spec = ModelSpec(
            provider=provider,
            name=name,
            display_name=str(obj.get("display_name") or "")[:200],
            aliases=_checked(obj, where, clean_aliases, obj.get("aliases")),
            pattern=_checked(obj, where, clean_pattern, obj.get("pattern"), "pattern"),
            line=obj.line,
            lifecycle=True,
            deprecated_on=_checked(obj, where, clean_date, obj.get("deprecated_on"), "deprecated_on"),
            retires_on=_checked(obj, where, clean_date, obj.get("retires_on"), "retires_on"),
            successor=_successor(obj, where, name),
        )
        starts: dict[tuple[str, datetime], int] = {}
        for j, raw_price in enumerate(_expect_list(obj.get("prices", []), f"{where}.prices", obj.line)):
            pwhere = f"{where}.prices[{j}]"
            price = _native_price(
                _expect_obj(raw_price, pwhere, obj.line), pwhere, per_exp=per_exp, currency=currency
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
            spec.prices.append(price)
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
            raise PriceFileError(f"format: must be {FORMAT!r}", line=_line(root, 1))
        return parse_switchyard(root)  # type: ignore[arg-type]
    if format == "litellm":
        from apps.pricing.price_file_litellm import parse_litellm

        return parse_litellm(root)  # type: ignore[arg-type]
    raise PriceFileError(f"unknown format {format!r}; use switchyard, litellm or auto")
