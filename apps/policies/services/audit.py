"""The audit log: every change to routing says who, when and why."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import Organization, Person, Project
from apps.policies.models import AuditEntry


def audit_record(
    *,
    organization: Organization,
    action: str,
    message: str,
    actor: Person | None = None,
    project: Project | None = None,
    endpoint: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        organization=organization,
        project=project,
        endpoint=endpoint,
        actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        action=action,
        message=message,
        data=data or {},
    )
