"""Pricing pages: the catalogue, a model's price history, the organisation's overrides, models
without a price, and recompute progress. Every page is about the organisation the person is in."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from apps.accounts.models import Organization
from apps.core.errors import ApplicationError, NotFound
from apps.core.forms import form_refusal
from apps.core.page_decorators import page_action, page_errors
from apps.pricing.book import PRICE_FIELDS
from apps.pricing.display import per_million, price_out
from apps.pricing.forms import (
    CustomModelForm,
    DiscountForm,
    NamesForm,
    PriceForm,
    RecomputeForm,
    rule_value,
)
from apps.pricing.models import LlmModel, Price, RecomputeStatus
from apps.pricing.recompute import LEASE, recompute_job_resume, recompute_organization
from apps.pricing.selectors import (
    custom_models_of,
    discounts_of,
    model_get_visible,
    models_visible,
    own_prices_of,
    price_book,
    price_get_for_model,
    price_rows,
    providers_visible,
    recompute_job_get,
    recompute_jobs_active,
    recompute_jobs_for_organization,
    unpriced_models,
)
from apps.pricing.services import (
    custom_model_create,
    custom_model_update,
    discount_delete,
    discount_set,
    price_create,
    price_delete,
    price_update,
)
from apps.pricing.validation import PER_MILLION_EXP, clean_datetime

CATALOGUE_ROWS = 300
PAST_NOTE = "Stored costs from that date on are being recomputed: see Recompute."


def _organization(request: HttpRequest) -> Organization:
    tenant: Any = request.tenant  # type: ignore[attr-defined]
    if tenant.organization is None:
        raise NotFound("You are not a member of any organisation")
    return tenant.organization


def _past(when: Any) -> bool:
    try:
        return clean_datetime(when, "effective_from") <= timezone.now()
    except ApplicationError:
        return False


@login_required
@page_errors
def catalogue(request: HttpRequest) -> HttpResponse:
    organization = _organization(request)
    q = request.GET.get("q", "").strip()[:100]
    provider = request.GET.get("provider", "").strip()[:64]
    models = list(
        models_visible(organization_id=organization.pk, search=q, provider=provider)[: CATALOGUE_ROWS + 1]
    )
    more = len(models) > CATALOGUE_ROWS
    models = models[:CATALOGUE_ROWS]
    now = timezone.now()
    current: dict[int, Any] = {}
    tiers: dict[int, set[str]] = defaultdict(set)
    for row in price_rows(
        organization_id=organization.pk, model_ids=[m.pk for m in models], current_only=True
    ):
        price = row.price
        if price.effective_from > now:
            continue
        tiers[price.model_id].add(price.tier)
        if price.tier != "standard":
            continue
        held = current.get(price.model_id)
        if held is None or (price.organization_id and not held.price.organization_id):
            current[price.model_id] = row
    items = [
        {
            "model": m,
            "price": price_out(current[m.pk]) if m.pk in current else None,
            "tiers": sorted(tiers[m.pk] - {"standard"}),
        }
        for m in models
    ]
    context = {
        "items": items,
        "q": q,
        "provider": provider,
        "providers": providers_visible(organization_id=organization.pk),
        "more": more,
    }
    return render(request, "pricing/catalogue.html", context)


def _price_initial(price: Price) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "effective_from": price.effective_from.strftime("%Y-%m-%d %H:%M"),
        "tier": price.tier,
        "currency": price.currency,
        "long_context_threshold": price.long_context_threshold or "",
        "source": price.source,
    }
    for name in PRICE_FIELDS:
        value = getattr(price, name)
        if name in ("request_fee", "image_fee"):
            initial[name] = "" if value is None else format(value.normalize(), "f")
        else:
            initial[name] = per_million(value) or ""
    return initial


def _price_values(data: dict[str, Any]) -> dict[str, Any]:
    return {name: data.get(name) or None for name in PRICE_FIELDS}


def _model_page(
    request: HttpRequest,
    organization: Organization,
    model: LlmModel,
    *,
    price_form: PriceForm | None = None,
    names_form: NamesForm | None = None,
    editing_id: int = 0,
) -> HttpResponse:
    """The model's page; a refused form is shown again with what was typed and why."""
    if price_form is None:
        price_form = PriceForm(
            initial={"effective_from": timezone.now().strftime("%Y-%m-%d"), "tier": "standard"}
        )
    if names_form is None:
        names_form = NamesForm(
            initial={
                "display_name": model.display_name,
                "aliases": "\n".join(model.aliases or []),
                "match_pattern": model.match_pattern,
            }
        )
    book = price_book(organization_id=organization.pk)
    includes_cached, includes_reasoning = book.rule(model.provider.slug)
    history = [
        price_out(row) | {"own": row.price.organization_id == organization.pk}
        for row in price_rows(organization_id=organization.pk, model_ids=[model.pk])
    ]
    context = {
        "model": model,
        "history": history,
        "price_form": price_form,
        "names_form": names_form,
        "editing_id": editing_id,
        "rule": {"input_includes_cached": includes_cached, "output_includes_reasoning": includes_reasoning},
    }
    return render(request, "pricing/model.html", context)


def _visible_model(request: HttpRequest, model_id: int) -> tuple[Organization, LlmModel]:
    organization = _organization(request)
    return organization, model_get_visible(organization_id=organization.pk, model_id=model_id)


@login_required
@require_http_methods(["GET"])
@page_errors
def model_detail(request: HttpRequest, model_id: int) -> HttpResponse:
    """A model's price history; `?edit=<price id>` fills the form with one of the organisation's own."""
    organization, model = _visible_model(request, model_id)
    if not request.GET.get("edit", "").isdigit():
        return _model_page(request, organization, model)
    price = price_get_for_model(
        organization=organization, model_id=model.pk, price_id=int(request.GET["edit"])
    )
    form = PriceForm(initial=_price_initial(price))
    return _model_page(request, organization, model, price_form=form, editing_id=price.pk)


@login_required
@page_action("pricing:model", "model_id")
def model_price_save(request: HttpRequest, model_id: int, price_id: int = 0) -> HttpResponse:
    """Add a price for the organisation, or (with `price_id`) change one of its own."""
    organization, model = _visible_model(request, model_id)
    price = (
        price_get_for_model(organization=organization, model_id=model.pk, price_id=price_id)
        if price_id
        else None
    )
    form = PriceForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        kwargs = {
            "actor": request.user,
            "effective_from": data["effective_from"],
            "prices": _price_values(data),
            "per_exp": PER_MILLION_EXP,
            "long_context_threshold": data["long_context_threshold"],
            "currency": data["currency"],
            "source": data["source"],
        }
        try:
            if price is not None:
                price_update(price=price, **kwargs)
            else:
                price_create(model=model, organization=organization, tier=data["tier"], **kwargs)
        except ApplicationError as exc:
            form_refusal(form, exc)
        else:
            note = PAST_NOTE if _past(data["effective_from"]) else ""
            messages.success(request, f"Price saved for {model.name}. {note}".strip())
            return redirect("pricing:model", model_id=model.pk)
    return _model_page(request, organization, model, price_form=form, editing_id=price_id)


@login_required
@page_action("pricing:model", "model_id")
def model_price_delete(request: HttpRequest, model_id: int, price_id: int) -> HttpResponse:
    organization, model = _visible_model(request, model_id)
    price = price_get_for_model(organization=organization, model_id=model.pk, price_id=price_id)
    price_delete(price=price, actor=request.user)
    messages.success(request, f"Price from {price.effective_from:%Y-%m-%d} removed. {PAST_NOTE}")
    return redirect("pricing:model", model_id=model.pk)


@login_required
@page_action("pricing:model", "model_id")
def model_names_save(request: HttpRequest, model_id: int) -> HttpResponse:
    """A custom model's display name, aliases and match pattern."""
    organization, model = _visible_model(request, model_id)
    form = NamesForm(request.POST)
    if form.is_valid():
        try:
            custom_model_update(model=model, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form_refusal(form, exc)
        else:
            messages.success(request, f"Names of {model.name} saved.")
            return redirect("pricing:model", model_id=model.pk)
    return _model_page(request, organization, model, names_form=form)


def _create_custom_model(
    request: HttpRequest, organization: Organization, form: CustomModelForm
) -> LlmModel | None:
    data = form.cleaned_data
    try:
        with transaction.atomic():
            model = custom_model_create(
                organization=organization,
                actor=request.user,
                provider=data["provider"],
                name=data["name"],
                display_name=data["display_name"],
                aliases=data["aliases"],
                match_pattern=data["match_pattern"],
                input_includes_cached=rule_value(data["input_includes_cached"]),
                output_includes_reasoning=rule_value(data["output_includes_reasoning"]),
            )
            if data["input"] or data["output"]:
                price_create(
                    model=model,
                    organization=organization,
                    actor=request.user,
                    effective_from=data["effective_from"] or "1970-01-01",
                    prices={
                        "input": data["input"],
                        "cached_input": data["cached_input"],
                        "output": data["output"],
                    },
                    per_exp=PER_MILLION_EXP,
                )
    except ApplicationError as exc:
        form_refusal(form, exc)
        return None
    return model


def _settings_page(
    request: HttpRequest,
    organization: Organization,
    *,
    discount_form: DiscountForm | None = None,
    model_form: CustomModelForm | None = None,
    recompute_form: RecomputeForm | None = None,
) -> HttpResponse:
    """The organisation's discounts, custom models and own prices, with the three forms; a refused
    form is shown again with what was typed and why."""
    providers = [p.slug for p in providers_visible(organization_id=organization.pk)]
    context = {
        "organization": organization,
        "discounts": discounts_of(organization=organization),
        "custom_models": custom_models_of(organization=organization),
        "own_prices": own_prices_of(organization=organization),
        "discount_form": discount_form or DiscountForm(providers=providers),
        "model_form": model_form
        or CustomModelForm(
            initial={
                "provider": request.GET.get("provider", "")[:64],
                "name": request.GET.get("model", "")[:200],
                "effective_from": request.GET.get("since", "")[:10],
            },
        ),
        "recompute_form": recompute_form or RecomputeForm(),
    }
    return render(request, "pricing/settings.html", context)


@login_required
@require_http_methods(["GET"])
@page_errors
def overrides(request: HttpRequest) -> HttpResponse:
    """The organisation's discounts, custom models and own prices (`?provider=&model=&since=` fill
    the custom model form, as the page of models without a price links to it)."""
    return _settings_page(request, _organization(request))


@login_required
@page_action("pricing:settings")
def discount_save(request: HttpRequest) -> HttpResponse:
    organization = _organization(request)
    providers = [p.slug for p in providers_visible(organization_id=organization.pk)]
    form = DiscountForm(request.POST, providers=providers)
    if form.is_valid():
        data = form.cleaned_data
        try:
            discount_set(organization=organization, actor=request.user, **data)
        except ApplicationError as exc:
            form_refusal(form, exc)
        else:
            messages.success(request, f"{data['percent']}% off {data['provider']} saved. {PAST_NOTE}")
            return redirect("pricing:settings")
    return _settings_page(request, organization, discount_form=form)


@login_required
@page_action("pricing:settings")
def discount_remove(request: HttpRequest, discount_id: int) -> HttpResponse:
    discount_delete(organization=_organization(request), actor=request.user, discount_id=discount_id)
    messages.success(request, f"Discount removed. {PAST_NOTE}")
    return redirect("pricing:settings")


@login_required
@page_action("pricing:settings")
def custom_model_add(request: HttpRequest) -> HttpResponse:
    """A model the catalogue does not have, with its first price if one is given."""
    organization = _organization(request)
    form = CustomModelForm(request.POST)
    model = _create_custom_model(request, organization, form) if form.is_valid() else None
    if model is None:
        return _settings_page(request, organization, model_form=form)
    messages.success(request, f"Model {model.name} added. {PAST_NOTE}")
    return redirect("pricing:model", model_id=model.pk)


@login_required
@page_action("pricing:settings")
def recompute_start(request: HttpRequest) -> HttpResponse:
    """Recompute every stored cost of the organisation since a date."""
    organization = _organization(request)
    form = RecomputeForm(request.POST)
    if form.is_valid():
        try:
            since = clean_datetime(form.cleaned_data["since"], "since")
            recompute_organization(
                organization=organization,
                actor=request.user,
                since=since,
                reason=f"requested by {request.user}",
            )
        except ApplicationError as exc:
            form_refusal(form, exc)
        else:
            messages.success(request, f"Recomputing every stored cost since {since:%Y-%m-%d}.")
            return redirect("pricing:recompute")
    return _settings_page(request, organization, recompute_form=form)


@login_required
@page_errors
def unpriced(request: HttpRequest) -> HttpResponse:
    organization = _organization(request)
    items = unpriced_models(organization=organization)
    active = recompute_jobs_active(organization=organization)
    return render(request, "pricing/unpriced.html", {"items": items, "active": active})


@login_required
@require_http_methods(["GET"])
@page_errors
def recompute_jobs(request: HttpRequest) -> HttpResponse:
    organization = _organization(request)
    jobs = list(recompute_jobs_for_organization(organization=organization))
    stale = timezone.now() - LEASE
    stalled = {
        j.pk
        for j in jobs
        if j.status == RecomputeStatus.RUNNING and (j.heartbeat_at is None or j.heartbeat_at < stale)
    }
    active = any(j.status in (RecomputeStatus.PENDING, RecomputeStatus.RUNNING) for j in jobs)
    return render(request, "pricing/recompute.html", {"jobs": jobs, "active": active, "stalled": stalled})


@login_required
@page_action("pricing:recompute")
def recompute_resume(request: HttpRequest, job_id: int) -> HttpResponse:
    """Resume a failed or stalled recompute from where it stopped."""
    job = recompute_job_get(organization=_organization(request), job_id=job_id)
    recompute_job_resume(job=job, actor=request.user)
    messages.success(request, f"Recompute of {job.project.name} resumed from where it stopped.")
    return redirect("pricing:recompute")
