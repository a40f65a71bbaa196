"""Reading the JSON Stripe sends (plain dicts from the gateway), across API versions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def ref(value: Any) -> str:
    """An id from a field that is either the id or the expanded object."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def when(value: Any) -> datetime | None:
    """A Stripe timestamp (epoch seconds) as an aware datetime."""
    if value is None or value == "":
        return None
    return datetime.fromtimestamp(int(value), tz=UTC)


def subscription_items(data: dict[str, Any]) -> list[dict[str, Any]]:
    items = data.get("items") or {}
    return [i for i in (items.get("data") or []) if isinstance(i, dict)]


def subscription_price_ids(data: dict[str, Any]) -> list[str]:
    return [p for p in (ref(item.get("price")) for item in subscription_items(data)) if p]


def subscription_period(data: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """The current period: on the items since API 2025-03-31, on the subscription before."""
    items = subscription_items(data)
    starts = [i["current_period_start"] for i in items if i.get("current_period_start")]
    ends = [i["current_period_end"] for i in items if i.get("current_period_end")]
    start = min(starts) if starts else data.get("current_period_start")
    end = max(ends) if ends else data.get("current_period_end")
    return when(start), when(end)


def invoice_subscription_id(invoice: dict[str, Any]) -> str:
    """The invoice's subscription: under parent.subscription_details since API 2025-03-31."""
    parent = invoice.get("parent")
    details = (parent.get("subscription_details") if isinstance(parent, dict) else None) or {}
    return ref(details.get("subscription")) or ref(invoice.get("subscription"))


def metadata_organization_id(obj: dict[str, Any]) -> int | None:
    raw = (obj.get("metadata") or {}).get("organization_id") or obj.get("client_reference_id")
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None
