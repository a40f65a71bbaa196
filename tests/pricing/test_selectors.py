"""Reads: the cached price book built from PostgreSQL, precedence of overrides, price rows."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from apps.pricing.cost import Usage
from apps.pricing.models import LlmModel
from apps.pricing.selectors import price_book, price_rows
from apps.pricing.services import custom_model_create, discount_set, price_create
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db

MILLION_IN = Usage(input_tokens=1_000_000)


def _cost(book: Any, model: str, when: datetime, provider: str = "openai") -> int | None:
    result = book.cost(provider=provider, model=model, ts=when, usage=MILLION_IN)
    return None if result is None else result.nano_usd


def test_the_book_is_cached_and_dropped_when_a_change_commits(
    tenant: Tenant, catalogue: dict[str, LlmModel], django_capture_on_commit_callbacks: Any
) -> None:
    book = price_book(organization_id=tenant.organization.pk)
    assert price_book(organization_id=tenant.organization.pk) is book
    with django_capture_on_commit_callbacks(execute=True):
        discount_set(
            organization=tenant.organization,
            actor=None,
            provider="openai",
            percent="50",
            effective_from="2026-01-01",
        )
    fresh = price_book(organization_id=tenant.organization.pk)
    assert fresh is not book
    when = datetime(2026, 6, 1, tzinfo=UTC)
    assert (_cost(book, "gpt-4o", when), _cost(fresh, "gpt-4o", when)) == (2_500_000_000, 1_250_000_000)


def test_organisation_prices_take_precedence_from_their_start(
    tenant: Tenant, catalogue: dict[str, LlmModel]
) -> None:
    price_create(
        model=catalogue["gpt-4o"],
        organization=tenant.organization,
        actor=None,
        effective_from="2026-01-01",
        prices={"input": "2", "output": "8"},
        per_exp=6,
    )
    discount_set(
        organization=tenant.organization,
        actor=None,
        provider="openai",
        percent="10",
        effective_from="2025-01-01",
    )
    book = price_book(organization_id=tenant.organization.pk)
    # 2025: catalogue $2.50 less 10%; 2026: the organisation's own $2, never discounted.
    assert _cost(book, "gpt-4o", datetime(2025, 6, 1, tzinfo=UTC)) == 2_250_000_000
    assert _cost(book, "gpt-4o", datetime(2026, 6, 1, tzinfo=UTC)) == 2_000_000_000


def test_custom_models_resolve_only_for_their_organisation(
    tenant: Tenant, other_tenant: Tenant, catalogue: dict[str, LlmModel]
) -> None:
    model = custom_model_create(
        organization=tenant.organization,
        actor=None,
        provider="openai",
        name="ft:gpt-4o:acme::x1",
        aliases=["acme-ft"],
    )
    price_create(
        model=model,
        organization=tenant.organization,
        actor=None,
        effective_from="2025-01-01",
        prices={"input": "3.75", "output": "15"},
        per_exp=6,
    )
    mine = price_book(organization_id=tenant.organization.pk)
    theirs = price_book(organization_id=other_tenant.organization.pk)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    assert _cost(mine, "acme-ft", when) == 3_750_000_000
    assert _cost(theirs, "acme-ft", when) is None
    assert _cost(theirs, "gpt-4o-2024-08-06", when) == 2_500_000_000  # the pattern still matches


def test_price_rows_know_when_each_row_ends(catalogue: dict[str, LlmModel]) -> None:
    rows = price_rows(organization_id=None, model_ids=[catalogue["gpt-4o"].pk])
    standard = [
        (r.price.effective_from.date().isoformat(), r.effective_until)
        for r in rows
        if r.price.tier == "standard"
    ]
    assert standard == [("2024-10-02", None), ("2024-05-13", datetime(2024, 10, 2, tzinfo=UTC))]
    current = price_rows(organization_id=None, model_ids=[catalogue["gpt-4o"].pk], current_only=True)
    assert {(r.price.tier, r.price.input) for r in current} == {
        ("standard", Decimal("0.0000025")),
        ("batch", Decimal("0.00000125")),
    }
