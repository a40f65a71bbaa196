"""Spend control API: budgets CRUD (with their live state), alert history, customer revenue.

One view per operation, input validated at the edge, output by small serializers; logged-in
people (session), like the other project APIs. Errors are `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import IsPerson
from apps.accounts.selectors import project_get_for_user
from apps.core.errors import ApplicationError
from apps.spend.models import Action, Alert, Budget, Period, ScopeKind
from apps.spend.selectors.alerts import alerts_page
from apps.spend.selectors.budgets import Progress, budget_get, budget_progress
from apps.spend.services import budgets as services


class BudgetIn(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    scope_kind = serializers.ChoiceField(choices=ScopeKind.values, default=ScopeKind.PROJECT)
    scope_value = serializers.CharField(
        max_length=256, required=False, allow_blank=True, default="",
        help_text="The endpoint, model, user id or customer; '*' for each one on its own; empty for the project.",
    )  # fmt: skip
    period = serializers.ChoiceField(choices=Period.values, default=Period.MONTH)
    limit_usd = serializers.DecimalField(max_digits=14, decimal_places=2)
    thresholds = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=1000), default=[50, 80, 100]
    )
    action = serializers.ChoiceField(choices=Action.values, default=Action.NONE)
    downgrade_provider = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    downgrade_model = serializers.CharField(max_length=256, required=False, allow_blank=True, default="")
    enabled = serializers.BooleanField(default=True)


class ScopeStateOut(serializers.Serializer):
    key = serializers.CharField(help_text="The scope's value ('' for the project; each user's id for '*').")
    spent_usd = serializers.FloatField()
    percent = serializers.FloatField()
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    runs_out_at = serializers.DateTimeField(
        allow_null=True, help_text="At this period's pace; null: not before it resets."
    )
    exhausted = serializers.BooleanField()
    action_in_force = serializers.BooleanField(help_text="The hard action is in GET /v1/config.")


class BudgetOut(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    scope_kind = serializers.CharField()
    scope_value = serializers.CharField()
    period = serializers.CharField()
    limit_usd = serializers.DecimalField(max_digits=14, decimal_places=2)
    thresholds = serializers.ListField(child=serializers.IntegerField())
    action = serializers.CharField()
    downgrade_provider = serializers.CharField()
    downgrade_model = serializers.CharField()
    enabled = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    state = ScopeStateOut(many=True)


class AlertOut(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    status = serializers.CharField()
    title = serializers.CharField()
    scope_kind = serializers.CharField()
    scope_value = serializers.CharField()
    metric = serializers.CharField()
    threshold = serializers.IntegerField()
    budget_id = serializers.IntegerField(allow_null=True)
    monitor_id = serializers.IntegerField(allow_null=True)
    opened_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution = serializers.CharField()
    detail = serializers.JSONField()


class RevenueIn(serializers.Serializer):
    customer = serializers.CharField(max_length=256)
    month = serializers.DateField(help_text="Any day of the month, e.g. 2026-03-01.")
    amount_usd = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"))


def _state(rows: list[Progress]) -> list[dict[str, Any]]:
    return [
        {
            "key": p.key,
            "spent_usd": round(p.spent_usd, 6),
            "percent": round(p.percent, 2),
            "period_start": p.period_start,
            "period_end": p.period_end,
            "runs_out_at": p.runs_out_at,
            "exhausted": p.exhausted,
            "action_in_force": p.action_in_force,
        }
        for p in rows
    ]


def _out(budgets: list[Budget], project: Any) -> list[dict[str, Any]]:
    progress = budget_progress(project=project, now=timezone.now(), budgets=budgets)
    by_budget: dict[int, list[Progress]] = {}
    for p in progress:
        by_budget.setdefault(p.budget.pk, []).append(p)
    out: list[dict[str, Any]] = []
    for b in budgets:
        b.state = _state(by_budget.get(b.pk, []))  # type: ignore[attr-defined]
        out.append(BudgetOut(b).data)
    return out


def _input(data: dict[str, Any]) -> services.BudgetInput:
    return services.BudgetInput(**data)


class BudgetListCreateApi(APIView):
    permission_classes = [IsPerson]

    @extend_schema(responses=BudgetOut(many=True), operation_id="budgets_list")
    def get(self, request: Request, project_id: int) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        return Response(_out(list(Budget.objects.filter(project=project).order_by("pk")), project))

    @extend_schema(request=BudgetIn, responses={201: BudgetOut}, operation_id="budgets_create")
    def post(self, request: Request, project_id: int) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        data = BudgetIn(data=request.data)
        data.is_valid(raise_exception=True)
        budget = services.budget_create(project=project, data=_input(data.validated_data), actor=request.user)
        return Response(_out([budget], project)[0], status=status.HTTP_201_CREATED)


class BudgetDetailApi(APIView):
    permission_classes = [IsPerson]

    @extend_schema(responses=BudgetOut, operation_id="budgets_retrieve")
    def get(self, request: Request, project_id: int, budget_id: int) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        return Response(_out([budget_get(project=project, budget_id=budget_id)], project)[0])

    @extend_schema(request=BudgetIn, responses=BudgetOut, operation_id="budgets_update")
    def patch(self, request: Request, project_id: int, budget_id: int) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        budget = budget_get(project=project, budget_id=budget_id)
        current = {
            "name": budget.name, "scope_kind": budget.scope_kind, "scope_value": budget.scope_value,
            "period": budget.period, "limit_usd": budget.limit_usd, "thresholds": budget.thresholds,
            "action": budget.action, "downgrade_provider": budget.downgrade_provider,
            "downgrade_model": budget.downgrade_model, "enabled": budget.enabled,
        }  # fmt: skip
        data = BudgetIn(data={**current, **dict(request.data)})
        data.is_valid(raise_exception=True)
        budget = services.budget_update(budget=budget, data=_input(data.validated_data), actor=request.user)
        return Response(_out([budget], project)[0])

    @extend_schema(request=None, responses={204: None}, operation_id="budgets_destroy")
    def delete(self, request: Request, project_id: int, budget_id: int) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        services.budget_delete(budget=budget_get(project=project, budget_id=budget_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AlertListApi(APIView):
    permission_classes = [IsPerson]

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=["open", "resolved"], required=False),
            OpenApiParameter("kind", str, enum=["budget", "anomaly"], required=False),
            OpenApiParameter(
                "before", int, required=False, description="Alerts older than this id (next page)."
            ),
            OpenApiParameter("limit", int, required=False, description="1–500, default 50."),
        ],
        responses=inline_serializer(
            "AlertPage",
            {"alerts": AlertOut(many=True), "next_before": serializers.IntegerField(allow_null=True)},
        ),
        operation_id="alerts_list",
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        params = request.query_params
        try:
            before = int(params["before"]) if params.get("before") else None
            limit = int(params.get("limit") or 50)
        except ValueError as exc:
            raise ApplicationError("before and limit are integers") from exc
        page = alerts_page(
            project=project,
            status=params.get("status", ""),
            kind=params.get("kind", ""),
            before=before,
            limit=limit,
        )
        alerts: list[Alert] = page.alerts
        return Response({"alerts": AlertOut(alerts, many=True).data, "next_before": page.next_before})


class RevenueApi(APIView):
    """Revenue per customer and month (entered by hand, or synced by a script from Stripe)."""

    permission_classes = [IsPerson]

    @extend_schema(
        request=RevenueIn,
        responses=inline_serializer(
            "CustomerRevenue",
            {
                "customer": serializers.CharField(),
                "month": serializers.DateField(),
                "amount_usd": serializers.DecimalField(max_digits=14, decimal_places=2),
            },
        ),
        operation_id="customer_revenue_set",
    )
    def put(self, request: Request, project_id: int) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        data = RevenueIn(data=request.data)
        data.is_valid(raise_exception=True)
        month: date = data.validated_data["month"]
        row = services.revenue_set(
            project=project,
            customer=data.validated_data["customer"],
            month=month,
            amount_usd=data.validated_data["amount_usd"],
            actor=request.user,
        )
        return Response(
            {"customer": row.customer, "month": row.month.isoformat(), "amount_usd": str(row.amount_usd)}
        )
