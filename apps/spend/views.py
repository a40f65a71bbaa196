"""Spend control pages: budgets with progress and forecast, alert history, alert channels and
anomaly monitors. Views check the project is the person's (another tenant's is a 404), bind a
form, call one service, and show a refusal on the page (never a 500)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from apps.accounts.middleware import SESSION_PROJECT, remember_tenant
from apps.accounts.models import Project
from apps.accounts.selectors import project_get_for_user
from apps.core.errors import ApplicationError
from apps.core.page_decorators import page_errors
from apps.spend import forms
from apps.spend.models import Action, AlertChannel, AnomalyMonitor, Budget
from apps.spend.selectors import alerts as alert_reads
from apps.spend.selectors.budgets import budget_get, budget_progress
from apps.spend.selectors.settings import spend_settings_get
from apps.spend.services import budgets as services


def project_for(request: HttpRequest, project_id: int) -> Project:
    project = project_get_for_user(user=request.user, project_id=project_id)
    if request.session.get(SESSION_PROJECT) != project.pk:
        remember_tenant(request, organization=project.organization, project=project)
    return project


def refuse(form: Any, exc: ApplicationError) -> None:
    """A service's refusal on the form: under its field when the form has one."""
    if exc.status not in (400, 422):
        raise exc
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _budget_input(data: dict[str, Any]) -> services.BudgetInput:
    return services.BudgetInput(
        name=data["name"],
        scope_kind=data["scope_kind"],
        scope_value=data.get("scope_value") or "",
        period=data["period"],
        limit_usd=Decimal(data["limit_usd"]),
        thresholds=data["thresholds"],
        action=data["action"],
        downgrade_provider=data.get("downgrade_provider") or "",
        downgrade_model=data.get("downgrade_model") or "",
        enabled=bool(data.get("enabled")),
    )


@login_required
@require_http_methods(["GET"])
@page_errors
def home(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(request, project_id)
    now = timezone.now()
    progress = budget_progress(project=project, now=now)
    recent = alert_reads.alerts_page(project=project, limit=8).alerts
    return render(
        request,
        "spend/home.html",
        {
            "project": project,
            "tab": "budgets",
            "progress": progress,
            "recent": recent,
            "open_alerts": alert_reads.open_alert_count(project=project),
            "now": now,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def budget_new(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(request, project_id)
    form = forms.BudgetForm(request.POST or None, initial={"enabled": True, "action": Action.NONE})
    if request.method == "POST" and form.is_valid():
        try:
            budget = services.budget_create(
                project=project, data=_budget_input(form.cleaned_data), actor=request.user
            )
        except ApplicationError as exc:
            refuse(form, exc)
        else:
            messages.success(request, f"Budget {budget.name} created: the next minute's tick judges it.")
            return redirect("spend:budget", project.pk, budget.pk)
    return render(request, "spend/budget_form.html", {"project": project, "tab": "budgets", "form": form})


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def budget_detail(request: HttpRequest, project_id: int, budget_id: int) -> HttpResponse:
    project = project_for(request, project_id)
    budget = budget_get(project=project, budget_id=budget_id)
    form = forms.BudgetForm(request.POST or None, initial=_initial(budget))
    if request.method == "POST":
        if request.POST.get("delete"):
            services.budget_delete(budget=budget, actor=request.user)
            messages.success(request, f"Budget {budget.name} deleted.")
            return redirect("spend:home", project.pk)
        if form.is_valid():
            try:
                services.budget_update(
                    budget=budget, data=_budget_input(form.cleaned_data), actor=request.user
                )
            except ApplicationError as exc:
                refuse(form, exc)
            else:
                messages.success(request, "Budget saved.")
                return redirect("spend:budget", project.pk, budget.pk)
    progress = budget_progress(project=project, now=timezone.now(), budgets=[budget])
    alerts = list(budget.alerts.order_by("-pk")[:30])
    return render(
        request,
        "spend/budget.html",
        {
            "project": project,
            "tab": "budgets",
            "budget": budget,
            "form": form,
            "progress": progress,
            "alerts": alerts,
        },
    )


def _initial(budget: Budget) -> dict[str, Any]:
    return {
        "name": budget.name,
        "scope_kind": budget.scope_kind,
        "scope_value": budget.scope_value,
        "period": budget.period,
        "limit_usd": budget.limit_usd,
        "thresholds": ", ".join(str(t) for t in budget.thresholds),
        "action": budget.action,
        "downgrade_provider": budget.downgrade_provider,
        "downgrade_model": budget.downgrade_model,
        "enabled": budget.enabled,
    }


@login_required
@require_http_methods(["GET"])
@page_errors
def alerts(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(request, project_id)
    status, kind = request.GET.get("status", ""), request.GET.get("kind", "")
    before_text = request.GET.get("before", "")
    if before_text and not before_text.isdigit():
        raise ApplicationError("'before' is an alert id")
    page = alert_reads.alerts_page(
        project=project, status=status, kind=kind, before=int(before_text) if before_text else None
    )
    return render(
        request,
        "spend/alerts.html",
        {"project": project, "tab": "alerts", "page": page, "status": status, "kind": kind},
    )


@login_required
@require_http_methods(["GET"])
@page_errors
def alert_detail(request: HttpRequest, project_id: int, alert_id: int) -> HttpResponse:
    project = project_for(request, project_id)
    alert = alert_reads.alert_get(project=project, alert_id=alert_id)
    deliveries = list(alert.deliveries.select_related("channel").order_by("pk"))
    return render(
        request,
        "spend/alert.html",
        {"project": project, "tab": "alerts", "alert": alert, "deliveries": deliveries},
    )


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def settings_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(request, project_id)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    channel_form = forms.ChannelForm(request.POST if action == "add_channel" else None)
    monitor_form = forms.MonitorForm(request.POST if action == "add_monitor" else None)
    key_form = forms.CustomerKeyForm(
        request.POST if action == "customer_key" else None,
        initial={"customer_key": spend_settings_get(project=project).customer_key},
    )
    if request.method == "POST":
        done = _settings_action(request, project, action, channel_form, monitor_form, key_form)
        if done:
            messages.success(request, done)
            return redirect("spend:settings", project.pk)
    return render(
        request,
        "spend/settings.html",
        {
            "project": project,
            "tab": "settings",
            "channels": alert_reads.channels_for(project=project),
            "monitors": alert_reads.monitors_for(project=project),
            "channel_form": channel_form,
            "monitor_form": monitor_form,
            "key_form": key_form,
        },
    )


def _settings_action(
    request: HttpRequest,
    project: Project,
    action: str,
    channel_form: forms.ChannelForm,
    monitor_form: forms.MonitorForm,
    key_form: forms.CustomerKeyForm,
) -> str:
    """Run one settings action; returns the success message ('' when the form shows an error)."""
    user = request.user
    if action == "add_channel" and channel_form.is_valid():
        try:
            services.channel_create(project=project, actor=user, **channel_form.cleaned_data)
        except ApplicationError as exc:
            refuse(channel_form, exc)
            return ""
        return "Channel added."
    if action == "delete_channel":
        channel = AlertChannel.objects.filter(project=project, pk=_int(request.POST.get("channel"))).first()
        if channel is None:
            raise ApplicationError("No such channel in this project", code="not_found", status=404)
        services.channel_delete(channel=channel, actor=user)
        return "Channel removed."
    if action == "add_monitor" and monitor_form.is_valid():
        try:
            services.monitor_create(project=project, actor=user, **monitor_form.cleaned_data)
        except ApplicationError as exc:
            refuse(monitor_form, exc)
            return ""
        return "Anomaly alert added: each complete hour is judged against its own baseline."
    if action == "delete_monitor":
        monitor = AnomalyMonitor.objects.filter(project=project, pk=_int(request.POST.get("monitor"))).first()
        if monitor is None:
            raise ApplicationError("No such anomaly alert in this project", code="not_found", status=404)
        services.monitor_delete(monitor=monitor, actor=user)
        return "Anomaly alert removed."
    if action == "customer_key" and key_form.is_valid():
        try:
            services.customer_key_set(
                project=project, value=key_form.cleaned_data["customer_key"], actor=user
            )
        except ApplicationError as exc:
            refuse(key_form, exc)
            return ""
        return "Customer key saved: calls stored from now on use it."
    if action not in ("add_channel", "add_monitor", "customer_key"):
        raise ApplicationError("Unknown action")
    return ""


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0
