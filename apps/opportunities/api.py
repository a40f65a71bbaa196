"""GET /v1/opportunities: a project's findings ranked by dollars a month, and their total without
double counting (with each other and with routing's open recommendations).

Read-only: an SDK key (`sy_sdk_…`) reads its own project; a logged-in person names the project
(`project`, default the current one). Ingest keys are refused. Errors are
`{"error": {"code", "message"}}`.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import IsPerson, IsSdkKey
from apps.accounts.models import Project
from apps.accounts.selectors import KeyPrincipal, project_get_for_user
from apps.core.errors import ApplicationError, NotFound
from apps.opportunities import selectors
from apps.opportunities.models import Kind, Opportunity


class SdkKeyOrPerson(permissions.BasePermission):
    message = "This API needs an SDK key (sy_sdk_…) or a logged-in person"

    def has_permission(self, request: Request, view: Any) -> bool:
        return IsSdkKey().has_permission(request, view) or IsPerson().has_permission(request, view)


def _usd(nano: int | None) -> float | None:
    return None if nano is None else round(nano / 1e9, 4)


class ChangeOut(serializers.Serializer):
    title = serializers.CharField()
    steps = serializers.ListField(child=serializers.CharField())
    snippet = serializers.CharField(allow_blank=True)


class ExampleOut(serializers.Serializer):
    event_id = serializers.CharField()
    url = serializers.CharField(help_text="The call in the call explorer.")


class OpportunityOut(serializers.Serializer):
    id = serializers.IntegerField()
    endpoint = serializers.CharField()
    kind = serializers.ChoiceField(choices=Kind.values)
    subject = serializers.CharField(help_text="provider/model for per-model kinds, else empty.")
    status = serializers.CharField()
    title = serializers.CharField()
    monthly_usd = serializers.FloatField(help_text="This change alone, a month at the window's volume.")
    monthly_low_usd = serializers.FloatField()
    monthly_high_usd = serializers.FloatField(help_text="With monthly_low_usd: a 95 % interval.")
    acts_on = serializers.CharField(help_text="all, input or output: the part of the spend it changes.")
    evidence = serializers.DictField()
    change = ChangeOut()
    examples = ExampleOut(many=True)
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    done_at = serializers.DateTimeField(allow_null=True)
    realised_usd = serializers.FloatField(allow_null=True, help_text="Measured a month since done.")
    realised_note = serializers.CharField(allow_blank=True)
    url = serializers.CharField()


def _out(o: Opportunity) -> dict[str, Any]:
    return {
        "id": o.pk,
        "endpoint": o.endpoint,
        "kind": o.kind,
        "subject": o.subject,
        "status": o.status,
        "title": o.title,
        "monthly_usd": _usd(o.monthly_nano),
        "monthly_low_usd": _usd(o.monthly_low_nano),
        "monthly_high_usd": _usd(o.monthly_high_nano),
        "acts_on": o.acts_on,
        "evidence": o.evidence,
        "change": {"title": "", "steps": [], "snippet": ""} | o.change,
        "examples": [
            {"event_id": e, "url": reverse("dashboard:call", args=[o.project_id, e])} for e in o.examples
        ],
        "window_start": o.window_start,
        "window_end": o.window_end,
        "first_seen_at": o.first_seen_at,
        "last_seen_at": o.last_seen_at,
        "done_at": o.done_at,
        "realised_usd": _usd(o.realised_nano),
        "realised_note": o.realised_note,
        "url": reverse("opportunities:detail", args=[o.project_id, o.pk]),
    }


def _project(request: Request) -> Project:
    user: Any = request.user
    if isinstance(user, KeyPrincipal):
        return Project.objects.get(pk=user.project_id)
    raw = request.query_params.get("project", "")
    if raw:
        try:
            return project_get_for_user(user=user, project_id=int(raw))
        except ValueError as exc:
            raise ApplicationError("project is a project id (an integer)", field="project") from exc
    tenant = getattr(request._request, "tenant", None)
    project = getattr(tenant, "project", None)
    if project is None:
        raise NotFound("Name a project: ?project=<id>")
    return project_get_for_user(user=user, project_id=project.pk)


class OpportunityListApi(APIView):
    permission_classes = [SdkKeyOrPerson]

    @extend_schema(
        operation_id="opportunities_list",
        parameters=[
            OpenApiParameter("project", int, description="A logged-in person's project (default: the current one); an SDK key reads its own."),
            OpenApiParameter("status", str, enum=list(selectors.STATUSES), description="Default open."),
            OpenApiParameter("endpoint", str, description="Only this endpoint."),
            OpenApiParameter("kind", str, enum=Kind.values),
        ],
        responses=inline_serializer(
            "OpportunityList",
            {
                "project_id": serializers.IntegerField(),
                "last_run_at": serializers.DateTimeField(allow_null=True),
                "totals": inline_serializer(
                    "OpportunityTotals",
                    {
                        "monthly_usd": serializers.FloatField(help_text="Open findings together, overlap removed."),
                        "monthly_low_usd": serializers.FloatField(),
                        "monthly_high_usd": serializers.FloatField(),
                        "findings_own_usd": serializers.FloatField(help_text="Their own figures, simply added."),
                        "routing_usd": serializers.FloatField(help_text="Routing's potential, which these exclude."),
                    },
                ),
                "opportunities": OpportunityOut(many=True),
            },
        ),
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        project = _project(request)
        params = request.query_params
        status = params.get("status", "open")
        if status not in selectors.STATUSES:
            raise ApplicationError(f"status must be one of {', '.join(selectors.STATUSES)}", field="status")
        kind = params.get("kind", "")
        if kind and kind not in Kind.values:
            raise ApplicationError(f"kind must be one of {', '.join(Kind.values)}", field="kind")
        rows = selectors.opportunities_list(
            project_id=project.pk, status=status, endpoint=params.get("endpoint", "")[:128], kind=kind
        )[:500]
        routing = selectors.routing_potential(project_id=project.pk)
        totals = selectors.opportunity_totals(project_id=project.pk, routing=routing)
        run = selectors.last_run(project_id=project.pk)
        return Response(
            {
                "project_id": project.pk,
                "last_run_at": run.finished_at if run else None,
                "totals": {
                    "monthly_usd": _usd(totals.net_nano),
                    "monthly_low_usd": _usd(totals.net_low_nano),
                    "monthly_high_usd": _usd(totals.net_high_nano),
                    "findings_own_usd": _usd(totals.own_nano),
                    "routing_usd": _usd(sum(routing.values())),
                },
                "opportunities": [_out(o) for o in rows],
            }
        )
