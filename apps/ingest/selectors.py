"""Reads for ingest: a project's capture and limit settings (cached briefly per process)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from apps.accounts.models import Project
from apps.billing.selectors import organization_plan
from apps.ingest.models import CaptureMode, IngestSettings
from apps.spend.selectors.settings import customer_key_of
from apps.warehouse.client import ProjectScope

CONFIG_TTL_S = 10.0


@dataclass(frozen=True)
class Capture:
    """What a project stores of its calls' payloads: the one reading of its capture settings. Ingest
    applies it to each event; the SDK config carries it (`capture`, apps.policies)."""

    mode: str  # none | sampled | always
    sample_rate: float  # the share of calls stored: 0 for none, 1 for always

    @property
    def per_10k(self) -> int:
        """Payloads are stored when event_id % 10000 is below this (the same choice on a retry)."""
        return round(self.sample_rate * 10_000)

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "sample_rate": self.sample_rate}


def capture_of(row: IngestSettings) -> Capture:
    if row.capture_mode == CaptureMode.ALWAYS:
        return Capture("always", 1.0)
    if row.capture_mode == CaptureMode.SAMPLED:
        return Capture("sampled", float(row.capture_sample_rate))
    return Capture("none", 0.0)


@dataclass(frozen=True)
class IngestRules:
    """What ingest applies to one project's batches: capture, redaction, retention, rate and quotas
    (cached for CONFIG_TTL_S; the project's AppConfig is apps.ingest.apps.IngestConfig)."""

    project_id: int
    organization_id: int
    project_name: str
    retention_days: int
    capture: Capture
    redact_payloads: bool
    rate_limit_events_per_s: int
    monthly_event_quota: int  # the project's own quota (0 = none)
    quota_source: str
    plan_name: str = ""  # the organisation's plan (apps.billing)
    plan_event_limit: int = 0  # the plan's events per calendar month, organisation-wide (0 = no cap)
    customer_key: str = "customer_id"  # which value names a call's customer (apps.spend.customer_key)


_cache: dict[int, tuple[float, IngestRules]] = {}
_cache_lock = threading.Lock()


def ingest_settings_get(*, project: Project) -> IngestSettings:
    found = IngestSettings.objects.filter(project=project).first()
    return found if found is not None else IngestSettings(project=project)


def ingest_config(*, project_id: int) -> IngestRules:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(project_id)
    if hit is not None and now - hit[0] < CONFIG_TTL_S:
        return hit[1]
    project = Project.objects.select_related("organization").get(pk=project_id)
    row = ingest_settings_get(project=project)
    plan = organization_plan(organization_id=project.organization_id)
    config = IngestRules(
        project_id=project.pk,
        organization_id=project.organization_id,
        project_name=project.name,
        retention_days=min(project.retention_days, plan.retention_days),
        capture=capture_of(row),
        redact_payloads=row.redact_payloads,
        rate_limit_events_per_s=row.rate_limit_events_per_s or settings.INGEST_DEFAULT_RATE_LIMIT_EPS,
        monthly_event_quota=row.monthly_event_quota,
        quota_source=f"project {project.name}",
        plan_name=plan.name,
        plan_event_limit=plan.event_limit,
        customer_key=customer_key_of(project_id=project.pk),
    )
    with _cache_lock:
        _cache[project_id] = (now, config)
    return config


def ingest_config_forget(project_id: int) -> None:
    with _cache_lock:
        _cache.pop(project_id, None)


_MONTH_SQL = """
SELECT sum(calls) FROM llm_calls_1h
WHERE project_id = {project_id:UInt64} AND bucket >= toStartOfMonth(now('UTC'))
"""


def events_this_month(*, project_id: int) -> int:
    return int(ProjectScope(project_id).query(_MONTH_SQL, feature="ingest-quota").scalar() or 0)
