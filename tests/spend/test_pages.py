"""Spend pages and API: budgets with progress, alert history, channels and monitors, unit
economics with empty states; roles; the API's CRUD, errors and OpenAPI entries."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.spend.models import AlertChannel, AnomalyMonitor, Budget, CustomerRevenue
from apps.spend.services.budgets import BudgetInput, budget_create
from apps.spend.services.tick import spend_tick
from tests.spend.data import call, send
from tests.tenancy import Tenant, add_member

pytestmark = pytest.mark.django_db


def _url(name: str, tenant: Tenant, *args: Any) -> str:
    return reverse(name, args=[tenant.project.pk, *args])


def test_empty_states_say_what_to_do(tenant: Tenant) -> None:
    web = tenant.web()
    home = web.get(_url("spend:home", tenant)).content.decode()
    assert "No budgets yet" in home and "Create a budget" in home and "No alerts yet" in home
    users = web.get(_url("spend:users", tenant)).content.decode()
    assert "switchyard.attributes(user_id=" in users
    customers = web.get(_url("spend:customers", tenant)).content.decode()
    assert "customer_id" in customers and "customer key" in customers
    conversations = web.get(_url("spend:conversations", tenant)).content.decode()
    assert "conversation_id" in conversations
    settings = web.get(_url("spend:settings", tenant)).content.decode()
    assert "No channel yet" in settings and "No anomaly alerts yet" in settings
    bad = web.get(_url("spend:users", tenant) + "?range=5y")
    assert bad.status_code == 400 and "Unknown range" in bad.content.decode()


def test_budgets_alerts_and_economics_pages(tenant: Tenant, prices: Any, now: datetime) -> None:
    earlier = now - timedelta(days=3)
    send(tenant, [
        call(now, usd=0.6, user_id="ana", customer_id="acme", conversation_id="c1", endpoint="chat"),
        call(now, usd=0.3, user_id="ana", customer_id="acme", conversation_id="c1", endpoint="search"),
        call(earlier, usd=0.15, user_id="bo", customer_id="globex", conversation_id="c2", endpoint="chat"),
    ])  # fmt: skip
    budget = budget_create(project=tenant.project, data=BudgetInput(
        name="Ana", scope_kind="user", scope_value="ana", period="month", limit_usd=Decimal("1"),
        thresholds=[50, 80, 100],
    ))  # fmt: skip
    spend_tick(now=now, project_ids=[tenant.project.pk])
    web = tenant.web()
    home = web.get(_url("spend:home", tenant)).content.decode()
    assert 'aria-valuenow="90"' in home and "$0.90 of $1.00" in home and "reached 80 %" in home
    detail = web.get(_url("spend:budget", tenant, budget.pk)).content.decode()
    assert "Budget Ana" in detail and "reached 80 %" in detail
    alert = budget.alerts.get()
    page = web.get(_url("spend:alert", tenant, alert.pk)).content.decode()
    assert "$0.90 of $1.00" in page and "opened" in page and "This user's costs" in page
    history = web.get(_url("spend:alerts", tenant) + "?status=open&kind=budget").content.decode()
    assert alert.title in history
    users = web.get(_url("spend:users", tenant)).content.decode()
    assert "ana" in users and "$0.9000" in users and "chat ($0.60), search ($0.30)" in users
    user = web.get(_url("spend:user", tenant, "ana")).content.decode()
    assert "$0.90" in user and "chat" in user
    assert web.get(_url("spend:user", tenant, "nobody")).status_code == 404
    conversations = web.get(_url("spend:conversations", tenant)).content.decode()
    assert "c1" in conversations and "Across several endpoints" in conversations

    month = now.date().replace(day=1)
    response = web.post(
        _url("spend:customer", tenant, "acme"), {"month": f"{month:%Y-%m}", "amount_usd": "10"}
    )
    assert response.status_code == 302
    customer = web.get(_url("spend:customer", tenant, "acme")).content.decode()
    assert "$10.00" in customer and "$9.10 (91 %)" in customer  # margin: 10 − 0.90
    customers = web.get(_url("spend:customers", tenant)).content.decode()
    assert "revenue $10" in customers


def test_forms_refuse_with_messages_and_viewers_cannot_change(tenant: Tenant, prices: Any) -> None:
    web = tenant.web()
    response = web.post(_url("spend:budget-new", tenant), {
        "name": "x", "scope_kind": "user", "scope_value": "", "period": "day", "limit_usd": "5",
        "thresholds": "50, 100", "action": "downgrade",
    })  # fmt: skip
    assert response.status_code == 200
    assert "Name the user" in response.content.decode()
    response = web.post(_url("spend:budget-new", tenant), {
        "name": "x", "scope_kind": "model", "scope_value": "gpt-4o", "period": "day", "limit_usd": "5",
        "thresholds": "fifty", "action": "none",
    })  # fmt: skip
    assert "whole percents" in response.content.decode()
    response = web.post(
        _url("spend:settings", tenant), {"action": "customer_key", "customer_key": "header:x"}
    )
    assert "metadata:&lt;key&gt;" in response.content.decode()
    response = web.post(_url("spend:settings", tenant), {"action": "add_monitor", "scope_kind": "customer",
                        "scope_value": "", "metric": "spend", "sensitivity": "4", "min_usd": "1"})  # fmt: skip
    assert response.status_code == 302
    assert AnomalyMonitor.objects.get(project=tenant.project).scope_value == "*"
    viewer = add_member(tenant, Role.VIEWER, "viewer")
    web.force_login(viewer)
    response = web.post(
        _url("spend:settings", tenant), {"action": "add_channel", "kind": "email", "target": "a@b.co"}
    )
    assert response.status_code == 403
    assert AlertChannel.objects.filter(project=tenant.project, target="a@b.co").count() == 0
    assert "Only admins and owners" in web.get(_url("spend:budget-new", tenant)).content.decode()


def test_budget_api_crud_errors_and_alerts(tenant: Tenant, prices: Any, now: datetime) -> None:
    api = tenant.api()
    url = reverse("api-budgets", args=[tenant.project.pk])
    body = {"name": "Chat", "scope_kind": "endpoint", "scope_value": "chat", "period": "day", "limit_usd": "2",
            "thresholds": [50, 100], "action": "downgrade", "downgrade_provider": "openai",
            "downgrade_model": "gpt-4o-mini"}  # fmt: skip
    created = api.post(url, json.dumps(body), content_type="application/json")
    assert created.status_code == 201, created.content
    doc = created.json()
    assert (
        doc["scope_value"] == "chat"
        and doc["state"][0]["percent"] == 0
        and doc["state"][0]["runs_out_at"] is None
    )
    send(tenant, [call(now, usd=1.5, endpoint="chat")])
    one = api.get(f"{url}/{doc['id']}").json()
    assert one["state"][0]["spent_usd"] == pytest.approx(1.5) and one["state"][0]["percent"] == pytest.approx(
        75
    )
    patched = api.patch(f"{url}/{doc['id']}", json.dumps({"limit_usd": "1"}), content_type="application/json")
    assert patched.status_code == 200 and patched.json()["state"][0]["exhausted"] is True
    bad = api.post(
        url,
        json.dumps({**body, "action": "downgrade", "downgrade_model": ""}),
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert set(bad.json()) == {"error"} and "cheaper model" in bad.json()["error"]["message"]
    spend_tick(now=now, project_ids=[tenant.project.pk])
    alerts = api.get(reverse("api-alerts", args=[tenant.project.pk]) + "?status=open").json()
    assert [a["threshold"] for a in alerts["alerts"]] == [100] and alerts["next_before"] is None
    assert api.get(reverse("api-alerts", args=[tenant.project.pk]) + "?kind=nope").status_code == 400
    revenue = api.put(reverse("api-customer-revenue", args=[tenant.project.pk]),
                      json.dumps({"customer": "acme", "month": "2026-03-17", "amount_usd": "1200"}),
                      content_type="application/json")  # fmt: skip
    assert revenue.json() == {"customer": "acme", "month": "2026-03-01", "amount_usd": "1200.00"}
    assert CustomerRevenue.objects.get(project=tenant.project).amount_usd == Decimal("1200")
    assert api.delete(f"{url}/{doc['id']}").status_code == 204
    assert not Budget.objects.filter(project=tenant.project).exists()


def test_openapi_documents_budgets_and_alerts(tenant: Tenant) -> None:
    schema = tenant.web().get("/api/schema/?format=json").json()
    operations = {op.get("operationId") for path in schema["paths"].values() for op in path.values()}
    assert {"budgets_list", "budgets_create", "budgets_retrieve", "budgets_update", "budgets_destroy",
            "alerts_list", "customer_revenue_set"} <= operations  # fmt: skip
