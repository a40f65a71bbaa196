"""GET /v1/config against the real SDK's verification and parsing (docs/protocol.md)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client, override_settings
from switchyard._config import parse_config
from switchyard._routing import plan
from switchyard._signing import load_public_keys, verify_signature

from apps.core import background
from apps.ingest.services import ingest_settings_update
from apps.policies.domain import config_body, signing
from apps.policies.models import PublishedConfig
from apps.policies.services.approve import ApprovalEdits, recommendation_approve
from apps.policies.services.recommend import recommendation_refresh
from tests.policies.factories import MINI, synthetic_evidence
from tests.tenancy import Tenant


def _get(tenant: Tenant, key: str | None = None, **headers: str) -> Any:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key or tenant.sdk_key}"}
    return Client().get(
        "/v1/config", **auth, **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    )


def _verified(response: Any, keys: dict[str, str] | None = None) -> Any:
    """What the SDK does with a 200: verify the signature over the exact bytes, then parse."""
    verify_signature(
        response.content,
        response["X-Switchyard-Signature"],
        response["X-Switchyard-Key-Id"],
        load_public_keys(keys or signing.public_keys()),
    )
    return parse_config(response.content)


def test_keys_are_checked(tenant: Tenant) -> None:
    assert Client().get("/v1/config").status_code == 401
    bad = _get(tenant, key="sy_sdk_abcdefghijkl_" + "x" * 43)
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_key"
    wrong_kind = _get(tenant, key=tenant.ingest_key)
    assert wrong_kind.status_code == 403 and "SDK key" in wrong_kind.json()["error"]["message"]


def test_first_poll_publishes_capture_settings_with_no_policies(tenant: Tenant) -> None:
    response = _get(tenant)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-cache"
    assert response["ETag"] == config_body.etag(response.content) and response["ETag"].startswith('"')
    compiled = _verified(response)
    assert compiled.version == 1 and compiled.capture_mode == "always" and not compiled.policies
    doc = json.loads(response.content)
    assert config_body.encode(doc) == response.content  # canonical bytes: sorted keys, no spaces
    assert doc["project"] == tenant.project.slug and doc["published_at"].endswith("Z")


def test_etag_304_and_versions_that_only_go_up(tenant: Tenant, catalogue: dict[str, Any]) -> None:
    first = _get(tenant)
    unchanged = _get(tenant, if_none_match=first["ETag"])
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged["ETag"] == first["ETag"]
    rec = recommendation_refresh(
        project=tenant.project, evidence=synthetic_evidence(project_id=tenant.project.pk)
    )
    recommendation_approve(recommendation=rec, actor=tenant.user)
    changed = _get(tenant, if_none_match=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    compiled = _verified(changed)
    assert compiled.version > 1
    policy = compiled.policies["support-reply"]
    assert (policy.strategy, policy.targets[0].key, policy.threshold) == ("override", MINI, 1000)


def test_the_sdk_routes_a_learned_policy_as_the_server_scores_it(
    tenant: Tenant, catalogue: dict[str, Any]
) -> None:
    from apps.routing import learned

    spec = {MINI: {"quality": lambda i: 1.0 if i % 2 else 0.0}}
    evidence = synthetic_evidence(project_id=tenant.project.pk, n=400, candidates=spec)
    rec = recommendation_refresh(project=tenant.project, evidence=evidence)
    assert rec.strategy == "learned", rec.summary
    assert rec.proposal["learned"]["version"] == 2  # the cross-fitted members ship
    recommendation_approve(recommendation=rec, actor=tenant.user, edits=ApprovalEdits(rollout_percent=100))
    compiled = _verified(_get(tenant))
    policy = compiled.policies["support-reply"]
    scorer = learned.Scorer(rec.proposal["learned"])
    prompts = [s.prompt_text for s in evidence.samples] + ["refund my broken order", "summarise this", ""]
    for prompt in prompts:
        assert policy.learned is not None
        assert policy.learned.score(prompt) == pytest.approx(scorer.score(prompt), abs=1e-9)
        decided = plan(compiled, endpoint="support-reply", provider="openai", model="gpt-4o",
                       available={"openai"}, event_id="e1", prompt=lambda p=prompt: p)  # fmt: skip
        assert decided is not None
        expected = (
            ("candidate", "learned")
            if scorer.routes_to_target(prompt)
            else ("baseline", "learned:below_threshold")
        )
        assert (decided.attempts[0].arm, decided.attempts[0].reason) == expected


@pytest.mark.django_db(transaction=True)
def test_changed_capture_settings_reach_the_sdk_and_the_poll_only_reads(tenant: Tenant) -> None:
    first = _get(tenant)
    ingest_settings_update(
        project=tenant.project, actor=tenant.user, capture_mode="sampled", capture_sample_rate=0.25,
        redact_payloads=True, rate_limit_events_per_s=0, monthly_event_quota=0,
    )  # fmt: skip
    assert background.drain(30)  # policies.publish_config, queued by the change once it committed
    published = list(PublishedConfig.objects.values_list("config_version", "reason"))
    assert sorted(published) == [(1, "first config"), (2, "capture settings changed")]
    compiled = _verified(_get(tenant, if_none_match=first["ETag"]))
    assert (compiled.version, compiled.capture_mode, compiled.sample_rate) == (2, "sampled", 0.25)
    assert _get(tenant).status_code == 200
    assert sorted(PublishedConfig.objects.values_list("config_version", "reason")) == sorted(published)
    ingest_settings_update(
        project=tenant.project, actor=tenant.user, capture_mode="sampled", capture_sample_rate=0.25,
        redact_payloads=False, rate_limit_events_per_s=5, monthly_event_quota=0,
    )  # fmt: skip
    assert background.drain(30)
    assert PublishedConfig.objects.count() == 2  # the same capture: nothing to publish


def _key() -> str:
    return signing.new_private_key_b64()


def test_signing_key_rotation(tenant: Tenant) -> None:
    old, new = _key(), _key()
    with override_settings(CONFIG_SIGNING_KEYS=f"k-old:{old},k-new:{new}", CONFIG_SIGNING_KEY_ID="k-old"):
        before = _get(tenant)
        assert before["X-Switchyard-Key-Id"] == "k-old"
        _verified(before, {"k-old": signing.public_keys()["k-old"]})
    with override_settings(CONFIG_SIGNING_KEYS=f"k-old:{old},k-new:{new}", CONFIG_SIGNING_KEY_ID="k-new"):
        after = _get(tenant)
        new_public = signing.public_keys()["k-new"]
    assert after.content == before.content  # the same stored bytes, signed again with the new key
    assert after["X-Switchyard-Key-Id"] == "k-new"
    _verified(after, {"k-new": new_public})
    assert base64.b64decode(new_public) and len(base64.b64decode(new_public)) == 32


def test_rate_limited_with_retry_after(tenant: Tenant) -> None:
    with override_settings(CONFIG_RATE_LIMIT_RPS=1):
        statuses = [_get(tenant) for _ in range(8)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, [r.status_code for r in statuses]
    assert int(limited[0]["Retry-After"]) >= 1 and limited[0].json()["error"]["code"] == "rate_limited"


def test_database_outage_is_a_503_with_retry_after(tenant: Tenant) -> None:
    _get(tenant)  # the key is now verified and cached

    def outage(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        raise OperationalError("the database went away")

    from apps.policies.selectors import config_cache_clear

    config_cache_clear()
    with connection.execute_wrapper(outage):
        response = _get(tenant)
    assert response.status_code == 503
    assert response["Retry-After"] == "5" and response.json()["error"]["code"] == "unavailable"
