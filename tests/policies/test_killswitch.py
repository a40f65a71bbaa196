"""The kill switch: every policy using a killed model or provider falls back in the next config."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from switchyard._config import parse_config
from switchyard._routing import plan

from apps.core.errors import ApplicationError, PermissionDenied
from apps.policies.models import KillKind, PublishedConfig
from apps.policies.services.approve import ApprovalEdits, recommendation_approve
from apps.policies.services.killswitch import kill_switch_add, kill_switch_lift
from apps.policies.services.recommend import recommendation_refresh
from tests.policies.factories import MINI, synthetic_evidence
from tests.tenancy import Tenant


def _config(tenant: Tenant) -> Any:
    response = Client(HTTP_AUTHORIZATION=f"Bearer {tenant.sdk_key}").get("/v1/config")
    assert response.status_code == 200
    return parse_config(response.content)


def _route(tenant: Tenant) -> tuple[str, str, str]:
    decided = plan(_config(tenant), endpoint="support-reply", provider="openai", model="gpt-4o",
                   available={"openai"}, event_id="e-1")  # fmt: skip
    assert decided is not None
    first = decided.attempts[0]
    return first.model, first.arm, first.reason


def test_killing_a_model_falls_back_at_once_and_lifting_restores(
    tenant: Tenant, other_tenant: Tenant, catalogue: dict[str, Any]
) -> None:
    rec = recommendation_refresh(
        project=tenant.project, evidence=synthetic_evidence(project_id=tenant.project.pk)
    )
    recommendation_approve(recommendation=rec, actor=tenant.user, edits=ApprovalEdits(rollout_percent=100))
    assert _route(tenant) == ("gpt-4o-mini", "candidate", "override")
    other_before = PublishedConfig.objects.filter(project=other_tenant.project).count()

    kill = kill_switch_add(
        organization=tenant.organization,
        actor=tenant.user,
        kind=KillKind.MODEL,
        value=MINI,
        reason="incident",
    )
    compiled = _config(tenant)
    assert compiled.killed_models == frozenset({MINI})
    assert _route(tenant) == ("gpt-4o", "baseline", "kill_switch")
    assert PublishedConfig.objects.filter(project=other_tenant.project).count() == other_before  # not theirs
    with pytest.raises(ApplicationError, match="already on the kill switch"):
        kill_switch_add(
            organization=tenant.organization, actor=tenant.user, kind=KillKind.MODEL, value=MINI, reason="x"
        )

    kill_switch_lift(kill=kill, actor=tenant.user)
    assert _config(tenant).killed_models == frozenset()
    assert _route(tenant) == ("gpt-4o-mini", "candidate", "override")


def test_killing_a_provider_and_bad_input(tenant: Tenant, member: Any) -> None:
    kill_switch_add(
        organization=tenant.organization,
        actor=tenant.user,
        kind=KillKind.PROVIDER,
        value="groq",
        reason="DPA",
    )
    latest = PublishedConfig.objects.filter(project=tenant.project).latest("config_version")
    assert json.loads(bytes(latest.body))["kill_switch"] == {"models": [], "providers": ["groq"]}
    with pytest.raises(ApplicationError, match="A model is written provider/model"):
        kill_switch_add(
            organization=tenant.organization,
            actor=tenant.user,
            kind=KillKind.MODEL,
            value="gpt-4o",
            reason="x",
        )
    with pytest.raises(ApplicationError, match="Say why"):
        kill_switch_add(
            organization=tenant.organization, actor=tenant.user, kind=KillKind.PROVIDER, value="x", reason=" "
        )
    with pytest.raises(
        PermissionDenied, match="Only admins and owners can change the kill switch; you are a member"
    ):
        kill_switch_add(
            organization=tenant.organization, actor=member, kind=KillKind.PROVIDER, value="y", reason="z"
        )
