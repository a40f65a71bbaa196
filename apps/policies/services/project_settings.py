"""A project's routing settings: quality bar, canary, rollout steps, guard, notifications."""

from __future__ import annotations

import secrets
from typing import Any

from apps.accounts.models import Person, Project
from apps.core.errors import ApplicationError
from apps.policies.models import PolicySettings
from apps.policies.services.approve import require_approver
from apps.policies.services.audit import audit_record
from apps.policies.services.versions import window_seconds

FIELDS = (
    "quality_bar",
    "canary_percent",
    "rollout_steps",
    "guard_window",
    "guard_min_calls",
    "max_error_rate",
    "notify_email",
    "webhook_url",
)


def _steps(raw: str) -> str:
    try:
        steps = sorted({float(p) for p in raw.split(",") if p.strip()})
    except ValueError as exc:
        raise ApplicationError(
            "Rollout steps are percentages separated by commas, e.g. 25,50,100", field="rollout_steps"
        ) from exc
    if not steps or not all(0 < s <= 100 for s in steps):
        raise ApplicationError("Rollout steps must be between 0 and 100", field="rollout_steps")
    return ",".join(f"{s:g}" for s in steps)


def policy_settings_update(*, project: Project, actor: Person, **values: Any) -> PolicySettings:
    require_approver(actor=actor, project=project, doing="change routing settings")
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown settings: {', '.join(sorted(unknown))}")
    row = PolicySettings.objects.filter(project=project).first() or PolicySettings(project=project)
    for name, value in values.items():
        setattr(row, name, value)
    row.rollout_steps = _steps(row.rollout_steps)
    window_seconds(row.guard_window)
    if not 0 <= row.canary_percent <= 100:
        raise ApplicationError("The canary percentage must be between 0 and 100", field="canary_percent")
    if not 0.5 <= row.quality_bar <= 1:
        raise ApplicationError("The quality bar must be between 0.5 and 1", field="quality_bar")
    if row.webhook_url and not row.webhook_url.startswith(("http://", "https://")):
        raise ApplicationError("The webhook URL must start with http:// or https://", field="webhook_url")
    if not row.webhook_secret:
        row.webhook_secret = secrets.token_hex(24)
    row.save()
    audit_record(
        organization=project.organization, project=project, actor=actor, action="settings.updated",
        message="Routing settings changed", data={k: values[k] for k in sorted(values) if k != "webhook_url"},
    )  # fmt: skip
    return row
