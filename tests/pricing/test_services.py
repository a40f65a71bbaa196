"""Writes: price rows, organisation overrides, and the refusals that name their field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from apps.accounts.models import Role
from apps.core.errors import ApplicationError, NotFound, PermissionDenied
from apps.pricing.models import LlmModel, Price, Provider
from apps.pricing.services import (
    custom_model_create,
    custom_model_update,
    discount_set,
    price_create,
    price_update,
)
from tests.pricing.factories import small_catalogue
from tests.tenancy import Tenant, add_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def gpt4o() -> LlmModel:
    return small_catalogue()["gpt-4o"]


def _create(model: LlmModel, tenant: Tenant, **overrides: Any) -> Price:
    kwargs: dict[str, Any] = {
        "model": model,
        "organization": tenant.organization,
        "actor": tenant.user,
        "effective_from": "2026-01-01",
        "prices": {"input": "1", "output": "2"},
        "per_exp": 6,
    }
    kwargs.update(overrides)
    return price_create(**kwargs)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"prices": {"input": "-0.5", "output": "2"}}, "input", "input: must be >= 0, got -0.5"),
        ({"prices": {"input": "abc", "output": "2"}}, "input", "input: must be a number, got 'abc'"),
        ({"prices": {"input": "1"}}, "output", "output: is required"),
        (
            {"prices": {"input": "1", "output": "2", "cached_input": "NaN"}},
            "cached_input",
            "cached_input: must be a finite number",
        ),
        ({"prices": {"input": "1e-20", "output": "2"}}, "input", "more precise than 18 decimal places"),
        ({"currency": "EUR"}, "currency", "currency: unknown currency 'EUR'; prices are in USD"),
        ({"tier": "spot"}, "tier", "tier: must be one of standard, batch, flex, priority"),
        ({"effective_from": "next tuesday"}, "effective_from", "effective_from: must be a date"),
        (
            {"prices": {"input": "1", "output": "2", "output_long": "3"}},
            "long_context_threshold",
            "long_context_threshold: is required when long-context prices are given (output_long)",
        ),
        ({"long_context_threshold": "200000"}, "long_context_threshold", "is set but no long-context price"),
        (
            {"long_context_threshold": "-1", "prices": {"input": "1", "output": "2", "input_long": "2"}},
            "long_context_threshold",
            "must be > 0",
        ),
    ],
)
def test_bad_prices_are_refused_naming_the_field(
    tenant: Tenant, gpt4o: LlmModel, overrides: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ApplicationError) as caught:
        _create(gpt4o, tenant, **overrides)
    assert caught.value.field == field and message in caught.value.message
    assert not Price.objects.filter(organization=tenant.organization).exists()


def test_overlapping_start_for_the_same_model_and_tier_is_refused(tenant: Tenant, gpt4o: LlmModel) -> None:
    _create(gpt4o, tenant)
    with pytest.raises(ApplicationError) as caught:
        _create(
            gpt4o, tenant, effective_from="2026-01-01T00:00:00+00:00", prices={"input": "3", "output": "4"}
        )
    assert caught.value.code == "overlapping_price" and caught.value.field == "effective_from"
    assert "already starts at 2026-01-01 00:00 UTC" in caught.value.message
    _create(gpt4o, tenant, tier="batch")  # another tier may start then
    _create(gpt4o, tenant, effective_from="2026-02-01")  # and the same tier later
    assert Price.objects.filter(organization=tenant.organization).count() == 3


def test_prices_are_stored_exactly_per_token(tenant: Tenant, gpt4o: LlmModel) -> None:
    price = _create(
        gpt4o,
        tenant,
        prices={"input": "0.075", "output": "0.3", "input_long": "0.15", "request_fee": "0.005"},
        long_context_threshold="128000",
    )
    price.refresh_from_db()
    assert price.input == Decimal("0.000000075") and price.input_long == Decimal("0.00000015")
    assert price.request_fee == Decimal("0.005") and price.long_context_threshold == 128_000


def test_only_admins_change_organisation_prices(tenant: Tenant, gpt4o: LlmModel) -> None:
    member = add_member(tenant, Role.MEMBER, "member")
    with pytest.raises(PermissionDenied):
        _create(gpt4o, tenant, actor=member)
    admin = add_member(tenant, Role.ADMIN, "admin")
    assert _create(gpt4o, tenant, actor=admin).created_by == admin


def test_only_staff_change_the_shared_catalogue(tenant: Tenant, gpt4o: LlmModel) -> None:
    with pytest.raises(PermissionDenied) as caught:
        _create(gpt4o, tenant, organization=None)
    assert "Only Switchyard staff" in caught.value.message


def test_another_organisations_custom_model_is_not_found(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = custom_model_create(
        organization=other_tenant.organization, actor=None, provider="vllm", name="their-llm"
    )
    with pytest.raises(NotFound):
        _create(theirs, tenant)


def test_price_update_corrects_in_place(tenant: Tenant, gpt4o: LlmModel) -> None:
    price = _create(gpt4o, tenant)
    updated = price_update(
        price=price,
        actor=tenant.user,
        effective_from="2025-12-01",
        prices={"input": "1.5", "output": "2"},
        per_exp=6,
    )
    updated.refresh_from_db()
    assert updated.pk == price.pk and updated.input == Decimal("0.0000015")
    assert updated.effective_from == datetime(2025, 12, 1, tzinfo=UTC)


def test_a_change_starting_in_the_past_schedules_a_recompute(
    tenant: Tenant, gpt4o: LlmModel, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as future:
        _create(gpt4o, tenant, effective_from=datetime.now(UTC) + timedelta(days=30))
    with django_capture_on_commit_callbacks() as past:
        _create(gpt4o, tenant, effective_from="2026-01-01")
    # Both drop the cached books; only the past one also starts a recompute.
    assert (len(future), len(past)) == (1, 2)


def test_custom_models_get_their_own_provider_and_unique_names(tenant: Tenant) -> None:
    model = custom_model_create(
        organization=tenant.organization,
        actor=tenant.user,
        provider="vLLM",
        name="acme-llama",
        aliases="acme-llama-v2\nACME-LLAMA",
        input_includes_cached=False,
    )
    assert model.aliases == ["acme-llama-v2"]  # its own name is not an alias
    provider = Provider.objects.get(organization=tenant.organization, slug="vllm")
    assert provider.input_includes_cached is False
    with pytest.raises(ApplicationError) as caught:
        custom_model_create(
            organization=tenant.organization,
            actor=tenant.user,
            provider="vllm",
            name="other",
            aliases=["acme-llama-v2"],
        )
    assert caught.value.field == "aliases" and "already names your model acme-llama" in caught.value.message
    with pytest.raises(ApplicationError) as bad_pattern:
        custom_model_update(model=model, actor=tenant.user, aliases="", match_pattern="acme-(")
    assert bad_pattern.value.field == "match_pattern"


def test_a_known_provider_slug_or_alias_reuses_the_catalogue_provider(tenant: Tenant) -> None:
    small_catalogue()
    fine_tune = custom_model_create(
        organization=tenant.organization, actor=None, provider="openai", name="ft:gpt-4o:acme::1"
    )
    by_alias = custom_model_create(
        organization=tenant.organization, actor=None, provider="claude-api", name="claude-ft"
    )
    assert fine_tune.provider.organization_id is None and fine_tune.provider.slug == "openai"
    assert by_alias.provider.slug == "anthropic"


def test_discount_is_validated_and_set_again_in_place(tenant: Tenant) -> None:
    small_catalogue()
    with pytest.raises(ApplicationError) as caught:
        discount_set(
            organization=tenant.organization,
            actor=tenant.user,
            provider="openai",
            percent="101",
            effective_from="2026-01-01",
        )
    assert caught.value.field == "percent"
    with pytest.raises(NotFound):
        discount_set(
            organization=tenant.organization,
            actor=tenant.user,
            provider="nobody",
            percent="5",
            effective_from="2026-01-01",
        )
    first = discount_set(
        organization=tenant.organization,
        actor=tenant.user,
        provider="openai",
        percent="10",
        effective_from="2026-01-01",
    )
    again = discount_set(
        organization=tenant.organization,
        actor=tenant.user,
        provider="openai",
        percent="12.5",
        effective_from="2026-01-01",
    )
    assert first.pk == again.pk and again.percent == Decimal("12.5")
