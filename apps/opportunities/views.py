"""Opportunities pages: the project's findings ranked by dollars a month, and one finding with its
evidence, the exact change and what it realised. Views check the project is the person's (another
tenant's is a 404), call one service or selector, and show refusals on the page (never a 500)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.accounts.middleware import SESSION_PROJECT, remember_tenant
from apps.accounts.models import Project
from apps.accounts.selectors import project_get_for_user
from apps.core import background
from apps.core.page_decorators import page_action, page_errors
from apps.opportunities import selectors, services
from apps.opportunities.display import facts
from apps.opportunities.models import Kind, Latency, Opportunity, Status
from apps.opportunities.replays import opportunity_queue_replay


def _project(request: HttpRequest, project_id: int) -> Project:
    project = project_get_for_user(user=request.user, project_id=project_id)
    if request.session.get(SESSION_PROJECT) != project.pk:
        remember_tenant(request, organization=project.organization, project=project)
    return project


def _filters(request: HttpRequest) -> dict[str, str]:
    status = request.GET.get("status", "open")
    kind = request.GET.get("kind", "")
    return {
        "status": status if status in selectors.STATUSES else "open",
        "kind": kind if kind in Kind.values else "",
        "endpoint": request.GET.get("endpoint", "")[:128],
    }


PAGE_SIZE = 100  # the largest findings; a kind or an endpoint narrows the rest down
TAB_LABELS = {
    "open": "Open",
    "done": "Done",
    "dismissed": "Dismissed",
    "gone": "No longer found",
    "all": "All",
}


def _status_tabs(project: Project) -> list[tuple[str, str, int]]:
    counts = selectors.counts_by_status(project_id=project.pk)
    return [(value, TAB_LABELS[value], counts[value]) for value in selectors.STATUSES]


@login_required
@require_http_methods(["GET"])
@page_errors
def home(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id)
    filters = _filters(request)
    listed = selectors.opportunities_list(project_id=project.pk, **filters)
    totals = selectors.opportunity_totals(project_id=project.pk)
    context: dict[str, Any] = {
        "project": project,
        "filters": filters,
        "items": [{"o": o, "facts": facts(o)} for o in listed[:PAGE_SIZE]],
        "more": max(0, listed.count() - PAGE_SIZE),
        "status_tabs": _status_tabs(project),
        "totals": totals,
        "realised": selectors.realised_summary(project_id=project.pk),
        "run": selectors.last_run(project_id=project.pk),
        "kinds": Kind.choices,
        "latency_choices": Latency.choices,
        "latency": selectors.endpoint_latency(project_id=project.pk),
        "every_hours": int(services.EVERY.total_seconds() // 3600),
    }
    return render(request, "opportunities/home.html", context)


@login_required
@require_http_methods(["GET"])
@page_errors
def detail(request: HttpRequest, project_id: int, opportunity_id: int) -> HttpResponse:
    project = _project(request, project_id)
    found = selectors.opportunity_get(project=project, opportunity_id=opportunity_id)
    total = selectors.opportunity_totals(project_id=project.pk).endpoint(found.endpoint)
    return render(
        request,
        "opportunities/detail.html",
        {
            "project": project,
            "o": found,
            "facts": facts(found),
            "endpoint_total": total if found.status == Status.OPEN else None,
            "kind_label": selectors.KIND_LABELS.get(found.kind, found.kind),
        },
    )


# --- what the pages' forms post to: one operation each ------------------------------------------


@login_required
@page_action("opportunities:home", "project_id")
def detectors_run(request: HttpRequest, project_id: int) -> HttpResponse:
    """Run the detectors over the project's last 7 days now, in the background."""
    project = _project(request, project_id)
    services.require_member(actor=request.user, project=project)
    background.enqueue("opportunities.detect_project", project.pk, "manual")
    messages.success(request, "The detectors are running over the last 7 days of calls: reload in a moment.")
    return redirect("opportunities:home", project.pk)


@login_required
@page_action("opportunities:home", "project_id")
def endpoint_latency(request: HttpRequest, project_id: int) -> HttpResponse:
    """Say how latency-sensitive an endpoint is (the tier detector reads it)."""
    project = _project(request, project_id)
    row = services.endpoint_latency_set(
        project=project,
        endpoint=request.POST.get("endpoint", ""),
        latency=request.POST.get("latency", ""),
        actor=request.user,
    )
    messages.success(request, f"{row.endpoint}: {row.get_latency_display().lower()}. The next run uses it.")
    return redirect("opportunities:home", project.pk)


def _finding(request: HttpRequest, project_id: int, opportunity_id: int) -> Opportunity:
    project = _project(request, project_id)
    return selectors.opportunity_get(project=project, opportunity_id=opportunity_id)


finding_action = page_action("opportunities:detail", "project_id", "opportunity_id")


@login_required
@finding_action
def finding_dismiss(request: HttpRequest, project_id: int, opportunity_id: int) -> HttpResponse:
    found = _finding(request, project_id, opportunity_id)
    services.opportunity_dismiss(opportunity=found, actor=request.user, reason=request.POST.get("reason", ""))
    messages.success(request, "Dismissed: it stays out of the totals, and later runs keep it dismissed.")
    return redirect("opportunities:detail", project_id, found.pk)


@login_required
@finding_action
def finding_done(request: HttpRequest, project_id: int, opportunity_id: int) -> HttpResponse:
    found = _finding(request, project_id, opportunity_id)
    services.opportunity_mark_done(opportunity=found, actor=request.user, note=request.POST.get("note", ""))
    messages.success(request, "Marked done: the realised saving is measured from tomorrow's calls on.")
    return redirect("opportunities:detail", project_id, found.pk)


@login_required
@finding_action
def finding_reopen(request: HttpRequest, project_id: int, opportunity_id: int) -> HttpResponse:
    found = _finding(request, project_id, opportunity_id)
    services.opportunity_reopen(opportunity=found, actor=request.user)
    messages.success(request, "Reopened.")
    return redirect("opportunities:detail", project_id, found.pk)


@login_required
@finding_action
def finding_replay(request: HttpRequest, project_id: int, opportunity_id: int) -> HttpResponse:
    """Queue a replay of the superseded model's successor on the endpoint's traffic."""
    found = _finding(request, project_id, opportunity_id)
    job = opportunity_queue_replay(opportunity=found, actor=request.user)
    messages.success(request, f"Replay #{job} queued with the successor as the candidate.")
    return redirect("opportunities:detail", project_id, found.pk)
