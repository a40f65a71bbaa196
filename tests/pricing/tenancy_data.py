"""Pricing data owned by one tenant, for tests/tenancy_cases.py: what another tenant must not see."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.urls import reverse

from apps.pricing.models import LlmModel, Provider, ProviderDiscount, RecomputeJob, RecomputeStatus
from apps.pricing.services import custom_model_create, discount_set, price_create
from tests.pricing.factories import store_unpriced_calls
from tests.tenancy import Tenant


def secrets(t: Tenant) -> dict[str, Any]:
    """Make (once) the owner's custom model with a price, a discount, a failed job, an unpriced call."""
    if "pricing" in t.extra:
        return t.extra["pricing"]  # type: ignore[no-any-return]
    slug = t.organization.slug
    Provider.objects.get_or_create(slug="openai", organization=None, defaults={"name": "OpenAI"})
    model = custom_model_create(
        organization=t.organization, actor=None, provider="vllm", name=f"{slug}-secret-llm"
    )
    price = price_create(
        model=model,
        organization=t.organization,
        actor=None,
        effective_from="2025-01-01",
        prices={"input": "1", "output": "2"},
        per_exp=6,
    )
    discount = discount_set(
        organization=t.organization,
        actor=None,
        provider="openai",
        percent="7",
        effective_from="2026-01-01",
        note=f"{slug}-secret-discount",
    )
    job = RecomputeJob.objects.create(
        organization=t.organization,
        project=t.project,
        reason=f"{slug}-secret-recompute",
        since=datetime(2026, 1, 1, tzinfo=UTC),
        status=RecomputeStatus.FAILED,
    )
    store_unpriced_calls(t.project.pk, "vllm", f"{slug}-secret-unpriced")
    t.extra["pricing"] = {"model": model, "price": price, "discount": discount, "job": job}
    return t.extra["pricing"]  # type: ignore[no-any-return]


def url(name: str) -> Any:
    def build(t: Tenant) -> str:
        secrets(t)
        return reverse(name)

    return build


def model_url(t: Tenant) -> str:
    return reverse("pricing:model", args=[secrets(t)["model"].pk])


def model_action_url(name: str, with_price: bool = False) -> Any:
    """One of the model page's action URLs, for the owner's custom model (and its price)."""

    def build(t: Tenant) -> str:
        found = secrets(t)
        args = [found["model"].pk, found["price"].pk] if with_price else [found["model"].pk]
        return reverse(name, args=args)

    return build


def discount_url(t: Tenant) -> str:
    return reverse("pricing:discount-delete", args=[secrets(t)["discount"].pk])


def owner_untouched(owner: Tenant, intruder: Tenant, response: Any) -> None:
    """A form that acts on the caller's own organisation changed nothing of the owner's."""
    assert response.status_code in (200, 302), response.status_code
    found = secrets(owner)
    assert ProviderDiscount.objects.filter(organization=owner.organization).get() == found["discount"]
    assert ProviderDiscount.objects.get(pk=found["discount"].pk).percent == found["discount"].percent
    assert [m.pk for m in LlmModel.objects.filter(organization=owner.organization)] == [found["model"].pk]
    assert (
        not RecomputeJob.objects.filter(organization=owner.organization).exclude(pk=found["job"].pk).exists()
    )


def hides_owner(owner: Tenant, intruder: Tenant, response: Any) -> None:
    assert response.status_code == 200, response.status_code
    body = response.content.decode()
    slug = owner.organization.slug
    for kind in ("llm", "discount", "recompute", "unpriced"):
        assert f"{slug}-secret-{kind}" not in body, kind
    assert owner.project.name not in body


def estimate_body(t: Tenant) -> dict[str, Any]:
    secrets(t)
    return {"provider": "vllm", "model": f"{t.organization.slug}-secret-llm", "usage": {"input_tokens": 10}}
