"""Owner-side data for the spend URLs' tenant-isolation cases (tests/tenancy_cases.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.urls import reverse

from apps.spend.models import Alert, Budget
from apps.spend.services.budgets import BudgetInput, budget_create
from tests.tenancy import Tenant

SECRET_USER = "secret-user-of-acme"


def budget(t: Tenant) -> Budget:
    found = t.extra.get("budget")
    if found is None:
        found = t.extra["budget"] = budget_create(
            project=t.project,
            data=BudgetInput(
                name="secret budget", scope_kind="user", scope_value=SECRET_USER, period="month",
                limit_usd=Decimal("5"), thresholds=[50, 100], action="block",
            ),
        )  # fmt: skip
    return found


def alert(t: Tenant) -> Alert:
    found = t.extra.get("alert")
    if found is None:
        found = t.extra["alert"] = Alert.objects.create(
            project=t.project, kind="budget", budget=budget(t), episode="secret", scope_kind="user",
            scope_value=SECRET_USER, title="secret alert", opened_at=datetime(2026, 11, 20, tzinfo=UTC),
        )  # fmt: skip
    return found


def url(name: str, *args: Callable[[Tenant], Any] | str) -> Callable[[Tenant], str]:
    return lambda t: reverse(name, args=[t.project.pk, *[a(t) if callable(a) else a for a in args]])


def budget_url(name: str) -> Callable[[Tenant], str]:
    return lambda t: reverse(name, args=[t.project.pk, budget(t).pk])


def alert_url(t: Tenant) -> str:
    return reverse("spend:alert", args=[t.project.pk, alert(t).pk])


def budget_body(t: Tenant) -> dict[str, Any]:
    return {"name": "mine now", "scope_kind": "project", "limit_usd": "1"}


def budget_untouched(owner: Tenant, intruder: Tenant, response: Any) -> None:
    assert response.status_code == 404, response.content
    found = Budget.objects.get(pk=budget(owner).pk)
    assert (found.name, found.limit_usd) == ("secret budget", Decimal("5"))
