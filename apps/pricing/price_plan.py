"""What both price-file parsers share: the plan they produce, the error they raise, and reading JSON
with line numbers.

apps.pricing.price_file (Switchyard's own format, and the entry point `parse_price_file`) and
apps.pricing.price_file_litellm (LiteLLM's format) both build a `PricePlan` from an object read by
`load_json_with_lines`, and report the first problem as a `PriceFileError` naming its line. Living
here, these pieces let the entry point dispatch to either parser without a parser importing back.
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


# --- Reading JSON with line numbers -----------------------------------------------------------------


class LinedObject(dict[str, Any]):
    """A JSON object that knows the line it starts on."""

    line = 0


def load_json_with_lines(text: str) -> Any:
    """json.loads, but numbers are Decimal and every object knows the line it starts on."""
    newlines = [m.start() for m in re.finditer("\n", text)]

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[LinedObject, int]:
        obj, end = json.decoder.JSONObject(s_and_end, *args)  # type: ignore[attr-defined]
        out = LinedObject(obj)
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


def line_of(obj: Any, default: int = 0) -> int:
    return getattr(obj, "line", default)


def expect_object(value: Any, where: str, line: int) -> LinedObject:
    if not isinstance(value, dict):
        raise PriceFileError(f"{where}: must be an object", line=line)
    return value  # type: ignore[return-value]


def expect_list(value: Any, where: str, line: int) -> list[Any]:
    if not isinstance(value, list):
        raise PriceFileError(f"{where}: must be a list", line=line)
    return value


def refuse_unknown(obj: LinedObject, allowed: set[str], where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise PriceFileError(f"{where}: unknown field {unknown[0]!r}", line=obj.line)


def checked(obj: LinedObject, where: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a validator, re-raising its refusal with the object's line and path."""
    try:
        return fn(*args, **kwargs)
    except PriceFileError:
        raise
    except ApplicationError as exc:
        raise PriceFileError(f"{where}.{exc.message}", line=obj.line) from None


def bool_or_none(obj: LinedObject, key: str, where: str) -> bool | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, bool):
        raise PriceFileError(f"{where}.{key}: must be true or false", line=obj.line)
    return value
