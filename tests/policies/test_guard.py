"""The rollout guard on live telemetry sent through the real ingest API: a canary with a raised
error rate is rolled back automatically (and the project is told by e-mail and webhook); a
healthy one is promoted step by step."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from apps.core import background
from apps.policies.models import GuardCheck, Notification, PolicySettings, PolicyVersion, PublishedConfig
from apps.policies.services.approve import recommendation_approve
from apps.policies.services.guard import guard_tick
from apps.policies.services.recommend import recommendation_refresh
from tests.policies.factories import BASELINE, MINI, ingest, price_catalogue, routed_event, synthetic_evidence
from tests.tenancy import Tenant, make_tenant

ENDPOINT = "support-reply"


class _Hook(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()


@pytest.fixture
def webhook() -> Iterator[Any]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/switchyard"  # type: ignore[attr-defined]
    yield server
    server.shutdown()


@pytest.fixture
def live(transactional_db: None) -> Tenant:
    """A tenant whose writes commit (e-mail and webhooks go out after commit, off the request)."""
    price_catalogue()
    return make_tenant("guarded")


def _canary(tenant: Tenant) -> PolicyVersion:
    rec = recommendation_refresh(
        project=tenant.project, evidence=synthetic_evidence(project_id=tenant.project.pk)
    )
    return recommendation_approve(recommendation=rec, actor=tenant.user)


def _traffic(
    tenant: Tenant, version: int, *, baseline: int, candidate: int, failing: int
) -> list[dict[str, Any]]:
    """Calls outside the rollout, and candidate calls of which `failing` fail and fall back."""
    events = [routed_event(endpoint=ENDPOINT, version=version, arm="baseline", reason="rollout", model=BASELINE)
              for _ in range(baseline)]  # fmt: skip
    for i in range(candidate):
        if i < failing:
            events.append(routed_event(endpoint=ENDPOINT, version=version, arm="candidate", reason="override",
                                       model=MINI, status="error", input_tokens=0, output_tokens=0))  # fmt: skip
            events.append(routed_event(endpoint=ENDPOINT, version=version, arm="fallback", reason="provider_error",
                                       model=BASELINE))  # fmt: skip
        else:
            events.append(
                routed_event(
                    endpoint=ENDPOINT, version=version, arm="candidate", reason="override", model=MINI
                )
            )
    ingest(tenant.ingest_key, events)
    return events


def test_a_canary_with_a_raised_error_rate_is_rolled_back_automatically(live: Tenant, webhook: Any) -> None:
    tenant = live
    PolicySettings.objects.create(project=tenant.project, webhook_url=webhook.url, webhook_secret="s3cret")
    canary = _canary(tenant)
    assert (canary.rollout_percent, canary.guarded) == (10.0, True)
    _traffic(tenant, canary.version, baseline=120, candidate=40, failing=12)

    assert guard_tick() == 1
    assert background.drain(30)

    check = GuardCheck.objects.get(version=canary)
    assert check.decision == "rollback"
    assert "Candidate error rate 12/40 (30.0%" in check.reasons[0]
    assert check.metrics["baseline_error_rate"] == 0.0 and check.metrics["policy_calls"] == 40
    now = PolicyVersion.objects.filter(project=tenant.project).order_by("-version").first()
    assert now is not None and (now.version, now.action, now.strategy) == (2, "auto_rollback", "none")
    assert now.created_by is None and now.reason.startswith("Guard tripped: Candidate error rate 12/40")
    body = json.loads(
        bytes(PublishedConfig.objects.filter(project=tenant.project).latest("config_version").body)
    )
    assert body["policies"] == []  # the SDK goes back to the app's own model on its next poll
    assert guard_tick() == 0  # nothing guarded is in force any more

    (message,) = mail.outbox
    assert message.subject == f"[Switchyard] {ENDPOINT}: routing rolled back automatically"
    assert message.to == [tenant.user.email] and "Candidate error rate 12/40" in message.body
    (headers, raw) = webhook.received[0]
    expected = "sha256=" + hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()
    assert (
        headers["X-Switchyard-Signature"] == expected
        and headers["X-Switchyard-Event"] == "policy.rolled_back"
    )
    payload = json.loads(raw)
    assert payload["data"]["from_version"] == 1 and payload["data"]["to_version"] == 2
    assert Notification.objects.get(kind="policy.rolled_back").webhook_status == "sent"


def test_a_healthy_canary_is_promoted_in_steps_and_waits_for_enough_calls(live: Tenant) -> None:
    tenant = live
    PolicySettings.objects.create(project=tenant.project, rollout_steps="25,50,100", guard_min_calls=30)
    canary = _canary(tenant)
    _traffic(tenant, canary.version, baseline=60, candidate=10, failing=0)

    guard_tick()  # within the window
    guard_tick(now=canary.created_at + timedelta(hours=2))  # window over, too few calls
    assert [c.decision for c in GuardCheck.objects.order_by("pk")] == ["hold", "hold"]
    assert "Waiting for 30 calls under the policy (have 10)" in GuardCheck.objects.latest("pk").reasons[0]

    _traffic(tenant, canary.version, baseline=0, candidate=25, failing=0)
    guard_tick(now=canary.created_at + timedelta(hours=2))
    step = PolicyVersion.objects.get(project=tenant.project, version=2)
    assert (step.action, step.rollout_percent, step.guarded, step.rollout_root) == (
        "promote",
        25.0,
        True,
        canary,
    )
    assert step.spec["rollout"]["salt"] == canary.spec["rollout"]["salt"]  # sticky units stay in
    guard_tick(now=step.created_at + timedelta(hours=2))
    guard_tick(now=step.created_at + timedelta(hours=5))
    final = PolicyVersion.objects.filter(project=tenant.project).order_by("-version").first()
    assert final is not None and (final.rollout_percent, final.guarded) == (100.0, False)
    assert [v.rollout_percent for v in PolicyVersion.objects.order_by("version")] == [10.0, 25.0, 50.0, 100.0]
    assert [m.subject for m in mail.outbox][-1] == f"[Switchyard] {ENDPOINT}: rollout promoted to 100%"


def test_worse_feedback_under_the_canary_trips_the_guard(live: Tenant) -> None:
    tenant = live
    canary = _canary(tenant)
    events = _traffic(tenant, canary.version, baseline=30, candidate=30, failing=0)
    feedback = [
        {
            "event_id": e["event_id"],
            "score": 0.2 if e["routing"]["reason"] == "override" else 0.9,
            "kind": "score",
        }
        for e in events
    ]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {tenant.ingest_key}")
    response = client.post(
        "/v1/feedback", data=json.dumps({"feedback": feedback}), content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["accepted"] == 60
    guard_tick()
    check = GuardCheck.objects.get(version=canary)
    assert check.decision == "rollback"
    assert any(r.startswith("Feedback under the policy averages 0.200 (n=30)") for r in check.reasons)
