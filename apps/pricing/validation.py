"""Checks on price input, shared by the services, the import command, forms and the API.

Every refusal is an ApplicationError whose message starts with the field it is about, e.g.
"input: must be >= 0, got -1".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import ROUND_DOWN, Decimal, InvalidOperation, localcontext
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from apps.core.errors import ApplicationError
from apps.pricing.book import PRICE_FIELDS, TIERS

CURRENCIES = ("USD",)
MAX_DECIMALS = 18
MAX_AMOUNT = Decimal(10) ** 12  # the database keeps 12 integer digits
PER_MILLION_EXP = 6  # prices are entered and shown in USD per 1M tokens
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def _refuse(field: str, message: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", field=field, code="invalid_price")


def clean_currency(value: Any, field: str = "currency") -> str:
    currency = str(value or "USD").strip().upper()
    if currency not in CURRENCIES:
        raise _refuse(field, f"unknown currency {value!r}; prices are in {', '.join(CURRENCIES)}")
    return currency


def clean_amount(value: Any, field: str, *, per_exp: int = 0) -> Decimal | None:
    """A non-negative exact USD amount (None or "" = not listed), divided by 10**per_exp (6: per 1M)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise _refuse(field, f"must be a number, got {value!r}")
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise _refuse(field, f"must be a number, got {value!r}") from None
    if not amount.is_finite():
        raise _refuse(field, f"must be a finite number, got {value!r}")
    if amount < 0:
        raise _refuse(field, f"must be >= 0, got {value}")
    amount = amount.scaleb(-per_exp)  # exact, unlike division
    if amount >= MAX_AMOUNT:
        raise _refuse(field, f"{value} is too large")
    with localcontext(prec=60):
        if amount != amount.quantize(Decimal(1).scaleb(-MAX_DECIMALS), rounding=ROUND_DOWN):
            raise _refuse(
                field, f"{value} is more precise than {MAX_DECIMALS} decimal places of USD per token"
            )
    return amount


def clean_prices(values: Mapping[str, Any], *, per_exp: int = 0) -> dict[str, Decimal | None]:
    """Every price field (USD per token, or per 10**per_exp tokens); input and output are required.

    Fees (request_fee, image_fee) are always USD per request / per image, never scaled.
    """
    cleaned: dict[str, Decimal | None] = {}
    for name in PRICE_FIELDS:
        scale = 0 if name in ("request_fee", "image_fee") else per_exp
        cleaned[name] = clean_amount(values.get(name), name, per_exp=scale)
    for name in ("input", "output"):
        if cleaned[name] is None:
            raise _refuse(name, "is required")
    return cleaned


def clean_threshold(
    value: Any, prices: Mapping[str, Decimal | None], field: str = "long_context_threshold"
) -> int | None:
    long_given = [name for name in prices if name.endswith("_long") and prices[name] is not None]
    if value is None or value == "":
        if long_given:
            raise _refuse(field, f"is required when long-context prices are given ({', '.join(long_given)})")
        return None
    if isinstance(value, bool):
        raise _refuse(field, f"must be a whole number of tokens, got {value!r}")
    try:
        threshold = int(str(value).strip())
    except ValueError:
        raise _refuse(field, f"must be a whole number of tokens, got {value!r}") from None
    if threshold <= 0:
        raise _refuse(field, f"must be > 0, got {threshold}")
    if not long_given:
        raise _refuse(field, "is set but no long-context price (input_long, output_long, …) is given")
    return threshold


def clean_tier(value: Any, field: str = "tier") -> str:
    tier = str(value or "standard").strip().lower()
    if tier not in TIERS:
        raise _refuse(field, f"must be one of {', '.join(TIERS)}, got {value!r}")
    return tier


def clean_datetime(value: Any, field: str) -> datetime:
    """A date or date-time (ISO 8601); a date means midnight UTC; naive times are UTC."""
    if isinstance(value, datetime):
        parsed: datetime | None = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time(), tzinfo=UTC)
    else:
        text = str(value or "").strip()
        try:
            parsed = parse_datetime(text)
            if parsed is None:
                day = parse_date(text)
                parsed = datetime.combine(day, time(), tzinfo=UTC) if day else None
        except ValueError:
            parsed = None
    if parsed is None:
        raise _refuse(field, f"must be a date (YYYY-MM-DD) or ISO 8601 date-time, got {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def clean_date(value: Any, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        parsed = parse_date(str(value).strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise _refuse(field, f"must be a date (YYYY-MM-DD), got {value!r}")
    return parsed


def clean_slug(value: Any, field: str) -> str:
    slug = str(value or "").strip().lower()
    if not _SLUG.match(slug):
        raise _refuse(field, f"must be 1-64 lower-case letters, digits, '.', '_' or '-', got {value!r}")
    return slug


def clean_model_name(value: Any, field: str = "name") -> str:
    name = str(value or "").strip()
    if not name or len(name) > 200:
        raise _refuse(field, "must be 1-200 characters")
    return name


def clean_aliases(value: Any, field: str = "aliases") -> list[str]:
    if value is None or value == "":
        return []
    items = value.replace(",", "\n").splitlines() if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise _refuse(field, "must be a list of model names")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise _refuse(field, f"must be a list of model names, got {item!r}")
        name = item.strip()
        if name and name not in out:
            out.append(clean_model_name(name, field))
    return out


def clean_pattern(value: Any, field: str = "match_pattern") -> str:
    pattern = str(value or "").strip()
    if not pattern:
        return ""
    if len(pattern) > 300:
        raise _refuse(field, "must be at most 300 characters")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise _refuse(field, f"is not a valid regular expression ({exc})") from None
    return pattern


def clean_percent(value: Any, field: str = "percent") -> Decimal:
    amount = clean_amount(value, field)
    if amount is None:
        raise _refuse(field, "is required")
    if amount > 100:
        raise _refuse(field, f"must be between 0 and 100, got {value}")
    if amount != amount.quantize(Decimal("0.0001"), rounding=ROUND_DOWN):
        raise _refuse(field, "must have at most 4 decimal places")
    return amount
