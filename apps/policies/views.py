"""Routing pages: the recommendations inbox, one recommendation (diff, approve, reject), an
endpoint's policy history (rollback, stop, rollout, quality bar), the published config, settings
and the organisation's kill switch."""

from __future__ import annotations

import difflib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from apps.accounts.models import Organization, Project
from apps.accounts.selectors import project_get_for_user
from apps.core import background
from apps.core.charts import Chart
from apps.core.errors import ApplicationError, NotFound
from apps.core.forms import form_refusal
from apps.core.page_decorators import page_action, page_errors
from apps.policies import forms, selectors
from apps.policies.charts import pareto
from apps.policies.domain import signing
from apps.policies.domain.savings import realised_savings, realised_savings_for_endpoint
from apps.policies.models import PolicySettings, PolicyVersion, Recommendation, Strategy
from apps.policies.services import approve, killswitch, project_settings, recommend
from apps.policies.services.versions import spec_build

SAVINGS_DAYS = 30
# A service's field name → the approve form's.
APPROVE_FIELDS = {"rollout": "rollout_percent", "guard": "max_error_rate", "target": "option"}


def _since() -> datetime:
    return datetime.now(UTC) - timedelta(days=SAVINGS_DAYS)


@login_required
@require_http_methods(["GET"])
@page_errors
def inbox(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_user(user=request.user, project_id=project_id)
    current = selectors.current_versions(project_id=project.pk)
    latest = selectors.recommendations_latest(project=project)
    context = {
        "project": project,
        "open": list(selectors.recommendations_open(project=project)),
        "others": [r for r in latest if r.status != "open"],
        "policies": sorted(current.values(), key=lambda v: v.endpoint),
        "config": selectors.config_current(project_id=project.pk, fresh=True),
        "savings": realised_savings(
            project_id=project.pk, organization_id=project.organization_id, since=_since()
        ),
        "days": SAVINGS_DAYS,
    }
    return render(request, "policies/inbox.html", context)


@login_required
@page_action("policies:inbox", "project_id")
def recommendations_refresh(request: HttpRequest, project_id: int) -> HttpResponse:
    """Make the project's recommendations again from the newest replay evidence, in the background."""
    project = project_get_for_user(user=request.user, project_id=project_id)
    approve.require_approver(actor=request.user, project=project, doing="refresh recommendations")
    background.enqueue("policies.recommend_project", project.pk)
    messages.success(request, "Recommendations are being made again from the newest replay evidence.")
    return redirect("policies:inbox", project_id=project.pk)


def _model_text(raw: dict[str, Any]) -> dict[str, Any]:
    """A learned model with its members summarised (an encoder router's fallback too)."""
    model = dict(raw)
    members = model.pop("members", None) or [model]
    weights = sum(len(m.get("weights", {})) for m in members)
    model.pop("weights", None)
    if isinstance(model.get("fallback"), dict):
        model["fallback"] = _model_text(model["fallback"])
    return {**model, "members": f"<{len(members)} members, {weights} weights>"}


def _policy_text(spec: dict[str, Any]) -> list[str]:
    shown = dict(spec)
    if "learned" in shown:
        shown["learned"] = _model_text(shown["learned"])
    if "rollout" in shown:
        shown["rollout"] = {**shown["rollout"], "salt": "<set at publish>"}
    return (
        json.dumps(shown, indent=2, sort_keys=True, ensure_ascii=False).splitlines()
        if spec
        else ["(no routing: the app's own model)"]
    )


def _proposed_spec(rec: Recommendation, prefs: PolicySettings) -> dict[str, Any]:
    if rec.strategy == Strategy.NONE:
        return {}
    return spec_build(
        endpoint=rec.endpoint,
        baseline={"provider": rec.baseline_provider, "model": rec.baseline_model},
        strategy=rec.strategy,
        target=rec.target,
        rollout_percent=prefs.canary_percent,
        salt="",
        checks=tuple(rec.proposal.get("checks") or ()),
        learned=rec.proposal.get("learned"),
        min_quality=rec.quality_bar,
        max_error_rate=prefs.max_error_rate,
        window=prefs.guard_window,
    )


def _options_chart(rec: Recommendation) -> Chart | None:
    """Every option evaluated, as the endpoint's dashboard page draws its frontier."""
    found = selectors.frontier_of(rec)
    if not rec.options:
        return None
    return Chart(
        "options",
        "Cost per call against quality kept",
        pareto(found.points, quality_bar=found.quality_bar),
        note="hover a point for its option; bars: 99 % interval of quality kept",
        height=380,
    )


def _recommendation_page(
    request: HttpRequest,
    project: Project,
    rec: Recommendation,
    *,
    approve_form: forms.ApproveForm | None = None,
    reject_form: forms.RejectForm | None = None,
) -> HttpResponse:
    """One recommendation: the diff, its options and the approve and reject forms (a refused form
    is shown again under its field, 400)."""
    options: list[dict[str, Any]] = rec.options
    approve_form = approve_form or _approve_form(rec, None)
    reject_form = reject_form or forms.RejectForm()
    prefs = selectors.policy_settings(project=project)
    current = selectors.current_version(project_id=project.pk, endpoint=rec.endpoint)
    before = _policy_text(current.spec if current else {})
    after = _policy_text(_proposed_spec(rec, prefs))
    diff = list(difflib.unified_diff(before, after, "in force", "proposed", lineterm="", n=3))
    context = {
        "project": project,
        "rec": rec,
        "current": current,
        "diff": diff,
        "options": sorted(options, key=lambda o: (-o["savings_per_call_nano"], o["key"])),
        "chart": _options_chart(rec),
        "approve_form": approve_form,
        "reject_form": reject_form,
        "prefs": prefs,
    }
    refused = approve_form.errors or reject_form.errors
    return render(request, "policies/recommendation.html", context, status=400 if refused else 200)


def _approve_form(rec: Recommendation, data: Any) -> forms.ApproveForm:
    return forms.ApproveForm(
        data,
        options=rec.options,
        proposal_key=str(rec.proposal.get("key", "")),
        initial={"checks": rec.proposal.get("checks") or []},
    )


def _recommendation(
    request: HttpRequest, project_id: int, recommendation_id: int
) -> tuple[Project, Recommendation]:
    project = project_get_for_user(user=request.user, project_id=project_id)
    return project, selectors.recommendation_get(project=project, recommendation_id=recommendation_id)


recommendation_action = page_action("policies:recommendation", "project_id", "recommendation_id")


@login_required
@require_http_methods(["GET"])
@page_errors
def recommendation(request: HttpRequest, project_id: int, recommendation_id: int) -> HttpResponse:
    project, rec = _recommendation(request, project_id, recommendation_id)
    return _recommendation_page(request, project, rec)


@login_required
@recommendation_action
def recommendation_approve(request: HttpRequest, project_id: int, recommendation_id: int) -> HttpResponse:
    """Publish the recommendation (with the person's edits) as the endpoint's next policy version."""
    project, rec = _recommendation(request, project_id, recommendation_id)
    form = _approve_form(rec, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        edits = approve.ApprovalEdits(
            option=data["option"] or None,
            rollout_percent=data["rollout_percent"],
            sticky_on=data["sticky_on"] or None,
            checks=tuple(data["checks"]) if rec.strategy == "cascade" or data["checks"] else None,
            max_error_rate=data["max_error_rate"],
        )
        try:
            version = approve.recommendation_approve(
                recommendation=rec, actor=request.user, edits=edits, note=data["note"]
            )
        except ApplicationError as exc:
            form_refusal(form, exc, fields=APPROVE_FIELDS)
        else:
            messages.success(
                request,
                f"Published {rec.endpoint} v{version.version} at {version.rollout_percent:g}% of "
                "traffic. SDKs pick it up within about 30 seconds.",
            )
            return redirect("policies:endpoint", project_id=project.pk, endpoint=rec.endpoint)
    return _recommendation_page(request, project, rec, approve_form=form)


@login_required
@recommendation_action
def recommendation_reject(request: HttpRequest, project_id: int, recommendation_id: int) -> HttpResponse:
    project, rec = _recommendation(request, project_id, recommendation_id)
    form = forms.RejectForm(request.POST)
    if form.is_valid():
        try:
            approve.recommendation_reject(
                recommendation=rec, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as exc:
            form_refusal(form, exc)
        else:
            messages.success(request, f"Recommendation #{rec.pk} rejected.")
            return redirect("policies:inbox", project_id=project.pk)
    return _recommendation_page(request, project, rec, reject_form=form)


def _endpoint_page(
    request: HttpRequest,
    project: Project,
    endpoint: str,
    versions: list[PolicyVersion],
    *,
    bar_form: forms.QualityBarForm | None = None,
    rollout_form: forms.RolloutForm | None = None,
) -> HttpResponse:
    """The endpoint's policy history; a refused form is shown again under its field (400)."""
    bar = selectors.quality_bar(project=project, endpoint=endpoint)
    current = versions[0] if versions else None
    bar_form = bar_form or forms.QualityBarForm(initial={"bar_percent": forms.percent_value(bar)})
    rollout_form = rollout_form or forms.RolloutForm(
        initial={"percent": current.rollout_percent if current else None}
    )
    latest = next(
        (r for r in selectors.recommendations_latest(project=project) if r.endpoint == endpoint), None
    )
    context = {
        "project": project,
        "endpoint": endpoint,
        "versions": versions,
        "current": current,
        "latest": latest,
        "bar": bar,
        "bar_form": bar_form,
        "rollout_form": rollout_form,
        "checks": selectors.guard_checks_recent(version=current) if current else [],
        "audit": list(selectors.audit_for(project=project, endpoint=endpoint, limit=50)),
        "savings": realised_savings_for_endpoint(
            project_id=project.pk, organization_id=project.organization_id, endpoint=endpoint, since=_since()
        ),
        "days": SAVINGS_DAYS,
    }
    refused = bar_form.errors or rollout_form.errors
    return render(request, "policies/endpoint.html", context, status=400 if refused else 200)


def _routed(request: HttpRequest, project_id: int, endpoint: str) -> tuple[Project, list[PolicyVersion]]:
    """The caller's project and the endpoint's versions (not found for another tenant's project or an
    endpoint with no routing)."""
    project = project_get_for_user(user=request.user, project_id=project_id)
    return project, selectors.endpoint_routing(project=project, endpoint=endpoint)


def _back(project: Project, endpoint: str) -> HttpResponse:
    return redirect("policies:endpoint", project_id=project.pk, endpoint=endpoint)


endpoint_action = page_action("policies:endpoint", "project_id", "endpoint")


@login_required
@require_http_methods(["GET"])
@page_errors
def endpoint(request: HttpRequest, project_id: int, endpoint: str) -> HttpResponse:
    project, versions = _routed(request, project_id, endpoint)
    return _endpoint_page(request, project, endpoint, versions)


@login_required
@endpoint_action
def endpoint_rollback(request: HttpRequest, project_id: int, endpoint: str) -> HttpResponse:
    project, _ = _routed(request, project_id, endpoint)
    form = forms.RollbackForm(request.POST)
    if not form.is_valid():
        raise ApplicationError("Choose a version to roll back to")
    v = approve.policy_rollback(
        project=project, endpoint=endpoint, to_version=form.cleaned_data["version"],
        actor=request.user, note=form.cleaned_data["note"],
    )  # fmt: skip
    messages.success(request, f"Rolled back: v{v.version} is now in force.")
    return _back(project, endpoint)


@login_required
@endpoint_action
def endpoint_stop(request: HttpRequest, project_id: int, endpoint: str) -> HttpResponse:
    project, _ = _routed(request, project_id, endpoint)
    v = approve.policy_stop(project=project, endpoint=endpoint, actor=request.user)
    messages.success(request, f"Routing stopped (v{v.version}).")
    return _back(project, endpoint)


@login_required
@endpoint_action
def endpoint_rollout(request: HttpRequest, project_id: int, endpoint: str) -> HttpResponse:
    project, versions = _routed(request, project_id, endpoint)
    form = forms.RolloutForm(request.POST)
    if form.is_valid():
        try:
            v = approve.rollout_set(
                project=project, endpoint=endpoint, percent=form.cleaned_data["percent"], actor=request.user
            )
        except ApplicationError as exc:
            form_refusal(form, exc, fields={"rollout": "percent"})
        else:
            messages.success(request, f"v{v.version} routes {v.rollout_percent:g}% of traffic.")
            return _back(project, endpoint)
    return _endpoint_page(request, project, endpoint, versions, rollout_form=form)


@login_required
@endpoint_action
def endpoint_quality_bar(request: HttpRequest, project_id: int, endpoint: str) -> HttpResponse:
    """Set the endpoint's quality bar and make its recommendation again against it."""
    project, versions = _routed(request, project_id, endpoint)
    form = forms.QualityBarForm(request.POST)
    if form.is_valid():
        try:
            recommend.quality_bar_set(
                project=project, endpoint=endpoint, bar=form.cleaned_data["bar_percent"] / 100,
                actor=request.user,
            )  # fmt: skip
        except ApplicationError as exc:
            form_refusal(form, exc, fields={"bar": "bar_percent"})
        else:
            recommend.recommendation_refresh_endpoint(project=project, endpoint=endpoint)
            messages.success(request, "Quality bar saved; the recommendation was made again.")
            return _back(project, endpoint)
    return _endpoint_page(request, project, endpoint, versions, bar_form=form)


@login_required
@page_errors
def config_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_user(user=request.user, project_id=project_id)
    current = selectors.config_current(project_id=project.pk, fresh=True)
    pretty = json.dumps(json.loads(current.body), indent=2, sort_keys=True) if current else ""
    context = {
        "project": project,
        "current": current,
        "pretty": pretty,
        "history": list(selectors.published_configs(project=project)),
        "public_keys": signing.public_keys(),
        "public_keys_env": signing.public_keys_env(),
        "active_key": signing.key_ring().active.key_id,
        "embedded_key": signing.key_ring().embedded,
        "config_url": request.build_absolute_uri(reverse("policy-config")),
    }
    return render(request, "policies/config.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def settings_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_user(user=request.user, project_id=project_id)
    prefs = selectors.policy_settings(project=project)
    form = forms.PolicySettingsForm(request.POST or None, instance=prefs)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in project_settings.FIELDS}
        try:
            project_settings.policy_settings_update(project=project, actor=request.user, **values)
        except ApplicationError as exc:
            form_refusal(form, exc)
        else:
            messages.success(request, "Routing settings saved.")
            return redirect("policies:settings", project_id=project.pk)
    context = {
        "project": project,
        "form": form,
        "prefs": prefs,
        "notifications": list(selectors.notifications_recent(project=project)),
    }
    return render(request, "policies/settings.html", context, status=400 if form.errors else 200)


def _organization(request: HttpRequest) -> Organization:
    tenant: Any = request.tenant  # type: ignore[attr-defined]
    if tenant.organization is None:
        raise NotFound("You are not a member of any organisation")
    return tenant.organization


def _kill_switch_page(
    request: HttpRequest, organization: Organization, form: forms.KillSwitchForm | None = None
) -> HttpResponse:
    context = {
        "organization": organization,
        "form": form or forms.KillSwitchForm(),
        "kills": list(selectors.kill_switches(organization_id=organization.pk)),
    }
    return render(request, "policies/kill_switch.html", context, status=400 if form and form.errors else 200)


@login_required
@require_http_methods(["GET"])
@page_errors
def kill_switch(request: HttpRequest) -> HttpResponse:
    """The organisation's kill switch: models and providers no project routes to."""
    return _kill_switch_page(request, _organization(request))


@login_required
@page_action("policies:kill-switch")
def kill_switch_add(request: HttpRequest) -> HttpResponse:
    organization = _organization(request)
    form = forms.KillSwitchForm(request.POST)
    if form.is_valid():
        try:
            kill = killswitch.kill_switch_add(
                organization=organization, actor=request.user, **form.cleaned_data
            )
        except ApplicationError as exc:
            form_refusal(form, exc)
        else:
            messages.success(
                request, f"{kill.value} is on the kill switch; every project's config was republished."
            )
            return redirect("policies:kill-switch")
    return _kill_switch_page(request, organization, form)


@login_required
@page_action("policies:kill-switch")
def kill_switch_lift(request: HttpRequest, kill_id: int) -> HttpResponse:
    kill = selectors.kill_switch_get(organization=_organization(request), kill_id=kill_id)
    killswitch.kill_switch_lift(kill=kill, actor=request.user)
    messages.success(request, f"{kill.value} may be routed to again; every project's config was republished.")
    return redirect("policies:kill-switch")
