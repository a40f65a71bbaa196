"""Dashboard pages: overview, endpoint, models, model, call explorer, one call, CSV export.

Each view checks the project belongs to the person (another tenant's project is a 404), parses
its query parameters (a bad value is a message on the page, status 400, never a 500), and hands
the work to apps.dashboard.page_contexts / calls.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from apps.accounts.middleware import SESSION_PROJECT, remember_tenant
from apps.accounts.models import Project
from apps.accounts.selectors import api_keys_for_project, project_get_for_user
from apps.core.errors import ApplicationError
from apps.core.page_decorators import page_errors
from apps.dashboard import page_contexts
from apps.dashboard.calls import call_get, calls_page, export_csv_chunks
from apps.dashboard.filters import (
    DEFAULT_PRESET,
    PRESET_LABELS,
    STATUSES,
    TZ_COOKIE,
    CallFilters,
    TimeRange,
    parse_call_filters,
    parse_range,
)
from apps.dashboard.install import install_snippet
from apps.dashboard.selectors import Dimension, dimensions, endpoint_names, has_calls, model_names
from apps.replay.selectors import EXCLUSION_LABELS

COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)


def _project(request: HttpRequest, project_id: int) -> Project:
    """The project in the URL, if the person may see it; it becomes their current project."""
    project = project_get_for_user(user=request.user, project_id=project_id)
    if request.session.get(SESSION_PROJECT) != project.pk:
        remember_tenant(request, organization=project.organization, project=project)
    return project


def _range(request: HttpRequest) -> tuple[TimeRange, str]:
    """The requested range, or the default one and a message saying what was wrong."""
    tz_default = request.COOKIES.get(TZ_COOKIE, "UTC")
    now = timezone.now()
    try:
        return parse_range(request.GET, now=now, tz_default=tz_default), ""
    except ApplicationError as exc:
        fallback = parse_range({"range": DEFAULT_PRESET}, now=now, tz_default=tz_default)
        return fallback, f"{exc.message}. Showing {PRESET_LABELS[DEFAULT_PRESET].lower()} instead."


def _base(project: Project, rng: TimeRange, error: str, tab: str) -> dict[str, Any]:
    """What every dashboard page shows around its content: project, range picker, tabs, message."""
    zones = list(COMMON_ZONES)
    if rng.tz.key not in zones:
        zones.insert(0, rng.tz.key)
    return {
        "project": project,
        "range": rng,
        "range_query": rng.query(),
        "presets": PRESET_LABELS,
        "zones": zones,
        "error": error,
        "tab": tab,
    }


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    rng: TimeRange = context["range"]
    with timezone.override(rng.tz):
        return render(request, template, context, status=400 if context.get("error") else 200)


def _install(request: HttpRequest, project: Project, has_any: bool) -> dict[str, Any]:
    """The empty state's context for a project that never sent a call."""
    if has_any:
        return {}
    return {"install": install_snippet(project=project, host=f"{request.scheme}://{request.get_host()}")}


def _summary_page(
    request: HttpRequest, project_id: int, *, tab: str, template: str, build: Callable[..., dict[str, Any]]
) -> HttpResponse:
    """A page about the whole project: its content, or the install empty state before any call."""
    project = _project(request, project_id)
    rng, error = _range(request)
    has_any = has_calls(project_id=project.pk)
    context = _base(project, rng, error, tab) | _install(request, project, has_any)
    if has_any:
        context |= build(project, rng)
    return _render(request, template, context)


@login_required
@require_GET
@page_errors
def overview(request: HttpRequest, project_id: int) -> HttpResponse:
    return _summary_page(
        request, project_id, tab="overview", template="dashboard/overview.html", build=page_contexts.overview
    )


@login_required
@require_GET
@page_errors
def endpoint_detail(request: HttpRequest, project_id: int, endpoint: str) -> HttpResponse:
    project = _project(request, project_id)
    rng, error = _range(request)
    context = _base(project, rng, error, "overview") | page_contexts.endpoint_page(project, rng, endpoint)
    return _render(request, "dashboard/endpoint.html", context)


@login_required
@require_GET
@page_errors
def models_index(request: HttpRequest, project_id: int) -> HttpResponse:
    return _summary_page(
        request, project_id, tab="models", template="dashboard/models.html", build=page_contexts.models_index
    )


@login_required
@require_GET
@page_errors
def model_detail(request: HttpRequest, project_id: int, provider: str, model: str) -> HttpResponse:
    project = _project(request, project_id)
    rng, error = _range(request)
    context = _base(project, rng, error, "models") | page_contexts.model_page(project, rng, provider, model)
    return _render(request, "dashboard/model.html", context)


def _call_filters(request: HttpRequest, dims: list[Dimension]) -> tuple[CallFilters, str]:
    tz_default = request.COOKIES.get(TZ_COOKIE, "UTC")
    now = timezone.now()
    try:
        filters = parse_call_filters(
            request.GET,
            now=now,
            tz_default=tz_default,
            endpoints=endpoint_names(dims),
            models=model_names(dims),
        )
        return filters, ""
    except ApplicationError as exc:
        rng, _ = _range(request)
        return CallFilters(range=rng), exc.message


@login_required
@require_GET
@page_errors
def calls(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id)
    dims = dimensions(project_id=project.pk)
    filters, error = _call_filters(request, dims)
    context = _base(project, filters.range, error, "calls") | _install(request, project, bool(dims))
    page = None if error or not dims else calls_page(project_id=project.pk, filters=filters)
    context |= {
        "filters": filters,
        "form": request.GET,
        "page": page,
        "next_query": filters.with_cursor(page.next_cursor).query(with_cursor=True)
        if page and page.next_cursor
        else None,
        "first_query": filters.query() if filters.after else None,
        "export_query": filters.query(),
        "endpoints": endpoint_names(dims),
        "models": model_names(dims),
        "statuses": STATUSES,
        "exclusion_label": EXCLUSION_LABELS.get(filters.replay_exclusion, ""),
    }
    return _render(request, "dashboard/calls.html", context)


@login_required
@require_GET
@page_errors
def call_detail(request: HttpRequest, project_id: int, event_id: uuid.UUID) -> HttpResponse:
    project = _project(request, project_id)
    rng, _ = _range(request)
    call = call_get(project_id=project.pk, event_id=event_id)
    context = _base(project, rng, "", "calls") | {"call": call, "data": call.data}
    return _render(request, "dashboard/call.html", context)


@page_errors
def _refused(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    """How any page shows a refusal (404 page, 403 page, or the message)."""
    raise error


@login_required
@require_GET
def calls_export(request: HttpRequest, project_id: int) -> HttpResponseBase:
    """The filtered calls as CSV, streamed chunk by chunk (never built whole in memory)."""
    try:
        project = _project(request, project_id)
        filters, error = _call_filters(request, dimensions(project_id=project.pk))
        if error:
            raise ApplicationError(error)
    except ApplicationError as exc:
        return _refused(request, exc)
    filters = filters.with_cursor(None)
    chunks: Iterator[str] = export_csv_chunks(project_id=project.pk, filters=filters)
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    stamp = filters.range.end.astimezone(filters.range.tz).strftime("%Y%m%d-%H%M")
    name = f"switchyard-{slugify(project.name) or 'project'}-calls-{stamp}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@page_errors
def start(request: HttpRequest) -> HttpResponse:
    """The current project's start page: how to send data, with its keys."""
    tenant: Any = request.tenant  # type: ignore[attr-defined]
    if tenant.project is None:
        return redirect("accounts:projects")
    keys = api_keys_for_project(project=tenant.project).filter(revoked_at__isnull=True)
    install = install_snippet(project=tenant.project, host=f"{request.scheme}://{request.get_host()}")
    return render(
        request, "dashboard/start.html", {"project": tenant.project, "keys": keys, "install": install}
    )
