"""Budgets: spend per scope from the rollups, thresholds crossed once per period, escalation,
resolve notices, the hard action published in GET /v1/config, delivery without storms."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from switchyard._config import parse_config

from apps.core import background
from apps.spend.models import Alert, AlertChannel, AlertDelivery, AlertStatus, BudgetState, ChannelKind
from apps.spend.selectors.budgets import budget_progress, budget_spend, exhausted_entries
from apps.spend.services.budgets import (
    BudgetInput,
    budget_create,
    budget_update,
    channel_create,
    customer_key_set,
)
from apps.spend.services.deliver import DeliveryFailed, channel_deliver
from apps.spend.services.tick import spend_tick
from tests.spend.conftest import Peer
from tests.spend.data import call, send
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db


def budget(tenant: Tenant, **overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "name": "Pro users",
        "scope_kind": "user",
        "scope_value": "u1",
        "period": "month",
        "limit_usd": Decimal("1.00"),
        "thresholds": [50, 80, 100],
    }
    fields.update(overrides)
    return budget_create(project=tenant.project, data=BudgetInput(**fields), actor=tenant.user)


def tick(tenant: Tenant, now: datetime) -> Any:
    report = spend_tick(now=now, project_ids=[tenant.project.pk])
    assert background.drain(30)  # policies.publish_config, queued where the budget state changed
    for channel_id in report.channels:
        channel_deliver(channel_id=channel_id)
    return report


def config(tenant: Tenant) -> dict[str, Any]:
    response = tenant.api("sdk").get("/v1/config")
    assert response.status_code == 200
    return json.loads(response.content)


def test_spend_per_scope_and_period(tenant: Tenant, prices: Any, now: datetime) -> None:
    start_of_month = now.replace(day=1, hour=0, minute=0, second=0)
    earlier = start_of_month - timedelta(hours=1)  # last month: never counted
    send(tenant, [
        call(now, usd=0.3, user_id="u1", endpoint="chat"),
        call(now, usd=0.45, user_id="u2", endpoint="chat", model="gpt-4o-mini"),
        call(now, usd=0.15, user_id="u1", endpoint="search"),
        call(earlier, usd=9.0, user_id="u1", endpoint="chat"),
    ])  # fmt: skip
    budgets = [
        budget(tenant, name="project", scope_kind="project", scope_value=""),
        budget(tenant, name="chat", scope_kind="endpoint", scope_value="chat"),
        budget(tenant, name="mini", scope_kind="model", scope_value="gpt-4o-mini"),
        budget(tenant, name="u1", scope_kind="user", scope_value="u1"),
        budget(tenant, name="each user", scope_kind="user", scope_value="*", limit_usd=Decimal("0.5")),
        budget(tenant, name="each endpoint", scope_kind="endpoint", scope_value="*"),
    ]
    spend = budget_spend(project_id=tenant.project.pk, budgets=budgets, now=now)
    usd = {b.name: {k: round(v / 1e9, 2) for k, v in spend[b.pk].items()} for b in budgets}
    assert usd == {
        "project": {"": 0.9},
        "chat": {"chat": 0.75},
        "mini": {"gpt-4o-mini": 0.9},
        "u1": {"u1": 0.45},
        "each user": {"u1": 0.45, "u2": 0.45},  # past the first threshold (50 % of $0.50)
        "each endpoint": {"chat": 0.75, "search": 0.15},
    }
    rows = {p.budget.name: p for p in budget_progress(project=tenant.project, now=now, budgets=budgets[:4])}
    assert rows["project"].percent == pytest.approx(90.0) and rows["project"].level == "warn"
    assert rows["u1"].bar_percent == pytest.approx(45.0) and rows["u1"].level == "ok"


@pytest.mark.django_db(transaction=True)  # the republish runs on a worker thread, after commit
def test_thresholds_open_once_escalate_and_resolve_at_the_period_end(
    tenant: Tenant, prices: Any, now: datetime, webhook_peer: Peer
) -> None:
    b = budget(tenant, action="block")
    hook = channel_create(project=tenant.project, kind=ChannelKind.WEBHOOK, target=webhook_peer.url)
    email = AlertChannel.objects.get(project=tenant.project, kind=ChannelKind.EMAIL)  # the default one
    send(tenant, [call(now, usd=0.6, user_id="u1"), call(now, usd=5.0, user_id="someone-else")])

    first = tick(tenant, now)
    assert first.budgets.opened == 1
    alert = Alert.objects.get(budget=b)
    assert alert.threshold == 50 and alert.status == AlertStatus.OPEN
    assert "reached 50 %" in alert.title and alert.detail["spent_usd"] == pytest.approx(0.6)
    assert len(mail.outbox) == 1 and "Pro users" in mail.outbox[0].subject
    assert mail.outbox[0].to == [tenant.user.email]  # the default channel: admins and owners
    headers, body = webhook_peer.received[0]
    signature = "sha256=" + hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Switchyard-Signature"] == signature
    doc = json.loads(body)
    assert doc["type"] == "alert.opened" and doc["alerts"][0]["scope"] == {"kind": "user", "value": "u1"}

    for _ in range(3):  # no storm: the same state sends nothing again
        again = tick(tenant, now + timedelta(minutes=1))
        assert (again.budgets.opened, again.budgets.escalated) == (0, 0)
    assert len(mail.outbox) == 1 and len(webhook_peer.received) == 1
    assert "budgets" not in config(tenant)

    send(tenant, [call(now, usd=0.6, user_id="u1")])  # $1.20 of $1.00: past 80 and 100 at once
    tick(tenant, now + timedelta(minutes=2))
    alert.refresh_from_db()
    assert alert.threshold == 100 and alert.status == AlertStatus.OPEN
    assert [d.event for d in AlertDelivery.objects.filter(channel=email).order_by("pk")] == [
        "opened",
        "threshold:100",
    ]
    assert BudgetState.objects.get(budget=b, scope_value="u1").exhausted
    entries = config(tenant)["budgets"]["exhausted"]
    assert entries == [
        {
            "budget_id": b.pk,
            "name": "Pro users",
            "scope": {"kind": "user", "value": "u1"},
            "period": "month",
            "limit_usd": 1.0,
            "resets_at": entries[0]["resets_at"],
            "action": "block",
        }
    ]
    sdk_view = parse_config(tenant.api("sdk").get("/v1/config").content)  # the SDK reads what we serve
    assert [(r.budget_id, r.action, r.scope_value) for r in sdk_view.budgets] == [(b.pk, "block", "u1")]
    next_month = (now.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=5)
    assert entries[0]["resets_at"] == next_month.strftime("%Y-%m-%dT00:00:00Z")

    later = tick(tenant, next_month)
    alert.refresh_from_db()
    assert later.budgets.resolved == 1 and alert.status == AlertStatus.RESOLVED
    assert "new period" in alert.resolution
    assert json.loads(webhook_peer.received[-1][1])["type"] == "alert.resolved"
    assert "Resolved" in mail.outbox[-1].subject
    assert exhausted_entries(project_id=tenant.project.pk, now=next_month) == []  # a new period: no action
    assert AlertDelivery.objects.filter(alert=alert).count() == 6  # 3 notices × 2 channels, each once


def test_raising_the_limit_resolves_the_episode(tenant: Tenant, prices: Any, now: datetime) -> None:
    b = budget(tenant)
    send(tenant, [call(now, usd=0.9, user_id="u1")])
    tick(tenant, now)
    b = budget_update(budget=b, data=BudgetInput(
        name=b.name, scope_kind="user", scope_value="u1", period="month", limit_usd=Decimal("10"),
        thresholds=[50, 80, 100],
    ))  # fmt: skip
    report = tick(tenant, now + timedelta(minutes=1))
    assert report.budgets.resolved == 1
    assert Alert.objects.get(budget=b).resolution == "Spend is back under the first threshold"


def test_each_customer_by_a_metadata_key_and_a_digest_instead_of_a_storm(
    tenant: Tenant, prices: Any, now: datetime, slack_peer: Peer
) -> None:
    customer_key_set(project=tenant.project, value="metadata:account")
    channel_create(project=tenant.project, kind=ChannelKind.SLACK, target=slack_peer.url)
    b = budget(
        tenant,
        name="Per customer",
        scope_kind="customer",
        scope_value="*",
        period="day",
        limit_usd=Decimal("1"),
    )
    send(tenant, [call(now, usd=0.6, metadata={"account": f"acct-{i}"}) for i in range(12)] + [
        call(now, usd=0.1, metadata={"account": "small"}),
        call(now, usd=0.6, customer_id="explicit", metadata={"account": "ignored"}),
    ])  # fmt: skip
    report = tick(tenant, now)
    assert report.budgets.opened == 13
    assert sorted(Alert.objects.filter(budget=b).values_list("scope_value", flat=True)) == sorted(
        [f"acct-{i}" for i in range(12)] + ["explicit"]
    )
    assert len(slack_peer.received) == 1  # one digest, not 13 messages
    text = json.loads(slack_peer.received[0][1])["text"]
    assert "acct-0" in text and "explicit" in text
    assert mail.outbox == []  # the project had a channel: no default e-mail one was added
    assert AlertDelivery.objects.filter(alert__budget=b, digest=True, status="sent").count() == 13
    assert tick(tenant, now + timedelta(minutes=1)).budgets.opened == 0 and len(slack_peer.received) == 1


def test_a_failing_channel_is_retried_then_given_up(
    tenant: Tenant, prices: Any, now: datetime, webhook_peer: Peer
) -> None:
    budget(tenant)
    hook = channel_create(project=tenant.project, kind=ChannelKind.WEBHOOK, target=webhook_peer.url)
    send(tenant, [call(now, usd=0.6, user_id="u1")])
    spend_tick(now=now, project_ids=[tenant.project.pk])
    webhook_peer.fail_next(500, 503)
    for _ in range(2):
        with pytest.raises(DeliveryFailed):
            channel_deliver(channel_id=hook.pk)
    assert channel_deliver(channel_id=hook.pk) == 1
    delivery = AlertDelivery.objects.get(channel=hook)
    assert (delivery.status, delivery.attempts) == ("sent", 3)
    assert channel_deliver(channel_id=hook.pk) == 0 and len(webhook_peer.received) == 3
