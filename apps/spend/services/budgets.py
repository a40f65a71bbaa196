"""Writes for spend control: budgets, anomaly monitors, channels, the customer key, revenue.

Every write checks what a person can act on and raises ApplicationError with what to change.
A project's first budget or monitor gets an e-mail channel to its admins and owners, so an
alert always reaches someone.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import ROLE_RANK, Person, Project, Role
from apps.accounts.selectors import role_of
from apps.core import background
from apps.core.errors import ApplicationError, PermissionDenied
from apps.core.network import UnsafeAddress, public_host_check
from apps.spend import customer_key as customer_keys
from apps.spend.models import (
    EACH,
    Action,
    Alert,
    AlertChannel,
    AlertStatus,
    AnomalyMonitor,
    Budget,
    ChannelKind,
    CustomerRevenue,
    Metric,
    Period,
    ScopeKind,
    SpendSettings,
)
from apps.spend.selectors.settings import customer_key_forget
from apps.spend.services.episodes import alert_resolve

DEFAULT_THRESHOLDS = [50, 80, 100]
MAX_BUDGETS_PER_PROJECT = 20_000


@dataclass(frozen=True)
class BudgetInput:
    name: str
    scope_kind: str
    scope_value: str
    period: str
    limit_usd: Decimal
    thresholds: list[int]
    action: str = Action.NONE
    downgrade_provider: str = ""
    downgrade_model: str = ""
    enabled: bool = True


def _choice(value: str, choices: Any, field: str) -> str:
    if value not in choices.values:
        raise ApplicationError(f"{field} must be one of {', '.join(choices.values)}", field=field)
    return value


def parse_thresholds(value: Any) -> list[int]:
    """'50, 80, 100' or [50, 80, 100] → sorted unique percents in 1–1000."""
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value or [])
    try:
        out = sorted({int(str(v).strip().rstrip("%")) for v in items})
    except ValueError as exc:
        raise ApplicationError("Thresholds are whole percents, e.g. 50, 80, 100", field="thresholds") from exc
    if not out or out[0] < 1 or out[-1] > 1000 or len(out) > 10:
        raise ApplicationError("Give 1–10 thresholds between 1 and 1000 %", field="thresholds")
    return out


def validate_budget(data: BudgetInput) -> BudgetInput:
    _choice(data.scope_kind, ScopeKind, "scope_kind")
    _choice(data.period, Period, "period")
    _choice(data.action, Action, "action")
    name = data.name.strip()
    if not name:
        raise ApplicationError("Give the budget a name", field="name")
    value = data.scope_value.strip()
    if data.scope_kind == ScopeKind.PROJECT:
        value = ""
    elif not value:
        raise ApplicationError(
            f"Name the {data.scope_kind} this budget is for, or '*' for each {data.scope_kind} on its own",
            field="scope_value",
        )
    try:
        limit = Decimal(data.limit_usd).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError) as exc:
        raise ApplicationError("The limit is an amount in dollars, e.g. 250", field="limit_usd") from exc
    if not Decimal("0.01") <= limit <= Decimal("1000000000"):
        raise ApplicationError("The limit is between $0.01 and $1,000,000,000", field="limit_usd")
    provider, model = data.downgrade_provider.strip(), data.downgrade_model.strip()
    if data.action == Action.DOWNGRADE and not (provider and model):
        raise ApplicationError(
            "Routing to a cheaper model needs its provider and model (e.g. openai / gpt-4o-mini)",
            field="downgrade_model",
        )
    if data.action != Action.DOWNGRADE:
        provider = model = ""
    return BudgetInput(
        name=name[:120],
        scope_kind=data.scope_kind,
        scope_value=value[:256],
        period=data.period,
        limit_usd=limit,
        thresholds=parse_thresholds(data.thresholds),
        action=data.action,
        downgrade_provider=provider[:64],
        downgrade_model=model[:256],
        enabled=data.enabled,
    )


def _require_admin(actor: Person | None, project: Project, doing: str) -> None:
    """People need to be admins or owners to change spend control (None: the system itself)."""
    if actor is None:
        return
    role = role_of(user=actor, organization=project.organization)
    if role is None or ROLE_RANK[role] < ROLE_RANK[Role.ADMIN]:
        raise PermissionDenied(f"Only admins and owners can {doing}.")


def _ensure_default_channel(project: Project) -> None:
    if not AlertChannel.objects.filter(project=project).exists():
        AlertChannel.objects.create(project=project, kind=ChannelKind.EMAIL, target="")


def _republish(project: Project) -> None:
    background.enqueue("policies.publish_config", project_id=project.pk, reason="budget changed")


def budget_create(*, project: Project, data: BudgetInput, actor: Person | None = None) -> Budget:
    _require_admin(actor, project, "create budgets")
    clean = validate_budget(data)
    if Budget.objects.filter(project=project).count() >= MAX_BUDGETS_PER_PROJECT:
        raise ApplicationError(f"A project can have at most {MAX_BUDGETS_PER_PROJECT:,} budgets")
    with transaction.atomic():
        budget = Budget.objects.create(
            project=project,
            created_by=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
            **clean.__dict__,
        )
        _ensure_default_channel(project)
    return budget


def budget_update(*, budget: Budget, data: BudgetInput, actor: Person | None = None) -> Budget:
    """Change a budget; its states are kept (the next tick re-judges them, resolving or escalating)
    unless its scope or period changed, and the config is published again."""
    _require_admin(actor, budget.project, "change budgets")
    clean = validate_budget(data)
    with transaction.atomic():
        scope_changed = (budget.scope_kind, budget.scope_value, budget.period) != (
            clean.scope_kind,
            clean.scope_value,
            clean.period,
        )
        for name, value in clean.__dict__.items():
            setattr(budget, name, value)
        budget.save()
        if scope_changed:
            budget.states.all().delete()
            now = timezone.now()
            for alert in Alert.objects.filter(budget=budget, status=AlertStatus.OPEN):
                alert_resolve(alert=alert, now=now, reason="The budget's scope or period changed")
        _republish(budget.project)
    return budget


def budget_delete(*, budget: Budget, actor: Person | None = None) -> None:
    """Delete a budget; its open episodes resolve at the next tick."""
    project = budget.project
    _require_admin(actor, project, "delete budgets")
    with transaction.atomic():
        budget.delete()
        _republish(project)


def monitor_create(
    *,
    project: Project,
    scope_kind: str,
    scope_value: str,
    metric: str,
    sensitivity: float = 4.0,
    min_usd: Decimal | float | str = Decimal("1"),
    actor: Person | None = None,
) -> AnomalyMonitor:
    _require_admin(actor, project, "set up anomaly alerts")
    _choice(scope_kind, ScopeKind, "scope_kind")
    _choice(metric, Metric, "metric")
    if scope_kind == ScopeKind.USER:
        raise ApplicationError(
            "One user's hourly spend is too sparse for a seasonal baseline: use a budget on each user "
            "(scope user, '*') to catch a runaway user",
            field="scope_kind",
        )
    value = "" if scope_kind == ScopeKind.PROJECT else (scope_value.strip() or EACH)
    if not 2.0 <= float(sensitivity) <= 20.0:
        raise ApplicationError("Sensitivity is 2–20 deviations (4 is the default)", field="sensitivity")
    try:
        floor = Decimal(str(min_usd)).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise ApplicationError("The smallest rise is an amount in dollars", field="min_usd") from exc
    if floor < 0:
        raise ApplicationError("The smallest rise cannot be negative", field="min_usd")
    with transaction.atomic():
        monitor, _ = AnomalyMonitor.objects.update_or_create(
            project=project,
            scope_kind=scope_kind,
            scope_value=value[:256],
            metric=metric,
            defaults={"sensitivity": float(sensitivity), "min_usd": floor, "enabled": True},
        )
        _ensure_default_channel(project)
    return monitor


def monitor_delete(*, monitor: AnomalyMonitor, actor: Person | None = None) -> None:
    _require_admin(actor, monitor.project, "remove anomaly alerts")
    monitor.delete()


def _check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApplicationError("The webhook URL must be an http(s) URL", field="target")
    try:
        public_host_check(parts.hostname, parts.port)
    except UnsafeAddress as exc:
        raise ApplicationError(f"The webhook URL: {exc}", field="target") from exc
    return url.strip()


def channel_create(*, project: Project, kind: str, target: str, actor: Person | None = None) -> AlertChannel:
    _require_admin(actor, project, "add alert channels")
    _choice(kind, ChannelKind, "kind")
    target = target.strip()
    secret = ""
    if kind == ChannelKind.EMAIL:
        for address in (a.strip() for a in target.split(",") if a.strip()):
            try:
                validate_email(address)
            except Exception as exc:
                raise ApplicationError(f"Not an e-mail address: {address[:80]!r}", field="target") from exc
    else:
        target = _check_url(target)
        if kind == ChannelKind.WEBHOOK:
            secret = "whsec_" + secrets.token_urlsafe(32)
    if len(target) > 1000:
        raise ApplicationError("At most 1,000 characters", field="target")
    return AlertChannel.objects.create(project=project, kind=kind, target=target, secret=secret)


def channel_delete(*, channel: AlertChannel, actor: Person | None = None) -> None:
    _require_admin(actor, channel.project, "remove alert channels")
    channel.delete()


def customer_key_set(*, project: Project, value: str, actor: Person | None = None) -> SpendSettings:
    _require_admin(actor, project, "change the customer key")
    rule = customer_keys.validate(value)
    row, _ = SpendSettings.objects.update_or_create(project=project, defaults={"customer_key": rule})
    customer_key_forget(project.pk)  # ingest's own cache of it lapses within its CONFIG_TTL_S
    _republish(project)
    return row


def revenue_set(
    *, project: Project, customer: str, month: date, amount_usd: Decimal | str, actor: Person | None = None
) -> CustomerRevenue:
    _require_admin(actor, project, "enter revenue")
    customer = customer.strip()
    if not customer or len(customer) > 256:
        raise ApplicationError("Name the customer (at most 256 characters)", field="customer")
    try:
        amount = Decimal(str(amount_usd)).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise ApplicationError("Revenue is an amount in dollars, e.g. 1200", field="amount_usd") from exc
    if amount < 0:
        raise ApplicationError("Revenue cannot be negative", field="amount_usd")
    row, _ = CustomerRevenue.objects.update_or_create(
        project=project, customer=customer, month=month.replace(day=1), defaults={"amount_usd": amount}
    )
    return row
