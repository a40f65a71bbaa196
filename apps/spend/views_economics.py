"""Unit economics pages: cost per user, per customer (with margin against revenue entered) and per
conversation, from the per-key day rollups. A project with no such calls gets an empty state that
says what to send."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from apps.core.charts import sparkline_points
from apps.core.errors import ApplicationError, NotFound
from apps.core.page_decorators import page_errors
from apps.spend import charts
from apps.spend.forms import RevenueForm
from apps.spend.selectors import economics as econ
from apps.spend.selectors.settings import spend_settings_get
from apps.spend.services.budgets import revenue_set
from apps.spend.views import project_for, refuse

TITLES = {"user": "Cost per user", "customer": "Cost per customer", "conversation": "Cost per conversation"}


def _range(request: HttpRequest) -> tuple[econ.DayRange, str]:
    today = timezone.now().date()
    try:
        return econ.parse_day_range(request.GET, today=today), ""
    except ApplicationError as exc:
        return econ.parse_day_range({}, today=today), f"{exc.message}. Showing the last 30 days instead."


def _list(request: HttpRequest, project_id: int, kind: str) -> HttpResponse:
    project = project_for(request, project_id)
    rng, error = _range(request)
    summary, rows = econ.key_totals(project_id=project.pk, kind=kind, rng=rng)
    revenue: dict[str, float] = {}
    if kind == "customer" and rows:
        revenue = econ.revenue_by_customer(project_id=project.pk, month=rng.end.replace(day=1))
    context: dict[str, Any] = {
        "project": project,
        "tab": kind,
        "kind": kind,
        "title": TITLES[kind],
        "range": rng,
        "ranges": econ.RANGES,
        "error": error,
        "summary": summary,
        "rows": [(r, sparkline_points(r.daily), revenue.get(r.key)) for r in rows],
        "chart": charts.cost_per_key(econ.daily(project_id=project.pk, kind=kind, rng=rng), kind=kind)
        if summary.keys
        else None,
        "customer_key": spend_settings_get(project=project).customer_key if kind == "customer" else "",
    }
    return render(request, "spend/economics.html", context, status=400 if error else 200)


@login_required
@require_http_methods(["GET"])
@page_errors
def users(request: HttpRequest, project_id: int) -> HttpResponse:
    return _list(request, project_id, "user")


@login_required
@require_http_methods(["GET"])
@page_errors
def customers(request: HttpRequest, project_id: int) -> HttpResponse:
    return _list(request, project_id, "customer")


@login_required
@require_http_methods(["GET"])
@page_errors
def conversations(request: HttpRequest, project_id: int) -> HttpResponse:
    return _list(request, project_id, "conversation")


def _detail(request: HttpRequest, project_id: int, kind: str, key: str) -> HttpResponse:
    project = project_for(request, project_id)
    rng, error = _range(request)
    form = RevenueForm(request.POST or None) if kind == "customer" else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            month = datetime.strptime(form.cleaned_data["month"] + "-01", "%Y-%m-%d").date()  # noqa: DTZ007
        except ValueError:
            form.add_error("month", "Use the form 2026-03")
        else:
            try:
                revenue_set(
                    project=project, customer=key, month=month, amount_usd=form.cleaned_data["amount_usd"],
                    actor=request.user,
                )  # fmt: skip
            except ApplicationError as exc:
                refuse(form, exc)
            else:
                messages.success(request, f"Revenue for {month:%B %Y} saved.")
                return redirect(request.path)
    row = econ.key_detail(project_id=project.pk, kind=kind, key=key, rng=rng)
    if row is None and kind != "customer":
        raise NotFound(f"No calls from {kind} {key[:80]!r} in the {rng.label}")
    days = (
        [(rng.start.fromordinal(rng.start.toordinal() + i).isoformat(), v) for i, v in enumerate(row.daily)]
        if row
        else []
    )
    context = {
        "project": project,
        "tab": kind,
        "kind": kind,
        "key": key,
        "range": rng,
        "ranges": econ.RANGES,
        "error": error,
        "row": row,
        "chart": charts.key_daily(days, title=f"Spend per day ({rng.label})"),
        "margins": econ.customer_margins(project_id=project.pk, customer=key, today=timezone.now().date())
        if kind == "customer"
        else [],
        "form": form,
    }
    return render(request, "spend/economics_key.html", context, status=400 if error else 200)


@login_required
@require_http_methods(["GET"])
@page_errors
def user_detail(request: HttpRequest, project_id: int, key: str) -> HttpResponse:
    return _detail(request, project_id, "user", key)


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def customer_detail(request: HttpRequest, project_id: int, key: str) -> HttpResponse:
    return _detail(request, project_id, "customer", key)
