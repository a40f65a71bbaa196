"""Reads for routing policies: settings, current versions, the kill switch, the published config,
recommendations, history. ClickHouse reads (guard arms, realised savings) are in `savings.py`."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max, QuerySet
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Organization, Project
from apps.core.errors import NotFound
from apps.policies.models import (
    AuditEntry,
    EndpointSettings,
    GuardCheck,
    KillKind,
    KillSwitch,
    Notification,
    PolicySettings,
    PolicyVersion,
    PublishedConfig,
    Recommendation,
    RecommendationStatus,
    SdkClient,
)

CONFIG_CACHE_TTL_S = 2.0


def policy_settings(*, project: Project) -> PolicySettings:
    found = PolicySettings.objects.filter(project=project).first()
    return found if found is not None else PolicySettings(project=project)


def quality_bar(*, project: Project, endpoint: str) -> float:
    own = EndpointSettings.objects.filter(project=project, endpoint=endpoint).values_list(
        "quality_bar", flat=True
    )
    for bar in own:
        return float(bar)
    return float(policy_settings(project=project).quality_bar)


def rollout_steps(*, project: Project) -> list[float]:
    raw = policy_settings(project=project).rollout_steps
    steps = sorted({float(p) for p in raw.split(",") if p.strip()} | {100.0})
    return [s for s in steps if 0 < s <= 100]


# --- policy versions ---------------------------------------------------------------------------


def current_versions(*, project_id: int) -> dict[str, PolicyVersion]:
    """The newest version of every endpoint that ever had one (strategy "none" included)."""
    latest = (
        PolicyVersion.objects.filter(project_id=project_id)
        .values("endpoint")
        .annotate(top=Max("version"))
        .values_list("endpoint", "top")
    )
    wanted = dict(latest)
    if not wanted:
        return {}
    rows = PolicyVersion.objects.filter(project_id=project_id, endpoint__in=list(wanted)).select_related(
        "created_by"
    )
    return {v.endpoint: v for v in rows if wanted.get(v.endpoint) == v.version}


def current_version(*, project_id: int, endpoint: str) -> PolicyVersion | None:
    return (
        PolicyVersion.objects.filter(project_id=project_id, endpoint=endpoint)
        .select_related("created_by", "rollout_root")
        .order_by("-version")
        .first()
    )


def versions_for_endpoint(*, project_id: int, endpoint: str) -> QuerySet[PolicyVersion]:
    return (
        PolicyVersion.objects.filter(project_id=project_id, endpoint=endpoint)
        .select_related("created_by", "recommendation")
        .order_by("-version")
    )


def endpoint_routing(*, project: Project, endpoint: str, limit: int = 50) -> list[PolicyVersion]:
    """The endpoint's policy versions, newest first; not found when it has neither a version nor a
    recommendation (nothing to show or change)."""
    versions = list(versions_for_endpoint(project_id=project.pk, endpoint=endpoint)[:limit])
    if not versions and not Recommendation.objects.filter(project=project, endpoint=endpoint).exists():
        raise NotFound("No routing for this endpoint yet")
    return versions


def guard_checks_recent(*, version: PolicyVersion, limit: int = 10) -> list[GuardCheck]:
    return list(version.guard_checks.order_by("-checked_at")[:limit])


def version_get(*, project: Project, endpoint: str, version: int) -> PolicyVersion:
    found = PolicyVersion.objects.filter(project=project, endpoint=endpoint, version=version).first()
    if found is None:
        raise NotFound(f"{endpoint} has no version {version}")
    return found


# --- kill switch -------------------------------------------------------------------------------


@dataclass(frozen=True)
class KillState:
    models: frozenset[str]  # "provider/model"
    providers: frozenset[str]

    def why(self, target: str) -> str | None:
        """Why `provider/model` may not be used, or None."""
        provider = target.split("/", 1)[0]
        if target in self.models:
            return f"{target} is on the kill switch"
        if provider in self.providers:
            return f"provider {provider} is on the kill switch"
        return None


def kill_state(*, organization_id: int) -> KillState:
    rows = KillSwitch.objects.filter(organization_id=organization_id, lifted_at__isnull=True).values_list(
        "kind", "value"
    )
    models = frozenset(v for k, v in rows if k == KillKind.MODEL)
    providers = frozenset(v for k, v in rows if k == KillKind.PROVIDER)
    return KillState(models, providers)


def kill_switch_get(*, organization: Organization, kill_id: int) -> KillSwitch:
    found = KillSwitch.objects.filter(organization=organization, pk=kill_id).first()
    if found is None:
        raise NotFound("Kill switch entry not found")
    return found


def kill_switches(*, organization_id: int, include_lifted: bool = True) -> QuerySet[KillSwitch]:
    qs = KillSwitch.objects.filter(organization_id=organization_id).select_related("created_by", "lifted_by")
    if not include_lifted:
        qs = qs.filter(lifted_at__isnull=True)
    return qs.order_by("lifted_at", "-created_at")


# --- published config --------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigSnapshot:
    project_id: int
    config_version: int
    body: bytes
    etag: str
    key_id: str
    signature: str


_config_cache: dict[int, tuple[float, ConfigSnapshot]] = {}
_config_lock = threading.Lock()


def config_current(*, project_id: int, fresh: bool = False) -> ConfigSnapshot | None:
    """The newest published config (kept in-process for CONFIG_CACHE_TTL_S; publishing clears it)."""
    now = time.monotonic()
    if not fresh:
        with _config_lock:
            hit = _config_cache.get(project_id)
        if hit is not None and now - hit[0] < CONFIG_CACHE_TTL_S:
            return hit[1]
    row = (
        PublishedConfig.objects.filter(project_id=project_id)
        .order_by("-config_version")
        .values_list("config_version", "body", "etag", "key_id", "signature")
        .first()
    )
    if row is None:
        return None
    snapshot = ConfigSnapshot(project_id, row[0], bytes(row[1]), row[2], row[3], row[4])
    with _config_lock:
        _config_cache[project_id] = (now, snapshot)
    return snapshot


def config_cache_forget(project_id: int) -> None:
    with _config_lock:
        _config_cache.pop(project_id, None)


def config_cache_clear() -> None:
    with _config_lock:
        _config_cache.clear()


def published_configs(*, project: Project, limit: int = 20) -> QuerySet[PublishedConfig]:
    return (
        PublishedConfig.objects.filter(project=project)
        .defer("body")
        .select_related("created_by")
        .order_by("-config_version")[:limit]
    )


# --- recommendations ---------------------------------------------------------------------------


def recommendations_open(*, project: Project) -> QuerySet[Recommendation]:
    return Recommendation.objects.filter(project=project, status=RecommendationStatus.OPEN).order_by(
        "-monthly_savings_nano", "endpoint"
    )


def recommendations_latest(*, project: Project) -> list[Recommendation]:
    """The newest recommendation of each endpoint, whatever its status."""
    newest: dict[str, Recommendation] = {}
    for rec in Recommendation.objects.filter(project=project).order_by("endpoint", "-created_at", "-pk"):
        newest.setdefault(rec.endpoint, rec)
    return list(newest.values())


def recommendation_get(*, project: Project, recommendation_id: int) -> Recommendation:
    found = (
        Recommendation.objects.filter(project=project, pk=recommendation_id)
        .select_related("decided_by", "superseded_by")
        .first()
    )
    if found is None:
        raise NotFound("Recommendation not found")
    return found


def audit_for(*, project: Project, endpoint: str | None = None, limit: int = 100) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.filter(project=project).select_related("actor")
    if endpoint is not None:
        qs = qs.filter(endpoint=endpoint)
    return qs.order_by("-created_at", "-pk")[:limit]


# --- for the dashboards -----------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyHistoryItem:
    version: int
    strategy: str
    target: str  # "provider/model", "" for no routing
    rollout_percent: float
    action: str  # approve | promote | rollback | auto_rollback | stop | rollout
    action_label: str
    reason: str
    by: str  # a person's e-mail, or "Switchyard" for the guard
    at: datetime
    current: bool


def policy_history(*, project_id: int, endpoint: str, limit: int = 50) -> list[PolicyHistoryItem]:
    """An endpoint's policy versions, newest first (for the endpoint page's "policy history")."""
    rows = list(versions_for_endpoint(project_id=project_id, endpoint=endpoint)[:limit])
    return [
        PolicyHistoryItem(
            version=v.version,
            strategy=v.strategy,
            target=v.target,
            rollout_percent=v.rollout_percent,
            action=v.action,
            action_label=v.get_action_display(),
            reason=v.reason,
            by=v.created_by.email if v.created_by is not None else "Switchyard",
            at=v.created_at,
            current=i == 0,
        )
        for i, v in enumerate(rows)
    ]


@dataclass(frozen=True)
class OpenRecommendationSavings:
    recommendation_id: int
    endpoint: str
    strategy: str
    target: str
    monthly_savings_nano: int
    monthly_savings_low_nano: int
    monthly_savings_high_nano: int
    retention: float
    retention_low: float
    retention_high: float
    simulated: bool  # anything in the evidence ran on the `sim` provider: not real money
    url: str
    simulated_parts: tuple[str, ...] = ()  # "candidates", "judge"


def open_recommendation_savings(*, project_id: int) -> list[OpenRecommendationSavings]:
    """Potential savings of the open (approvable) recommendations, largest first."""
    rows = Recommendation.objects.filter(
        project_id=project_id, status=RecommendationStatus.OPEN, monthly_savings_nano__isnull=False
    ).order_by("-monthly_savings_nano")
    return [
        OpenRecommendationSavings(
            recommendation_id=r.pk,
            endpoint=r.endpoint,
            strategy=r.strategy,
            target=r.target,
            monthly_savings_nano=r.monthly_savings_nano or 0,
            monthly_savings_low_nano=r.monthly_savings_low_nano or 0,
            monthly_savings_high_nano=r.monthly_savings_high_nano or 0,
            retention=r.retention or 0.0,
            retention_low=r.retention_low or 0.0,
            retention_high=r.retention_high or 0.0,
            simulated=r.simulated,
            url=reverse("policies:recommendation", args=[project_id, r.pk]),
            simulated_parts=tuple(r.simulated_parts or ()),
        )
        for r in rows
    ]


def notifications_recent(*, project: Project, limit: int = 20) -> QuerySet[Notification]:
    return Notification.objects.filter(project=project).order_by("-created_at")[:limit]


@dataclass(frozen=True)
class FrontierPoint:
    key: str  # "strategy:provider/model", or "baseline"
    strategy: str
    target: str
    cost_per_call_nano: float
    retention: float
    retention_low: float
    retention_high: float
    monthly_savings_nano: int
    on_frontier: bool
    clears_bar: bool
    recommended: bool
    label: str = ""  # as the options table says it ("learned router, 30 % of calls → …")


@dataclass(frozen=True)
class Frontier:
    recommendation_id: int
    endpoint: str
    quality_bar: float
    evidence_job_id: int
    simulated: bool
    points: list[FrontierPoint]
    simulated_parts: tuple[str, ...] = ()  # "candidates", "judge"


def frontier(*, project_id: int, endpoint: str) -> Frontier | None:
    """The cost–quality options of the endpoint's newest recommendation, baseline included
    (for a Pareto chart: x = cost per call, y = quality retention)."""
    rec = (
        Recommendation.objects.filter(project_id=project_id, endpoint=endpoint)
        .order_by("-created_at", "-pk")
        .first()
    )
    return None if rec is None else frontier_of(rec)


def frontier_of(rec: Recommendation) -> Frontier:
    """The cost–quality options of one recommendation, baseline included."""
    chosen = rec.proposal.get("key")
    points = [
        FrontierPoint(
            key=o["key"],
            strategy=o["strategy"],
            target=f"{o['provider']}/{o['model']}",
            cost_per_call_nano=o["cost_per_call_nano"],
            retention=o["retention"],
            retention_low=o["retention_low"],
            retention_high=o["retention_high"],
            monthly_savings_nano=o["monthly_savings_nano"],
            on_frontier=o["on_frontier"],
            clears_bar=o["clears_bar"],
            recommended=o["key"] == chosen,
            label=o.get("label") or "",
        )
        for o in rec.options
    ]
    base = f"{rec.baseline_provider}/{rec.baseline_model}"
    points.append(
        FrontierPoint(
            "baseline", "none", base, rec.baseline_cost_per_call_nano, 1.0, 1.0, 1.0, 0, True, True, False
        )
    )
    return Frontier(
        rec.pk,
        rec.endpoint,
        rec.quality_bar,
        rec.evidence_job_id,
        rec.simulated,
        points,
        tuple(rec.simulated_parts or ()),
    )


SDK_SEEN_WITHIN = timedelta(days=7)


@dataclass(frozen=True)
class EncoderCapability:
    """Whether a project's SDKs can run encoder routers, and why (for the recommendation's note)."""

    ok: bool
    why: str


def encoder_capability(*, project_id: int) -> EncoderCapability:
    """An encoder router may be proposed when every SDK build that polled the project's config in
    the last 7 days reports `encoder_linear/2` (docs/protocol.md, `X-Switchyard-Capabilities`)."""
    since = timezone.now() - SDK_SEEN_WITHIN
    seen = list(SdkClient.objects.filter(project_id=project_id, last_seen__gte=since))
    if not seen:
        return EncoderCapability(False, "no SDK has polled this project's config in the last 7 days")
    unable = sorted({c.agent for c in seen if not c.runs_encoder})
    if unable:
        return EncoderCapability(
            False,
            f"{', '.join(unable)} polled without the encoder extra (pip install 'switchyard-sdk[encoder]')",
        )
    return EncoderCapability(True, f"every SDK seen in the last 7 days ({len(seen)}) can run it")
