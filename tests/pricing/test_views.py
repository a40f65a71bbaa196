"""The pricing pages: catalogue, model history, overrides, models without a price, recompute."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.pricing.models import LlmModel, Price, ProviderDiscount, RecomputeJob, RecomputeStatus
from apps.pricing.services import price_create
from tests.pricing.factories import store_unpriced_calls
from tests.tenancy import Tenant, add_member

pytestmark = pytest.mark.django_db


def test_catalogue_lists_current_prices_and_searches(tenant: Tenant, catalogue: dict[str, LlmModel]) -> None:
    page = tenant.web().get(reverse("pricing:catalogue"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "gpt-4o" in html and "claude-sonnet-4-5" in html and "2.5" in html
    found = tenant.web().get(reverse("pricing:catalogue"), {"q": "claude"}).content.decode()
    assert ">claude-sonnet-4-5</a>" in found and ">gpt-4o</a>" not in found


def test_model_page_shows_history_and_an_admin_adds_a_negotiated_price(
    tenant: Tenant, catalogue: dict[str, LlmModel]
) -> None:
    model = catalogue["gpt-4o"]
    url = reverse("pricing:model", args=[model.pk])
    html = tenant.web().get(url).content.decode()
    assert "hello-gpt-4o" in html and "2024-05-13" in html and "includes" in html
    response = tenant.web().post(
        reverse("pricing:model-price-add", args=[model.pk]),
        {
            "effective_from": "2026-01-01",
            "tier": "standard",
            "currency": "USD",
            "input": "2",
            "cached_input": "1",
            "output": "8",
        },
        follow=True,
    )
    assert response.status_code == 200 and b"Price saved for gpt-4o" in response.content
    own = Price.objects.get(model=model, organization=tenant.organization)
    assert (own.input, own.cached_input, own.output) == (
        Decimal("0.000002"),
        Decimal("0.000001"),
        Decimal("0.000008"),
    )
    catalogue_page = tenant.web().get(reverse("pricing:catalogue")).content.decode()
    assert "your price" in catalogue_page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"input": "-1", "output": "8"}, "must be &gt;= 0, got -1"),
        ({"input": "two", "output": "8"}, "must be a number, got &#x27;two&#x27;"),
        ({"input": "1", "output": "8", "effective_from": "2024-10-02"}, "already starts at 2024-10-02"),
        ({"input": "1", "output": "8", "input_long": "2"}, "is required when long-context prices are given"),
    ],
)
def test_bad_prices_are_refused_on_the_form_naming_the_field(
    tenant: Tenant, catalogue: dict[str, LlmModel], fields: dict[str, str], message: str
) -> None:
    model = catalogue["gpt-4o"]
    # A catalogue row starts 2024-10-02; an organisation row at the same start does not overlap it,
    # so make one first to hit the overlap check.
    price_create(
        model=model,
        organization=tenant.organization,
        actor=None,
        effective_from="2024-10-02",
        prices={"input": "1", "output": "1"},
        per_exp=6,
    )
    data = {
        "effective_from": "2026-02-01",
        "tier": "standard",
        "currency": "USD",
        **fields,
    }
    response = tenant.web().post(reverse("pricing:model-price-add", args=[model.pk]), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "Price history" in response.content.decode()  # the model's page again, with the form
    assert Price.objects.filter(model=model, organization=tenant.organization).count() == 1


def test_a_viewer_sees_prices_but_cannot_change_them(tenant: Tenant, catalogue: dict[str, LlmModel]) -> None:
    viewer = add_member(tenant, Role.VIEWER, "viewer")
    tenant.user = viewer
    url = reverse("pricing:model", args=[catalogue["gpt-4o"].pk])
    page = tenant.web().get(url)
    assert page.status_code == 200 and b"Only admins and owners can add prices" in page.content
    refused = tenant.web().post(
        reverse("pricing:model-price-add", args=[catalogue["gpt-4o"].pk]),
        {
            "effective_from": "2026-01-01",
            "tier": "standard",
            "currency": "USD",
            "input": "1",
            "output": "1",
        },
    )
    assert refused.status_code == 403
    assert not Price.objects.filter(organization=tenant.organization).exists()


def test_settings_adds_a_discount_and_a_custom_model_with_its_price(
    tenant: Tenant, catalogue: dict[str, LlmModel]
) -> None:
    page = tenant.web().get(reverse("pricing:settings"))
    assert (
        page.status_code == 200
        and b"Negotiated discounts" in page.content
        and b"Add a model of your own" in page.content
    )
    url = reverse("pricing:discount-save")
    bad = tenant.web().post(url, {"provider": "openai", "percent": "120", "effective_from": "2026-01-01"})
    assert bad.status_code == 200 and b"must be between 0 and 100" in bad.content
    ok = tenant.web().post(url, {"provider": "openai", "percent": "12.5", "effective_from": "2026-01-01"})
    assert ok.status_code == 302
    assert ProviderDiscount.objects.get(organization=tenant.organization).percent == Decimal("12.5")
    created = tenant.web().post(
        reverse("pricing:custom-model-add"),
        {
            "provider": "vllm",
            "name": "acme-llama-70b",
            "aliases": "acme-llama\nllama-ft",
            "effective_from": "2026-01-01",
            "input": "0.4",
            "output": "1.2",
        },
    )
    model = LlmModel.objects.get(organization=tenant.organization, name="acme-llama-70b")
    assert created.status_code == 302 and created["Location"] == reverse("pricing:model", args=[model.pk])
    assert (
        model.aliases == ["acme-llama", "llama-ft"]
        and model.provider.organization_id == tenant.organization.pk
    )
    assert Price.objects.get(model=model).input == Decimal("0.0000004")


def test_a_custom_model_with_a_bad_price_is_not_half_created(tenant: Tenant) -> None:
    response = tenant.web().post(
        reverse("pricing:custom-model-add"),
        {"provider": "vllm", "name": "half", "input": "-1", "output": "1"},
    )
    assert response.status_code == 200 and b"must be &gt;= 0" in response.content
    assert not LlmModel.objects.filter(name="half").exists()


def test_unpriced_page_lists_unknown_models_with_a_one_click_fix(tenant: Tenant) -> None:
    store_unpriced_calls(tenant.project.pk, "vllm", "mystery-7b", count=2)
    html = tenant.web().get(reverse("pricing:unpriced")).content.decode()
    assert "mystery-7b" in html and "Add a price" in html
    assert f"{reverse('pricing:settings')}?provider=vllm&amp;model=mystery-7b&amp;since=" in html
    form = tenant.web().get(
        reverse("pricing:settings"), {"provider": "vllm", "model": "mystery-7b", "since": "2026-11-20"}
    )
    assert b'value="mystery-7b"' in form.content and b'value="2026-11-20"' in form.content


def test_recompute_page_shows_progress_and_refreshes_while_running(tenant: Tenant) -> None:
    RecomputeJob.objects.create(
        organization=tenant.organization,
        project=tenant.project,
        reason="gpt-4o price cut",
        since=datetime(2026, 11, 1, tzinfo=UTC),
        status=RecomputeStatus.RUNNING,
        total=200,
        processed=50,
        heartbeat_at=datetime.now(UTC),
    )
    html = tenant.web().get(reverse("pricing:recompute")).content.decode()
    assert 'http-equiv="refresh"' in html and "width: 25%" in html and "50 / 200" in html


def test_a_failed_recompute_can_be_resumed(tenant: Tenant) -> None:
    job = RecomputeJob.objects.create(
        organization=tenant.organization,
        project=tenant.project,
        reason="x",
        since=datetime(2026, 11, 1, tzinfo=UTC),
        status=RecomputeStatus.FAILED,
        error="WarehouseUnavailable: try again",
    )
    page = tenant.web().get(reverse("pricing:recompute")).content.decode()
    assert "Resume" in page and "try again" in page
    resume = reverse("pricing:recompute-resume", args=[job.pk])
    assert f'action="{resume}"' in page
    response = tenant.web().post(resume, follow=True)
    assert response.status_code == 200 and b"resumed" in response.content


def test_unknown_ids_are_404_not_500(tenant: Tenant) -> None:
    assert tenant.web().get(reverse("pricing:model", args=[999_999])).status_code == 404
    assert tenant.web().get(reverse("pricing:model", args=[1]) + "?edit=999999").status_code == 404


def _own_price(tenant: Tenant, model: LlmModel) -> Price:
    """The organisation's own $2 / $8 price for `model` from 2026-01-01."""
    return price_create(
        model=model,
        organization=tenant.organization,
        actor=None,
        effective_from="2026-01-01",
        prices={"input": "2", "output": "8"},
        per_exp=6,
    )


def test_an_admin_edits_their_own_price_in_place(tenant: Tenant, catalogue: dict[str, LlmModel]) -> None:
    model = catalogue["gpt-4o"]
    own = _own_price(tenant, model)
    url = reverse("pricing:model", args=[model.pk])
    form = tenant.web().get(url, {"edit": own.pk}).content.decode()
    edit_url = reverse("pricing:model-price-edit", args=[model.pk, own.pk])
    assert "Edit your price" in form and f'action="{edit_url}"' in form and 'value="2"' in form
    data = {
        "effective_from": "2026-01-01",
        "tier": "standard",
        "currency": "USD",
        "input": "1.8",
        "output": "8",
    }
    assert tenant.web().post(edit_url, data).status_code == 302
    own.refresh_from_db()
    assert (
        own.input == Decimal("0.0000018")
        and Price.objects.filter(organization=tenant.organization).count() == 1
    )


def test_an_admin_removes_their_own_price_but_not_another_models(
    tenant: Tenant, catalogue: dict[str, LlmModel]
) -> None:
    model, other = catalogue["gpt-4o"], catalogue["claude-sonnet-4-5"]
    own = _own_price(tenant, model)
    page = tenant.web().get(reverse("pricing:model", args=[model.pk])).content.decode()
    delete_url = reverse("pricing:model-price-delete", args=[model.pk, own.pk])
    assert f'action="{delete_url}"' in page
    # the price is this model's: asked through another model's URL it is not found
    wrong = tenant.web().post(reverse("pricing:model-price-delete", args=[other.pk, own.pk]))
    assert wrong.status_code == 404 and Price.objects.filter(pk=own.pk).exists()
    assert tenant.web().get(delete_url).status_code == 405
    removed = tenant.web().post(delete_url, follow=True)
    assert b"Price from 2026-01-01 removed" in removed.content
    assert not Price.objects.filter(pk=own.pk).exists()


def test_a_custom_models_names_are_saved_and_a_clash_is_shown_on_the_form(
    tenant: Tenant, catalogue: dict[str, LlmModel]
) -> None:
    tenant.web().post(reverse("pricing:custom-model-add"), {"provider": "vllm", "name": "acme-a"})
    tenant.web().post(reverse("pricing:custom-model-add"), {"provider": "vllm", "name": "acme-b"})
    model = LlmModel.objects.get(organization=tenant.organization, name="acme-a")
    url = reverse("pricing:model-names", args=[model.pk])
    saved = tenant.web().post(url, {"display_name": "Acme A", "aliases": "a-one"}, follow=True)
    assert b"Names of acme-a saved" in saved.content and b"<strong>Acme A</strong>" in saved.content
    model.refresh_from_db()
    assert model.aliases == ["a-one"]
    clash = tenant.web().post(url, {"aliases": "acme-b"})
    assert clash.status_code == 200 and b"Save names" in clash.content and b"acme-b" in clash.content
    model.refresh_from_db()
    assert model.aliases == ["a-one"]


def test_a_discount_is_removed_and_a_recompute_is_started_from_the_settings_page(
    tenant: Tenant, catalogue: dict[str, LlmModel]
) -> None:
    web = tenant.web()
    web.post(
        reverse("pricing:discount-save"),
        {"provider": "openai", "percent": "10", "effective_from": "2026-01-01"},
    )
    discount = ProviderDiscount.objects.get(organization=tenant.organization)
    page = web.get(reverse("pricing:settings")).content.decode()
    assert f'action="{reverse("pricing:discount-delete", args=[discount.pk])}"' in page
    removed = web.post(reverse("pricing:discount-delete", args=[discount.pk]), follow=True)
    assert b"Discount removed" in removed.content and not ProviderDiscount.objects.exists()
    missing = web.post(reverse("pricing:discount-delete", args=[discount.pk]))
    assert missing.status_code == 404
    bad = web.post(reverse("pricing:recompute-start"), {"since": "not a date"})
    assert bad.status_code == 200 and b"Recompute stored costs" in bad.content
    assert not RecomputeJob.objects.exists()
    started = web.post(reverse("pricing:recompute-start"), {"since": "2026-11-01"})
    assert started.status_code == 302 and started["Location"] == reverse("pricing:recompute")
