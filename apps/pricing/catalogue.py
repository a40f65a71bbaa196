"""Loading a checked price file into the shared catalogue: all or nothing, and idempotent.

A price that is already there with the same values changes nothing, so importing a file twice
changes nothing. A Switchyard file names each row's start: a row at an existing start with other
values corrects it. A LiteLLM file has no dates: a model's first price counts from the start of
time (`since`, default 1970-01-01), and a price that differs from the one in force now starts
today (or at `since` when given). Changed rows whose start is past trigger a recompute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.pricing.book import PRICE_FIELDS
from apps.pricing.models import LlmModel, Price, Provider
from apps.pricing.price_file import parse_price_file
from apps.pricing.price_plan import ModelSpec, PriceFileError, PricePlan, PriceSpec
from apps.pricing.services import pricing_changed

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SEED_FILE = Path(__file__).resolve().parent / "data" / "prices.json"


@dataclass
class ImportReport:
    format: str
    providers_created: int = 0
    providers_updated: int = 0
    models_created: int = 0
    models_updated: int = 0
    prices_created: int = 0
    prices_updated: int = 0
    prices_unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    recompute_request_id: int | None = None  # the recompute this import asked for, if any
    notes: list[str] = field(default_factory=list)  # kept, with something worth saying

    @property
    def changed(self) -> bool:
        return any(
            (
                self.providers_created,
                self.providers_updated,
                self.models_created,
                self.models_updated,
                self.prices_created,
                self.prices_updated,
            )
        )

    def summary(self) -> str:
        return (
            f"{self.format}: providers +{self.providers_created} ~{self.providers_updated}, "
            f"models +{self.models_created} ~{self.models_updated}, prices +{self.prices_created} "
            f"~{self.prices_updated} ={self.prices_unchanged}, skipped {len(self.skipped)}"
        )


def _same_price(row: Price, spec: PriceSpec) -> bool:
    if row.currency != spec.currency or row.long_context_threshold != spec.long_context_threshold:
        return False
    for name in PRICE_FIELDS:
        stored: Decimal | None = getattr(row, name)
        wanted = spec.values.get(name)
        if (stored is None) != (wanted is None) or (stored is not None and stored != wanted):
            return False
    return True


def _apply_price(row: Price, spec: PriceSpec) -> None:
    for name in PRICE_FIELDS:
        setattr(row, name, spec.values.get(name))
    row.long_context_threshold = spec.long_context_threshold
    row.currency = spec.currency
    row.source = spec.source
    row.source_date = spec.source_date


def _providers(plan: PricePlan, report: ImportReport) -> dict[str, Provider]:
    existing = {p.slug: p for p in Provider.objects.filter(organization__isnull=True)}
    declared = plan.format != "litellm"  # a LiteLLM file does not get to change our rules or names
    for spec in plan.providers:
        row = existing.get(spec.slug)
        if row is None:
            row = Provider(
                organization=None, slug=spec.slug, name=spec.name, aliases=spec.aliases, notes=spec.notes
            )
            if spec.input_includes_cached is not None:
                row.input_includes_cached = spec.input_includes_cached
            if spec.output_includes_reasoning is not None:
                row.output_includes_reasoning = spec.output_includes_reasoning
            row.save()
            existing[spec.slug] = row
            report.providers_created += 1
            continue
        if not declared:
            continue
        wanted = {
            "name": spec.name,
            "aliases": spec.aliases,
            "notes": spec.notes,
            "input_includes_cached": row.input_includes_cached
            if spec.input_includes_cached is None
            else spec.input_includes_cached,
            "output_includes_reasoning": row.output_includes_reasoning
            if spec.output_includes_reasoning is None
            else spec.output_includes_reasoning,
        }
        if any(getattr(row, k) != v for k, v in wanted.items()):
            for k, v in wanted.items():
                setattr(row, k, v)
            row.save()
            report.providers_updated += 1
    return existing


def _model(
    spec: ModelSpec,
    providers: dict[str, Provider],
    existing: dict[tuple[str, str], LlmModel],
    report: ImportReport,
) -> LlmModel:
    key = (spec.provider, spec.name.lower())
    row = existing.get(key)
    if row is None:
        row = LlmModel.objects.create(
            provider=providers[spec.provider],
            organization=None,
            name=spec.name,
            display_name=spec.display_name,
            aliases=spec.aliases or [],
            match_pattern=spec.pattern or "",
            deprecated_on=spec.deprecated_on,
            retires_on=spec.retires_on,
        )
        existing[key] = row
        report.models_created += 1
        return row
    wanted: dict[str, Any] = {}
    if spec.aliases is not None and spec.merge_aliases:
        stored = list(row.aliases or [])
        wanted["aliases"] = stored + [a for a in spec.aliases if a not in stored]
    elif spec.aliases is not None:
        wanted["aliases"] = spec.aliases
    if spec.pattern is not None:
        wanted["match_pattern"] = spec.pattern
    if spec.display_name:
        wanted["display_name"] = spec.display_name
    if spec.lifecycle:
        wanted["deprecated_on"] = spec.deprecated_on
        wanted["retires_on"] = spec.retires_on
    if any(getattr(row, k) != v for k, v in wanted.items()):
        for k, v in wanted.items():
            setattr(row, k, v)
        row.save()
        report.models_updated += 1
    return row


def _successors(plan: PricePlan, models: dict[tuple[str, str], LlmModel], report: ImportReport) -> None:
    """Link each model to its successor (same provider), once every model of the file exists."""
    for spec in plan.models:
        if not spec.lifecycle:
            continue
        row = models[(spec.provider, spec.name.lower())]
        successor = None
        if spec.successor is not None:
            successor = models.get((spec.provider, spec.successor.lower()))
            if successor is None:
                raise PriceFileError(
                    f"successor of {spec.provider}/{spec.name}: {spec.successor!r} is not a model of "
                    f"{spec.provider} in the file or the catalogue",
                    line=spec.line,
                )
        if row.successor_id != (successor.pk if successor else None):
            row.successor = successor
            row.save(update_fields=["successor", "updated_at"])
            report.models_updated += 1


@transaction.atomic
def prices_import(
    plan: PricePlan, *, since: datetime | None = None, recompute: bool = True, start_recompute: bool = True
) -> ImportReport:
    """Write a checked plan into the catalogue in one transaction; report what changed.

    The recompute it needs is recorded with it (`ImportReport.recompute_request_id`) and started
    once it commits, unless `start_recompute` is False (the caller starts it).
    """
    report = ImportReport(format=plan.format, skipped=list(plan.skipped), notes=list(plan.notes))
    providers = _providers(plan, report)
    existing_models = {
        (m.provider.slug, m.name.lower()): m
        for m in LlmModel.objects.filter(organization__isnull=True).select_related("provider")
    }
    stored: dict[tuple[int, str], list[Price]] = {}
    for stored_row in Price.objects.filter(organization__isnull=True).order_by("effective_from"):
        stored.setdefault((stored_row.model_id, stored_row.tier), []).append(stored_row)
    today = datetime.combine(timezone.now().date(), time(), tzinfo=UTC)
    changed_models: set[int] = set()
    earliest: datetime | None = None
    new_rows: list[Price] = []
    for spec in plan.models:
        model = _model(spec, providers, existing_models, report)
        for price in spec.prices:
            rows = stored.get((model.pk, price.tier), [])
            row: Price | None
            if price.effective_from is not None:
                start = price.effective_from
                row = next((r for r in rows if r.effective_from == start), None)
            else:  # undated (LiteLLM): compare with the price in force now
                in_force = [r for r in rows if r.effective_from <= timezone.now()]
                row = in_force[-1] if in_force else None
                if row is not None and _same_price(row, price):
                    report.prices_unchanged += 1
                    continue
                start = since or (today if rows else EPOCH)
                row = next((r for r in rows if r.effective_from == start), None)
            if row is not None:
                if _same_price(row, price):
                    if (row.source, row.source_date) != (price.source, price.source_date):
                        row.source, row.source_date = price.source, price.source_date
                        row.save(update_fields=["source", "source_date", "updated_at"])
                    report.prices_unchanged += 1
                    continue
                _apply_price(row, price)
                row.save()
                report.prices_updated += 1
            else:
                row = Price(model=model, organization=None, tier=price.tier, effective_from=start)
                _apply_price(row, price)
                new_rows.append(row)
                stored.setdefault((model.pk, price.tier), []).append(row)
                report.prices_created += 1
            changed_models.add(model.pk)
            earliest = start if earliest is None else min(earliest, start)
    Price.objects.bulk_create(new_rows, batch_size=500)
    _successors(plan, existing_models, report)
    if report.changed:
        request = pricing_changed(
            organization_id=None,
            since=earliest if recompute else None,
            model_ids=sorted(changed_models),
            reason=f"catalogue import: {report.summary()}"[:300],
            start_recompute=start_recompute,
        )
        report.recompute_request_id = request.pk if request is not None else None
    return report


def prices_import_file(
    path: str | Path,
    *,
    format: str = "auto",
    since: datetime | None = None,
    recompute: bool = True,
    start_recompute: bool = True,
) -> ImportReport:
    """Check the whole file, then load it (nothing is written when any line is wrong)."""
    text = Path(path).read_text(encoding="utf-8")
    return prices_import(
        parse_price_file(text, format=format),
        since=since,
        recompute=recompute,
        start_recompute=start_recompute,
    )


def seed_prices_load() -> ImportReport:
    """The price file shipped with Switchyard (idempotent)."""
    return prices_import_file(SEED_FILE)
