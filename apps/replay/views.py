"""Replay pages: start a replay (with a cost preview), the job list, a job's progress and results,
and the per-sample viewer. Every page is about a project the person belongs to."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.middleware import SESSION_PROJECT, remember_tenant
from apps.accounts.models import Project
from apps.accounts.selectors import project_get_for_user
from apps.core.errors import ApplicationError, NotFound
from apps.core.forms import form_refusal
from apps.core.page_decorators import page_errors
from apps.replay.exclusions import exclusions, refusal_exclusions
from apps.replay.forms import ReplayStartForm, evaluator_initial, model_options
from apps.replay.models import JobStatus
from apps.replay.selectors import (
    SAMPLE_ORDER,
    endpoint_evaluator_choice,
    endpoints_of_project,
    job_get_for_project,
    job_progress,
    job_sample,
    job_sample_rows,
    jobs_for_project,
)
from apps.replay.services.jobs import (
    is_stalled,
    replay_job_cancel,
    replay_job_create,
    replay_job_preview,
    replay_job_resume,
)

SAMPLES_PER_PAGE = 50


def project_for(request: HttpRequest, project_id: int) -> Project:
    project = project_get_for_user(user=request.user, project_id=project_id)
    if request.session.get(SESSION_PROJECT) != project.pk:
        remember_tenant(request, organization=project.organization, project=project)
    return project


def form_error(form: Any, exc: ApplicationError) -> None:
    """A service's refusal, shown next to the field it names."""
    form_refusal(form, exc, fields={"spend_cap": "spend_cap_usd"})


@login_required
@page_errors
def jobs(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(request, project_id)
    rows = list(jobs_for_project(project=project))
    active = any(j.status in (JobStatus.PENDING, JobStatus.RUNNING) for j in rows)
    return render(request, "replay/jobs.html", {"project": project, "jobs": rows, "active": active})


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def new(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_for(request, project_id)
    endpoints = endpoints_of_project(project_id=project.pk)
    endpoint = request.GET.get("endpoint", "")
    initial: dict[str, Any] = {"endpoint": endpoint}
    if request.GET.get("sample_size", "").isdigit():  # "replay N samples" links from a recommendation
        initial["sample_size"] = int(request.GET["sample_size"])
    chosen = endpoint_evaluator_choice(project_id=project.pk, endpoint=endpoint) if endpoint else None
    if chosen is not None:  # the evaluator a person chose for this endpoint sticks
        initial.update(evaluator_initial(kind=chosen.kind, config=chosen.config))
    form = ReplayStartForm(
        request.POST or None,
        initial=initial,
        endpoints=endpoints,
        options=model_options(organization_id=project.organization_id),
    )
    plan = None
    refused = []
    if request.method == "POST" and form.is_valid():
        spec = form.spec()
        try:
            if request.POST.get("action") == "start":
                job = replay_job_create(project=project, actor=request.user, spec=spec)
                messages.success(request, f"Replay #{job.pk} of {job.endpoint} queued.")
                return redirect("replay:job", project_id=project.pk, job_id=job.pk)
            plan = replay_job_preview(project=project, actor=request.user, spec=spec)
        except ApplicationError as exc:
            form_error(form, exc)
            refused = refusal_exclusions(project_id=project.pk, detail=exc.detail)
    left_out = []
    if plan is not None:
        pop = plan.population
        left_out = exclusions(
            project_id=project.pk,
            endpoint=plan.spec.endpoint,
            baseline=f"{pop.baseline_provider}/{pop.baseline_model}",
            excluded=plan.excluded,
            since=pop.since,
            until=pop.until,
            examples=plan.exclusion_examples,
        )
    context = {
        "project": project,
        "form": form,
        "plan": plan,
        "exclusions": left_out,
        "refused": refused,
        "has_endpoints": bool(endpoints),
        "chosen": chosen,
        "chosen_endpoint": endpoint,
    }
    return render(request, "replay/new.html", context)


@login_required
@page_errors
def job_detail(request: HttpRequest, project_id: int, job_id: int) -> HttpResponse:
    project = project_for(request, project_id)
    job = job_get_for_project(project=project, job_id=job_id)
    candidate = request.GET.get("candidate", "")
    if candidate and candidate not in job.candidate_keys:
        candidate = ""
    order = request.GET.get("order", "seq")
    order = order if order in SAMPLE_ORDER else "seq"
    try:
        page = max(0, int(request.GET.get("page", "0")))
    except ValueError:
        page = 0
    samples = job_sample_rows(
        job=job, candidate=candidate, order=order, limit=SAMPLES_PER_PAGE + 1, offset=page * SAMPLES_PER_PAGE
    )
    context = {
        "project": project,
        "job": job,
        "results": list(job.results.order_by("pk")),
        "exclusions": exclusions(
            project_id=project.pk,
            endpoint=job.endpoint,
            baseline=f"{job.baseline_provider}/{job.baseline_model}",
            excluded=job.excluded or {},
            since=job.window_start,
            until=job.window_end,
        ),
        "progress": job_progress(job),
        "stalled": is_stalled(job),
        "samples": samples[:SAMPLES_PER_PAGE],
        "more": len(samples) > SAMPLES_PER_PAGE,
        "page": page,
        "candidate": candidate,
        "order": order,
        "orders": {"seq": "In replay order", "worst": "Worst first", "best": "Best first"},
    }
    return render(request, "replay/job.html", context)


@login_required
@page_errors
def job_progress_json(request: HttpRequest, project_id: int, job_id: int) -> JsonResponse:
    project = project_for(request, project_id)
    return JsonResponse(job_progress(job_get_for_project(project=project, job_id=job_id)))


@login_required
@require_POST
@page_errors
def job_cancel(request: HttpRequest, project_id: int, job_id: int) -> HttpResponse:
    project = project_for(request, project_id)
    job = replay_job_cancel(job=job_get_for_project(project=project, job_id=job_id), actor=request.user)
    messages.success(
        request,
        "Cancelled." if job.status == JobStatus.CANCELLED else "Stopping after the requests in flight.",
    )
    return redirect("replay:job", project_id=project.pk, job_id=job.pk)


@login_required
@require_POST
@page_errors
def job_resume(request: HttpRequest, project_id: int, job_id: int) -> HttpResponse:
    project = project_for(request, project_id)
    job = replay_job_resume(job=job_get_for_project(project=project, job_id=job_id), actor=request.user)
    messages.success(request, "Resumed: samples already sent are not sent again.")
    return redirect("replay:job", project_id=project.pk, job_id=job.pk)


@login_required
@page_errors
def sample_detail(request: HttpRequest, project_id: int, job_id: int, sample_id: Any) -> HttpResponse:
    project = project_for(request, project_id)
    job = job_get_for_project(project=project, job_id=job_id)
    rows = job_sample(job=job, sample_id=sample_id)
    if not rows:
        raise NotFound("No result for this sample yet")
    context = {"project": project, "job": job, "first": rows[0], "rows": rows}
    return render(request, "replay/sample.html", context)
