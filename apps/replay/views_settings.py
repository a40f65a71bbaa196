"""Replay settings pages: the organisation's provider keys and the project's replay schedule."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.core.errors import ApplicationError, NotFound
from apps.core.page_decorators import page_errors
from apps.replay.engine.routes import DEFAULT_BASE_URL
from apps.replay.forms import ConnectionForm, ScheduleForm
from apps.replay.selectors import connections_for
from apps.replay.services.connections import connection_delete, connection_save
from apps.replay.services.planning import NANO
from apps.replay.services.schedules import month_spend, schedule_get, schedule_update
from apps.replay.views import form_error, project_for


def _organization(request: HttpRequest) -> Any:
    tenant: Any = request.tenant  # type: ignore[attr-defined]
    if tenant.organization is None:
        raise NotFound("You are not a member of any organisation")
    return tenant.organization


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def keys(request: HttpRequest) -> HttpResponse:
    organization = _organization(request)
    form = ConnectionForm(request.POST or None)
    if request.method == "POST" and request.POST.get("delete"):
        try:
            connection_delete(
                organization=organization, actor=request.user, connection_id=int(request.POST["delete"])
            )
        except ValueError as exc:
            raise NotFound("Provider connection not found") from exc
        messages.success(request, "Provider key removed.")
        return redirect("replay:keys")
    if request.method == "POST" and form.is_valid():
        try:
            connection = connection_save(organization=organization, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(
                request,
                f"Saved {connection.provider}. The key is stored encrypted and will not be shown again.",
            )
            return redirect("replay:keys")
    context = {
        "organization": organization,
        "connections": connections_for(organization=organization),
        "form": form,
        "defaults": DEFAULT_BASE_URL,
    }
    return render(request, "replay/keys.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def schedule(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(request, project_id)
    current = schedule_get(project=project)
    initial = {
        "enabled": current.enabled,
        "on_price_change": current.on_price_change,
        "on_new_model": current.on_new_model,
        "on_drift": current.on_drift,
        "drift_threshold": current.drift_threshold,
        "monthly_budget_usd": Decimal(current.monthly_budget_nano) / NANO,
        "job_spend_cap_usd": Decimal(current.job_spend_cap_nano) / NANO,
    }
    form = ScheduleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            schedule_update(project=project, actor=request.user, **form.values())
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, "Replay schedule saved. It is checked every hour.")
            return redirect("replay:schedule", project_id=project.pk)
    context = {
        "project": project,
        "schedule": current,
        "form": form,
        "spent": month_spend(project_id=project.pk),
    }
    return render(request, "replay/schedule.html", context)
