"""Reads for pricing: the cached price book the ingest path costs calls with, and the catalogue.

`price_book(organization_id=…)` is the one entry point for costing: it is kept in-process for
BOOK_TTL_S seconds and dropped in this process as soon as a price, model or override changes
(other processes pick the change up within BOOK_TTL_S; the recompute job covers that window).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.accounts.models import Organization
from apps.core.errors import ApplicationError, NotFound
from apps.pricing.book import (
    PRICE_FIELDS,
    DiscountRecord,
    ModelRecord,
    PriceBook,
    PriceRecord,
    ProviderRecord,
    ResolvedModel,
)
from apps.pricing.cost import CostResult, Usage
from apps.pricing.models import LlmModel, Price, Provider, ProviderDiscount, RecomputeJob, RecomputeStatus
from apps.warehouse.client import ProjectScope, load_sql

__all__ = [
    "BOOK_TTL_S",
    "CostEstimate",
    "Lifecycle",
    "PriceBook",
    "PriceRow",
    "UnpricedModel",
    "cost_estimate",
    "custom_models_of",
    "discounts_of",
    "model_get_visible",
    "model_lifecycles",
    "models_visible",
    "own_prices_of",
    "price_book",
    "price_book_invalidate",
    "price_book_load",
    "price_get_for_model",
    "price_is_catalogue",
    "price_rows",
    "providers_visible",
    "recompute_job_get",
    "recompute_jobs_active",
    "recompute_jobs_for_organization",
    "unpriced_models",
]

BOOK_TTL_S = 30.0

_lock = threading.Lock()
_generation = 0
_catalogue: tuple[float, int, tuple[list[ProviderRecord], list[ModelRecord], list[PriceRecord]]] | None = None
_books: dict[int, tuple[float, int, PriceBook]] = {}


def _provider_records(qs: QuerySet[Provider], custom: bool) -> list[ProviderRecord]:
    return [
        ProviderRecord(
            slug=p.slug,
            name=p.name,
            aliases=tuple(p.aliases or ()),
            input_includes_cached=p.input_includes_cached,
            output_includes_reasoning=p.output_includes_reasoning,
            custom=custom,
        )
        for p in qs
    ]


def _model_records(qs: QuerySet[LlmModel], custom: bool) -> list[ModelRecord]:
    return [
        ModelRecord(
            id=m.pk,
            provider=m.provider.slug,
            name=m.name,
            aliases=tuple(m.aliases or ()),
            pattern=m.match_pattern,
            custom=custom,
        )
        for m in qs.select_related("provider")
    ]


def _price_records(qs: QuerySet[Price], custom: bool) -> list[PriceRecord]:
    return [
        PriceRecord(
            id=p.pk,
            model_id=p.model_id,
            effective_from=p.effective_from,
            tier=p.tier,
            custom=custom,
            long_context_threshold=p.long_context_threshold,
            **{name: getattr(p, name) for name in PRICE_FIELDS},
        )
        for p in qs
    ]


def _catalogue_records(
    *, fresh: bool = False
) -> tuple[list[ProviderRecord], list[ModelRecord], list[PriceRecord]]:
    global _catalogue
    now = time.monotonic()
    cached = _catalogue
    if not fresh and cached is not None and now - cached[0] < BOOK_TTL_S and cached[1] == _generation:
        return cached[2]
    generation = _generation
    records = (
        _provider_records(Provider.objects.filter(organization__isnull=True), custom=False),
        _model_records(LlmModel.objects.filter(organization__isnull=True), custom=False),
        _price_records(Price.objects.filter(organization__isnull=True), custom=False),
    )
    with _lock:
        if generation == _generation:
            _catalogue = (now, generation, records)
    return records


def _book(organization_id: int | None, *, fresh: bool) -> PriceBook:
    providers, models, prices = _catalogue_records(fresh=fresh)
    discounts: list[DiscountRecord] = []
    if organization_id is not None:
        providers = providers + _provider_records(
            Provider.objects.filter(organization_id=organization_id), custom=True
        )
        models = models + _model_records(
            LlmModel.objects.filter(organization_id=organization_id), custom=True
        )
        prices = prices + _price_records(Price.objects.filter(organization_id=organization_id), custom=True)
        discounts = [
            DiscountRecord(d.provider.slug, d.percent, d.effective_from)
            for d in ProviderDiscount.objects.filter(organization_id=organization_id).select_related(
                "provider"
            )
        ]
    return PriceBook(providers=providers, models=models, prices=prices, discounts=discounts)


def price_book_load(*, organization_id: int | None) -> PriceBook:
    """A book straight from the database, no cache at all (the recompute job uses this)."""
    return _book(organization_id, fresh=True)


def price_book(*, organization_id: int) -> PriceBook:
    """The organisation's price book, cached in-process for BOOK_TTL_S seconds."""
    now = time.monotonic()
    hit = _books.get(organization_id)
    if hit is not None and now - hit[0] < BOOK_TTL_S and hit[1] == _generation:
        return hit[2]
    generation = _generation
    book = _book(organization_id, fresh=False)
    with _lock:
        if generation == _generation:
            _books[organization_id] = (now, generation, book)
    return book


def price_book_invalidate() -> None:
    """Forget every cached book in this process (call after a price or override change commits)."""
    global _generation, _catalogue
    with _lock:
        _generation += 1
        _catalogue = None
        _books.clear()


# --- the catalogue as pages and the API show it ---------------------------------------------


def _visible(organization_id: int | None) -> Q:
    return Q(organization__isnull=True) | Q(organization_id=organization_id)


def providers_visible(*, organization_id: int | None) -> QuerySet[Provider]:
    return Provider.objects.filter(_visible(organization_id)).order_by("slug")


def models_visible(
    *, organization_id: int | None, search: str = "", provider: str = ""
) -> QuerySet[LlmModel]:
    qs = LlmModel.objects.filter(_visible(organization_id)).select_related("provider")
    if provider:
        qs = qs.filter(provider__slug__iexact=provider.strip())
    if search:
        qs = qs.filter(Q(name__icontains=search.strip()) | Q(display_name__icontains=search.strip()))
    return qs.order_by("provider__slug", "name")


def model_get_visible(*, organization_id: int | None, model_id: int) -> LlmModel:
    model = models_visible(organization_id=organization_id).filter(pk=model_id).first()
    if model is None:
        raise NotFound("Model not found")
    return model


@dataclass(frozen=True)
class Lifecycle:
    """A model the catalogue marks deprecated, retiring or superseded (the successor: same provider,
    the same or a better quality tier)."""

    model_id: int
    provider: str
    name: str
    deprecated_on: date | None
    retires_on: date | None
    successor_provider: str  # "" when there is none
    successor_name: str


def model_lifecycles(*, organization_id: int | None) -> dict[int, Lifecycle]:
    """Lifecycle of every model the organisation sees that has one, by model id."""
    qs = (
        LlmModel.objects.filter(_visible(organization_id))
        .filter(Q(deprecated_on__isnull=False) | Q(retires_on__isnull=False) | Q(successor__isnull=False))
        .select_related("provider", "successor__provider")
    )
    return {
        m.pk: Lifecycle(
            model_id=m.pk,
            provider=m.provider.slug,
            name=m.name,
            deprecated_on=m.deprecated_on,
            retires_on=m.retires_on,
            successor_provider=m.successor.provider.slug if m.successor else "",
            successor_name=m.successor.name if m.successor else "",
        )
        for m in qs
    }


@dataclass(frozen=True)
class PriceRow:
    """A price row with the end of its validity (the next row's start, or None = still in force)."""

    price: Price
    effective_until: datetime | None

    @property
    def scope(self) -> str:
        return "catalogue" if self.price.organization_id is None else "organization"


def price_rows(
    *, organization_id: int | None, model_ids: list[int] | None = None, current_only: bool = False
) -> list[PriceRow]:
    """Prices the organisation sees (the catalogue's and its own), newest first per model and tier.

    `current_only` keeps the rows in force now and any that start later.
    """
    qs = Price.objects.filter(
        _visible(organization_id), model__in=models_visible(organization_id=organization_id)
    )
    if model_ids is not None:
        qs = qs.filter(model_id__in=model_ids)
    ordered = list(
        qs.select_related("model__provider").order_by(
            "model__provider__slug", "model__name", "tier", "organization_id", "-effective_from"
        )
    )
    now = timezone.now()
    rows: list[PriceRow] = []
    next_start: dict[tuple[int, str, int | None], datetime] = {}
    for price in ordered:
        key = (price.model_id, price.tier, price.organization_id)
        until = next_start.get(key)
        next_start[key] = price.effective_from
        if current_only and until is not None and until <= now:
            continue
        rows.append(PriceRow(price, until))
    return rows


def price_get_for_model(*, organization: Organization, model_id: int, price_id: int) -> Price:
    """One of the organisation's own prices of this model (catalogue rows are not its to edit)."""
    price = (
        Price.objects.filter(pk=price_id, organization=organization, model_id=model_id)
        .select_related("model__provider")
        .first()
    )
    if price is None:
        raise NotFound("Price not found")
    return price


def discounts_of(*, organization: Organization) -> QuerySet[ProviderDiscount]:
    return (
        ProviderDiscount.objects.filter(organization=organization)
        .select_related("provider")
        .order_by("provider__slug", "-effective_from")
    )


def custom_models_of(*, organization: Organization) -> QuerySet[LlmModel]:
    return LlmModel.objects.filter(organization=organization).select_related("provider").order_by("name")


def own_prices_of(*, organization: Organization) -> QuerySet[Price]:
    """The organisation's own prices for catalogue models."""
    return (
        Price.objects.filter(organization=organization, model__organization__isnull=True)
        .select_related("model__provider")
        .order_by("model__name", "-effective_from")
    )


def price_is_catalogue(*, price_id: int) -> bool:
    """Whether a price row is the shared catalogue's (negotiated discounts apply to those only)."""
    return Price.objects.filter(pk=price_id, organization__isnull=True).exists()


def recompute_job_get(*, organization: Organization, job_id: int) -> RecomputeJob:
    job = RecomputeJob.objects.filter(pk=job_id, organization=organization).select_related("project").first()
    if job is None:
        raise NotFound("Recompute job not found")
    return job


def recompute_jobs_active(*, organization: Organization) -> bool:
    """Whether a recompute of the organisation's stored costs is waiting or running."""
    return RecomputeJob.objects.filter(
        organization=organization, status__in=[RecomputeStatus.PENDING, RecomputeStatus.RUNNING]
    ).exists()


def recompute_jobs_for_organization(*, organization: Organization, limit: int = 50) -> QuerySet[RecomputeJob]:
    return (
        RecomputeJob.objects.filter(organization=organization)
        .select_related("project")
        .order_by("-created_at")[:limit]
    )


# --- the cost of one call's usage -------------------------------------------------------------


@dataclass(frozen=True)
class CostEstimate:
    resolved: ResolvedModel
    ts: datetime
    tier: str  # asked for (or the usage's, else standard)
    result: CostResult
    input_includes_cached: bool  # the rule applied: the usage's own flag, else the provider's
    output_includes_reasoning: bool
    discount_percent: Decimal  # the negotiated discount applied (catalogue prices only)


def cost_estimate(
    *, organization_id: int, provider: str, model: str, ts: datetime, tier: str | None, usage: Usage
) -> CostEstimate:
    """What Switchyard would store as the cost of one call: the same book and cost function as
    ingest. Refuses (422, `no_price`) when no price covers the model at `ts`."""
    tier = tier or usage.service_tier or "standard"
    book = price_book(organization_id=organization_id)
    resolved = book.resolve(provider, model)
    result = book.cost(provider=provider, model=model, ts=ts, usage=usage, tier=tier)
    if result is None or resolved is None:
        where = f"{provider}/{model}" if provider else model
        raise ApplicationError(
            f"No price for {where} at {ts:%Y-%m-%d %H:%M} UTC; "
            "add one on the Pricing page (Models without a price)",
            code="no_price",
            status=422,
        )
    includes_cached, includes_reasoning = book.rule(provider, model)
    return CostEstimate(
        resolved=resolved,
        ts=ts,
        tier=tier,
        result=result,
        input_includes_cached=includes_cached
        if usage.input_includes_cached is None
        else usage.input_includes_cached,
        output_includes_reasoning=includes_reasoning
        if usage.output_includes_reasoning is None
        else usage.output_includes_reasoning,
        discount_percent=book.discount_percent(resolved.provider, ts)
        if price_is_catalogue(price_id=result.price_id)
        else Decimal(0),
    )


# --- models without a price --------------------------------------------------------------------


@dataclass(frozen=True)
class UnpricedModel:
    project_id: int
    project_name: str
    provider: str
    model: str
    calls: int
    first_seen: datetime
    last_seen: datetime
    now_priced: bool  # a price now covers the first of these calls: a recompute fills them in


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def unpriced_models(*, organization: Organization) -> list[UnpricedModel]:
    """Per project, every (provider, model) with calls stored without a price (from the rollups)."""
    sql = load_sql(__file__, "unpriced_models")
    book = price_book(organization_id=organization.pk)
    out: list[UnpricedModel] = []
    for project in organization.projects.order_by("name"):
        result = ProjectScope(project.pk).query(sql, feature="pricing.unpriced")
        for row in result.dicts():
            out.append(
                UnpricedModel(
                    project_id=project.pk,
                    project_name=project.name,
                    provider=row["provider"],
                    model=row["model"],
                    calls=int(row["calls"]),
                    first_seen=_utc(row["first_seen"]),
                    last_seen=_utc(row["last_seen"]),
                    now_priced=book.cost(
                        provider=row["provider"],
                        model=row["model"],
                        ts=_utc(row["first_seen"]),
                        usage=Usage(),
                    )
                    is not None,
                )
            )
    return out
