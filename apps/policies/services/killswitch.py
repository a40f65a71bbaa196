"""The kill switch: a model or provider an organisation must not be routed to.

Adding or lifting one republishes every project's config at once (the SDK then skips killed
targets and falls back), supersedes open recommendations that propose a killed model, and the
recommender stops proposing it.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import ROLE_RANK, Organization, Person, Role
from apps.accounts.selectors import role_of
from apps.core import background
from apps.core.errors import ApplicationError, NotFound, PermissionDenied
from apps.policies.models import KillKind, KillSwitch, Recommendation, RecommendationStatus
from apps.policies.services.audit import audit_record
from apps.policies.services.publish import config_publish_organization

_PROVIDER = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _require_admin(actor: Person, organization: Organization) -> None:
    role = role_of(user=actor, organization=organization)
    if role is None:
        raise NotFound("Organisation not found")
    if ROLE_RANK[role] < ROLE_RANK[Role.ADMIN]:
        raise PermissionDenied(
            f"Only admins and owners can change the kill switch; you are a {role.label.lower()}."
        )


def _clean(kind: str, value: str) -> str:
    value = value.strip()
    if kind == KillKind.PROVIDER:
        if not _PROVIDER.match(value):
            raise ApplicationError("A provider is a slug such as openai or groq", field="value")
        return value
    if kind == KillKind.MODEL:
        provider, sep, model = value.partition("/")
        if not sep or not _PROVIDER.match(provider) or not model.strip() or len(value) > 300:
            raise ApplicationError(
                "A model is written provider/model, e.g. openai/gpt-4o-mini", field="value"
            )
        return f"{provider}/{model.strip()}"
    raise ApplicationError("Kind must be model or provider", field="kind")


def _hits(kind: str, value: str, target: str) -> bool:
    return target == value if kind == KillKind.MODEL else target.split("/", 1)[0] == value


def kill_switch_add(
    *, organization: Organization, actor: Person, kind: str, value: str, reason: str
) -> KillSwitch:
    _require_admin(actor, organization)
    value = _clean(kind, value)
    if not reason.strip():
        raise ApplicationError(
            "Say why (an outage, a data-handling concern …): it is kept in the audit log", field="reason"
        )
    with transaction.atomic():
        if KillSwitch.objects.filter(
            organization=organization, kind=kind, value=value, lifted_at__isnull=True
        ).exists():
            raise ApplicationError(f"{value} is already on the kill switch", code="duplicate", field="value")
        kill = KillSwitch.objects.create(
            organization=organization, kind=kind, value=value, reason=reason.strip()[:2000], created_by=actor
        )
        stale = [
            r.pk
            for r in Recommendation.objects.filter(
                project__organization=organization, status=RecommendationStatus.OPEN
            ).exclude(target="")
            if _hits(kind, value, r.target)
        ]
        Recommendation.objects.filter(pk__in=stale).update(
            status=RecommendationStatus.SUPERSEDED,
            decision_reason=f"{value} was put on the kill switch",
            decided_at=timezone.now(),
        )
        audit_record(
            organization=organization, actor=actor, action="kill_switch.added",
            message=f"{kind} {value} killed: {reason.strip()}", data={"kind": kind, "value": value, "superseded": stale},
        )  # fmt: skip
        config_publish_organization(
            organization_id=organization.pk, reason=f"kill switch: {value} added", actor=actor
        )
    _refresh_later(organization)
    return kill


def kill_switch_lift(*, kill: KillSwitch, actor: Person) -> KillSwitch:
    organization = kill.organization
    _require_admin(actor, organization)
    if kill.lifted_at is not None:
        raise ApplicationError(f"{kill.value} was lifted already", code="duplicate")
    with transaction.atomic():
        kill.lifted_at = timezone.now()
        kill.lifted_by = actor
        kill.save(update_fields=["lifted_at", "lifted_by"])
        audit_record(
            organization=organization, actor=actor, action="kill_switch.lifted",
            message=f"{kill.kind} {kill.value} lifted", data={"kind": kill.kind, "value": kill.value},
        )  # fmt: skip
        config_publish_organization(
            organization_id=organization.pk, reason=f"kill switch: {kill.value} lifted", actor=actor
        )
    _refresh_later(organization)
    return kill


def _refresh_later(organization: Organization) -> None:
    """Make recommendations again without (or with) the model, off the request."""
    for project_id in organization.projects.values_list("pk", flat=True):
        background.enqueue("policies.recommend_project", project_id)
