"""Writes for pricing: an organisation's overrides (its providers, custom models, prices and
negotiated discounts) and catalogue prices.

Every change drops the cached price books once it commits and, when it reaches back in time,
starts a recompute of the stored costs it affects (apps.pricing.recompute).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Organization, Person, Role
from apps.accounts.services import require_role
from apps.core.errors import ApplicationError, NotFound, PermissionDenied
from apps.pricing.book import normalize
from apps.pricing.models import LlmModel, Price, Provider, ProviderDiscount, RecomputeRequest
from apps.pricing.recompute import recompute_request
from apps.pricing.selectors import price_book_invalidate
from apps.pricing.validation import (
    clean_aliases,
    clean_currency,
    clean_date,
    clean_datetime,
    clean_model_name,
    clean_pattern,
    clean_percent,
    clean_prices,
    clean_slug,
    clean_threshold,
    clean_tier,
)


def pricing_changed(
    *,
    organization_id: int | None,
    since: datetime | None,
    reason: str,
    model_ids: Iterable[int] | None = None,
    provider_slugs: Iterable[str] | None = None,
    start_recompute: bool = True,
) -> RecomputeRequest | None:
    """After a change commits: forget cached books; recompute stored costs from `since` if past.

    The recompute request is written with the change; `start_recompute=False` leaves starting it
    to the caller (apps.pricing.catalogue's import command) or to the beat's sweep.
    """
    transaction.on_commit(price_book_invalidate)
    if since is not None and since <= timezone.now():
        return recompute_request(
            organization_id=organization_id,
            since=since,
            model_ids=model_ids,
            provider_slugs=provider_slugs,
            reason=reason,
            start=start_recompute,
        )
    return None


def _require_editor(actor: Person | None, organization: Organization | None) -> None:
    """Organisation overrides need an admin; the shared catalogue needs Switchyard staff."""
    if actor is None:
        return  # the import command and data migrations
    if organization is None:
        if not getattr(actor, "is_staff", False):
            raise PermissionDenied(
                "Only Switchyard staff edit the shared catalogue; add a price for your organisation instead"
            )
        return
    require_role(user=actor, organization=organization, at_least=Role.ADMIN)


# --- providers and custom models ---------------------------------------------------------------


def provider_for_organization(
    *, organization: Organization, slug: str, create: bool = False, actor: Person | None = None
) -> Provider:
    """The catalogue provider with this slug or alias, else the organisation's own (made on request)."""
    wanted = clean_slug(slug, "provider")
    for provider in Provider.objects.filter(organization__isnull=True):
        if provider.slug == wanted or wanted in [normalize(a) for a in provider.aliases or []]:
            return provider
    own = Provider.objects.filter(organization=organization, slug=wanted).first()
    if own is not None:
        return own
    if not create:
        raise NotFound(f"Provider {wanted!r} not found")
    _require_editor(actor, organization)
    return Provider.objects.create(organization=organization, slug=wanted, name=wanted)


def _check_names_free(
    *, provider: Provider, organization: Organization, names: list[str], exclude: int | None
) -> None:
    wanted = {normalize(n): n for n in names}
    siblings = LlmModel.objects.filter(provider=provider, organization=organization)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude)
    for other in siblings:
        for taken in (other.name, *(other.aliases or [])):
            if normalize(taken) in wanted:
                raise ApplicationError(
                    f"aliases: {wanted[normalize(taken)]!r} already names your model {other.name}",
                    field="aliases",
                )


@transaction.atomic
def custom_model_create(
    *,
    organization: Organization,
    actor: Person | None,
    provider: str,
    name: str,
    display_name: str = "",
    aliases: Any = (),
    match_pattern: str = "",
    input_includes_cached: bool | None = None,
    output_includes_reasoning: bool | None = None,
) -> LlmModel:
    """A model of the organisation's own (self-hosted, fine-tune) or its own entry for a known name."""
    _require_editor(actor, organization)
    provider_row = provider_for_organization(
        organization=organization, slug=provider, create=True, actor=actor
    )
    if provider_row.organization_id is not None and (
        input_includes_cached is not None or output_includes_reasoning is not None
    ):
        if input_includes_cached is not None:
            provider_row.input_includes_cached = input_includes_cached
        if output_includes_reasoning is not None:
            provider_row.output_includes_reasoning = output_includes_reasoning
        provider_row.save(update_fields=["input_includes_cached", "output_includes_reasoning", "updated_at"])
    clean_name = clean_model_name(name)
    alias_list = [a for a in clean_aliases(aliases) if normalize(a) != normalize(clean_name)]
    _check_names_free(
        provider=provider_row, organization=organization, names=[clean_name, *alias_list], exclude=None
    )
    model = LlmModel.objects.create(
        provider=provider_row,
        organization=organization,
        name=clean_name,
        display_name=(display_name or "").strip()[:200],
        aliases=alias_list,
        match_pattern=clean_pattern(match_pattern),
    )
    pricing_changed(organization_id=organization.pk, since=None, reason=f"custom model {model} added")
    return model


@transaction.atomic
def custom_model_update(
    *, model: LlmModel, actor: Person | None, aliases: Any, match_pattern: str, display_name: str = ""
) -> LlmModel:
    organization = model.organization
    if organization is None:
        raise PermissionDenied("Catalogue models are changed by importing the catalogue")
    _require_editor(actor, organization)
    alias_list = [a for a in clean_aliases(aliases) if normalize(a) != normalize(model.name)]
    _check_names_free(
        provider=model.provider, organization=organization, names=[model.name, *alias_list], exclude=model.pk
    )
    model.aliases = alias_list
    model.match_pattern = clean_pattern(match_pattern)
    model.display_name = (display_name or "").strip()[:200]
    model.save(update_fields=["aliases", "match_pattern", "display_name", "updated_at"])
    first = model.prices.order_by("effective_from").values_list("effective_from", flat=True).first()
    pricing_changed(
        organization_id=organization.pk,
        since=first,
        model_ids=[model.pk],
        reason=f"names of {model} changed",
    )
    return model


# --- prices ------------------------------------------------------------------------------------


def _price_values(
    *, prices: Mapping[str, Any], per_exp: int, long_context_threshold: Any
) -> tuple[dict[str, Any], int | None]:
    cleaned = clean_prices(prices, per_exp=per_exp)
    return cleaned, clean_threshold(long_context_threshold, cleaned)


def _check_scope(model: LlmModel, organization: Organization | None) -> None:
    if model.organization_id is not None and (
        organization is None or model.organization_id != organization.pk
    ):
        raise NotFound("Model not found")


def _overlap(model: LlmModel, tier: str, start: datetime) -> ApplicationError:
    return ApplicationError(
        f"effective_from: a {tier} price for {model.name} already starts at {start:%Y-%m-%d %H:%M} UTC; "
        "edit that price or choose another start",
        field="effective_from",
        code="overlapping_price",
    )


@transaction.atomic
def price_create(
    *,
    model: LlmModel,
    organization: Organization | None,
    actor: Person | None,
    effective_from: Any,
    prices: Mapping[str, Any],
    tier: Any = "standard",
    currency: Any = "USD",
    per_exp: int = 0,
    long_context_threshold: Any = None,
    source: str = "",
    source_date: Any = None,
) -> Price:
    """A price row from `effective_from` on. `prices` are USD per 10**per_exp tokens (fees per unit)."""
    _check_scope(model, organization)
    _require_editor(actor, organization)
    values, threshold = _price_values(
        prices=prices, per_exp=per_exp, long_context_threshold=long_context_threshold
    )
    clean_tier_value = clean_tier(tier)
    start = clean_datetime(effective_from, "effective_from")
    row = Price(
        model=model,
        organization=organization,
        tier=clean_tier_value,
        effective_from=start,
        currency=clean_currency(currency),
        long_context_threshold=threshold,
        source=(source or "").strip()[:500],
        source_date=clean_date(source_date, "source_date"),
        created_by=actor if actor is not None and actor.is_authenticated else None,
        **values,
    )
    if Price.objects.filter(
        model=model, tier=row.tier, effective_from=start, organization=organization
    ).exists():
        raise _overlap(model, row.tier, start)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:
        raise _overlap(model, row.tier, start) from exc
    pricing_changed(
        organization_id=organization.pk if organization else None,
        since=start,
        model_ids=[model.pk],
        reason=f"{row.tier} price for {model} from {start:%Y-%m-%d}",
    )
    return row


@transaction.atomic
def price_update(
    *,
    price: Price,
    actor: Person | None,
    effective_from: Any,
    prices: Mapping[str, Any],
    per_exp: int = 0,
    long_context_threshold: Any = None,
    currency: Any = "USD",
    source: str | None = None,
    source_date: Any = None,
) -> Price:
    """Correct a price row. Costs stored since the earlier of the old and new start are recomputed."""
    _require_editor(actor, price.organization)
    values, threshold = _price_values(
        prices=prices, per_exp=per_exp, long_context_threshold=long_context_threshold
    )
    start = clean_datetime(effective_from, "effective_from")
    clash = Price.objects.filter(
        model=price.model, tier=price.tier, effective_from=start, organization=price.organization
    ).exclude(pk=price.pk)
    if clash.exists():
        raise _overlap(price.model, price.tier, start)
    old_start = price.effective_from
    for name, value in values.items():
        setattr(price, name, value)
    price.long_context_threshold = threshold
    price.currency = clean_currency(currency)
    price.effective_from = start
    if source is not None:
        price.source = source.strip()[:500]
        price.source_date = clean_date(source_date, "source_date")
    price.save()
    pricing_changed(
        organization_id=price.organization_id,
        since=min(old_start, start),
        model_ids=[price.model_id],
        reason=f"{price.tier} price for {price.model} from {start:%Y-%m-%d} changed",
    )
    return price


@transaction.atomic
def price_delete(*, price: Price, actor: Person | None) -> None:
    _require_editor(actor, price.organization)
    since, model_id, organization_id = price.effective_from, price.model_id, price.organization_id
    label = f"{price.tier} price for {price.model} from {since:%Y-%m-%d} removed"
    price.delete()
    pricing_changed(organization_id=organization_id, since=since, model_ids=[model_id], reason=label)


# --- negotiated discounts ----------------------------------------------------------------------


@transaction.atomic
def discount_set(
    *,
    organization: Organization,
    actor: Person | None,
    provider: str,
    percent: Any,
    effective_from: Any,
    note: str = "",
) -> ProviderDiscount:
    """A negotiated discount on the provider's catalogue prices, from `effective_from` on."""
    _require_editor(actor, organization)
    provider_row = provider_for_organization(organization=organization, slug=provider)
    start = clean_datetime(effective_from, "effective_from")
    discount, _ = ProviderDiscount.objects.update_or_create(
        organization=organization,
        provider=provider_row,
        effective_from=start,
        defaults={
            "percent": clean_percent(percent),
            "note": (note or "").strip()[:300],
            "created_by": actor if actor is not None and actor.is_authenticated else None,
        },
    )
    pricing_changed(
        organization_id=organization.pk,
        since=start,
        provider_slugs=[provider_row.slug],
        reason=f"{discount.percent}% discount on {provider_row.slug} from {start:%Y-%m-%d}",
    )
    return discount


@transaction.atomic
def discount_delete(*, organization: Organization, actor: Person | None, discount_id: int) -> None:
    _require_editor(actor, organization)
    discount = (
        ProviderDiscount.objects.filter(pk=discount_id, organization=organization)
        .select_related("provider")
        .first()
    )
    if discount is None:
        raise NotFound("Discount not found")
    since, slug = discount.effective_from, discount.provider.slug
    discount.delete()
    pricing_changed(
        organization_id=organization.pk,
        since=since,
        provider_slugs=[slug],
        reason=f"discount on {slug} from {since:%Y-%m-%d} removed",
    )
