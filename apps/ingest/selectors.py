"""Reads for ingest: a project's capture and limit settings (cached briefly per process)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings

from apps.accounts.models import Project
from apps.billing.selectors import organization_plan
from apps.ingest.models import CaptureMode, IngestSettings
from apps.spend.selectors.settings import customer_key_of
from apps.warehouse.client import ProjectScope

CONFIG_TTL_S = 10.0


@dataclass(frozen=True)
class IngestRules:
    """What ingest applies to one project's batches: capture, redaction, retention, rate and quotas
    (cached for CONFIG_TTL_S; the project's AppConfig is apps.ingest.apps.IngestConfig)."""

    project_id: int
    organization_id: int
    project_name: str
    retention_days: int
    capture_mode: str
    capture_sample_rate: float
    capture_per_10k: int  # payloads are stored when event_id % 10000 is below this
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
        capture_mode=row.capture_mode,
        capture_sample_rate=row.capture_sample_rate if row.capture_mode == CaptureMode.SAMPLED else 1.0,
        capture_per_10k={CaptureMode.ALWAYS: 10_000, CaptureMode.NONE: 0}.get(
            CaptureMode(row.capture_mode), round(row.capture_sample_rate * 10_000)
        ),
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
