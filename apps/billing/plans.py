"""The plans Switchyard ships with. The data migration seeds them; operators edit them in the admin
(prices, limits, and the Stripe price ids that make a plan purchasable).

Self-hosting without Stripe: every organisation is on the Free plan; raise its limits in the admin.
"""

from __future__ import annotations

from typing import Any

USD = 1_000_000_000  # nano-USD per dollar

SEED_PLANS: tuple[dict[str, Any], ...] = (
    {
        "key": "free",
        "name": "Free",
        "position": 0,
        "monthly_price_cents": 0,
        "included_events": 1_000_000,
        "event_limit": 1_000_000,
        "retention_days": 30,
        "seats": 5,
        "replay_budget_nano_usd": 5 * USD,
        "trial_days": 0,
        "self_serve": False,
    },
    {
        "key": "team",
        "name": "Team",
        "position": 1,
        "monthly_price_cents": 4_900,
        "overage_per_million_cents": 500,
        "included_events": 5_000_000,
        "event_limit": 50_000_000,
        "retention_days": 90,
        "seats": 20,
        "replay_budget_nano_usd": 100 * USD,
        "trial_days": 14,
        "self_serve": True,
    },
    {
        "key": "business",
        "name": "Business",
        "position": 2,
        "monthly_price_cents": 49_900,
        "overage_per_million_cents": 300,
        "included_events": 50_000_000,
        "event_limit": 500_000_000,
        "retention_days": 365,
        "seats": 100,
        "replay_budget_nano_usd": 1_000 * USD,
        "trial_days": 14,
        "self_serve": True,
    },
    {
        "key": "enterprise",
        "name": "Enterprise",
        "position": 3,
        "monthly_price_cents": 0,
        "included_events": 1_000_000_000,
        "event_limit": 0,
        "retention_days": 730,
        "seats": 0,
        "replay_budget_nano_usd": 10_000 * USD,
        "trial_days": 0,
        "self_serve": False,
    },
)


def seed(plan_model: Any) -> int:
    """Create the shipped plans that are missing; never overwrite an operator's edits."""
    created = 0
    for values in SEED_PLANS:
        _, made = plan_model.objects.get_or_create(key=values["key"], defaults=values)
        created += int(made)
    return created


def seed_defaults(key: str) -> dict[str, Any]:
    return next(p for p in SEED_PLANS if p["key"] == key)
