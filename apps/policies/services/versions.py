"""Policy specs and versions: build and check a POLICY object, publish it as a new version.

A spec is the protocol's POLICY object without `policy_version` (docs/protocol.md). Before a
version is published its spec is checked: rollout within 0–100, no target or fallback on the kill
switch, every target priced. A new version and the config that carries it are one transaction.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from apps.accounts.models import Person, Project
from apps.core.errors import ApplicationError
from apps.policies.models import PolicyVersion, Recommendation, Strategy
from apps.policies.selectors import current_version, kill_state
from apps.policies.services.audit import audit_record
from apps.policies.services.publish import config_publish
from apps.pricing.cost import Usage
from apps.pricing.selectors import price_book

STICKY_ON = ("conversation_id", "user_id", "event")
GUARD_WINDOWS = {"m": 60, "h": 3600, "d": 86400}


def new_salt() -> str:
    return secrets.token_hex(6)


def window_seconds(window: str) -> int:
    unit = window[-1:]
    if unit not in GUARD_WINDOWS or not window[:-1].isdigit() or int(window[:-1]) <= 0:
        raise ApplicationError(
            f"Guard window {window!r}: use a number and m, h or d (e.g. 1h)", field="window"
        )
    return int(window[:-1]) * GUARD_WINDOWS[unit]


def target_of(key: str) -> dict[str, str]:
    provider, sep, model = key.partition("/")
    if not sep or not provider or not model:
        raise ApplicationError(f"{key!r} is not provider/model", code="invalid_target", field="target")
    return {"provider": provider, "model": model}


def spec_build(
    *,
    endpoint: str,
    baseline: dict[str, str],
    strategy: str,
    target: str,
    rollout_percent: float,
    salt: str,
    sticky_on: str = "event",
    checks: Sequence[str] = (),
    learned: dict[str, Any] | None = None,
    min_quality: float = 0.95,
    max_error_rate: float = 0.02,
    window: str = "1h",
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "endpoint": endpoint,
        "baseline": dict(baseline),
        "strategy": strategy,
        "targets": [{**target_of(target), "weight": 10000}],
        "rollout": {"percent": float(rollout_percent), "salt": salt, "sticky_on": sticky_on},
        "fallbacks": [],
        "guard": {"min_quality": min_quality, "max_error_rate": max_error_rate, "window": window},
    }
    if strategy == Strategy.CASCADE:
        spec["cascade"] = {"checks": list(checks), "escalate_to": "baseline"}
    if strategy == Strategy.LEARNED:
        if not learned:
            raise ApplicationError("A learned policy needs its trained router", code="invalid_policy")
        spec["learned"] = learned
    return spec


def spec_with_rollout(spec: dict[str, Any], percent: float) -> dict[str, Any]:
    return {**spec, "rollout": {**spec["rollout"], "percent": float(percent)}}


def spec_targets(spec: dict[str, Any]) -> list[str]:
    """Every model a spec may route to: targets, then fallbacks."""
    return [f"{t['provider']}/{t['model']}" for t in [*spec.get("targets", []), *spec.get("fallbacks", [])]]


def spec_validate(*, project: Project, spec: dict[str, Any]) -> None:
    """Refuse a spec that cannot be published, naming the reason."""
    percent = spec.get("rollout", {}).get("percent", 100.0)
    if not isinstance(percent, int | float) or not math.isfinite(percent) or not 0 <= percent <= 100:
        raise ApplicationError(
            f"Rollout percentage must be between 0 and 100, got {percent}",
            code="invalid_rollout",
            field="rollout",
        )
    if spec.get("rollout", {}).get("sticky_on", "event") not in STICKY_ON:
        raise ApplicationError("Stickiness must be conversation_id, user_id or event", field="sticky_on")
    guard = spec.get("guard", {})
    if not 0 <= guard.get("max_error_rate", 0) <= 1 or not 0 <= guard.get("min_quality", 0) <= 1:
        raise ApplicationError(
            "Guard thresholds must be between 0 and 1", code="invalid_guard", field="guard"
        )
    window_seconds(str(guard.get("window", "1h")))
    kill = kill_state(organization_id=project.organization_id)
    book = price_book(organization_id=project.organization_id)
    now = datetime.now(UTC)
    for key in spec_targets(spec):
        why = kill.why(key)
        if why is not None:
            raise ApplicationError(f"Cannot publish: {why}", code="killed_model", field="target")
        provider, _, model = key.partition("/")
        usage = Usage(input_tokens=1000, output_tokens=1000)
        if book.cost(provider=provider, model=model, ts=now, usage=usage) is None:
            raise ApplicationError(
                f"Cannot publish: {key} has no price, so its cost and savings cannot be tracked. "
                "Add a price under Pricing first.",
                code="unpriced_model",
                field="target",
            )


def version_publish(
    *,
    project: Project,
    endpoint: str,
    strategy: str,
    spec: dict[str, Any],
    action: str,
    reason: str,
    actor: Person | None,
    guarded: bool = False,
    recommendation: Recommendation | None = None,
    rollout_root: PolicyVersion | None = None,
    validate: bool = True,
) -> PolicyVersion:
    """A new immutable version of the endpoint's policy, audited and published in one transaction."""
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        if strategy != Strategy.NONE and validate:
            spec_validate(project=project, spec=spec)
        previous = current_version(project_id=project.pk, endpoint=endpoint)
        percent = float(spec.get("rollout", {}).get("percent", 100.0)) if spec else 100.0
        version = PolicyVersion.objects.create(
            project=project,
            endpoint=endpoint,
            version=(previous.version + 1) if previous is not None else 1,
            strategy=strategy,
            spec=spec if strategy != Strategy.NONE else {},
            rollout_percent=percent if strategy != Strategy.NONE else 0.0,
            guarded=guarded and strategy != Strategy.NONE and percent < 100,
            action=action,
            reason=reason,
            created_by=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
            recommendation=recommendation,
            previous=previous,
            rollout_root=rollout_root,
        )
        audit_record(
            organization=project.organization,
            project=project,
            endpoint=endpoint,
            actor=actor,
            action=f"policy.{action}",
            message=f"v{version.version}: {reason}",
            data={
                "version": version.version,
                "strategy": strategy,
                "rollout_percent": version.rollout_percent,
            },
        )
        config_publish(project_id=project.pk, reason=f"{endpoint} v{version.version} ({action})", actor=actor)
    return version
