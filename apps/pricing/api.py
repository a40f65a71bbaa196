"""Pricing APIs: list/search prices, and estimate the cost of a usage payload.

Both answer for the caller's organisation (the catalogue plus its own overrides): a project key
speaks for its project's organisation, a logged-in person for the organisation they are in.
The estimate runs the same cost function the ingest path and the replay engine use
(apps.pricing.selectors.cost_estimate); the views here only validate and shape.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import KeyPrincipal
from apps.core.errors import NotFound
from apps.pricing.book import TIERS
from apps.pricing.cost import Usage, nano_to_usd
from apps.pricing.display import price_out
from apps.pricing.selectors import CostEstimate, cost_estimate, models_visible, price_book, price_rows
from apps.pricing.usage import FORMATS, usage_from_payload

MAX_ROWS = 500


def caller_organization_id(request: Request) -> int:
    user: Any = request.user
    if isinstance(user, KeyPrincipal):
        return user.organization_id
    tenant = getattr(request._request, "tenant", None)
    organization = getattr(tenant, "organization", None)
    if organization is None:
        raise NotFound("You are not a member of any organisation")
    return int(organization.pk)


class PriceListApi(APIView):
    """Prices the caller's organisation sees. `model` is resolved like a call's model (aliases,
    `provider/model`, patterns); when it matches no model it searches names."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="prices_list",
        parameters=[
            OpenApiParameter("model", str, description="model name, alias or search text"),
            OpenApiParameter("provider", str, description="provider slug"),
            OpenApiParameter("history", bool, description="include rows no longer in force"),
        ],
        responses=inline_serializer(
            "PriceList",
            {
                "count": serializers.IntegerField(),
                "resolved": serializers.DictField(allow_null=True),
                "prices": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        organization_id = caller_organization_id(request)
        model = request.query_params.get("model", "").strip()[:200]
        provider = request.query_params.get("provider", "").strip()[:64]
        history = request.query_params.get("history", "").lower() in ("1", "true", "yes")
        resolved = price_book(organization_id=organization_id).resolve(provider, model) if model else None
        if resolved is not None:
            model_ids: list[int] = [resolved.model_id]
        else:
            model_ids = list(
                models_visible(organization_id=organization_id, search=model, provider=provider).values_list(
                    "pk", flat=True
                )[:MAX_ROWS]
            )
        rows = price_rows(organization_id=organization_id, model_ids=model_ids, current_only=not history)
        return Response(
            {
                "count": len(rows[:MAX_ROWS]),
                "resolved": None
                if resolved is None
                else {"provider": resolved.provider, "model": resolved.name, "model_id": resolved.model_id},
                "prices": [price_out(row) for row in rows[:MAX_ROWS]],
            }
        )


class EstimateIn(serializers.Serializer):
    provider = serializers.CharField(max_length=64, allow_blank=True, default="")
    model = serializers.CharField(max_length=200)
    ts = serializers.DateTimeField(required=False, help_text="when the call happened (default: now)")
    tier = serializers.ChoiceField(
        choices=list(TIERS),
        required=False,
        help_text="the service tier it was served at (default: the usage's service_tier, else standard)",
    )
    usage_format = serializers.ChoiceField(choices=list(FORMATS), default="switchyard")
    usage = serializers.DictField(help_text="the provider's usage object, or the event's token fields")


class PriceEstimateApi(APIView):
    """The exact cost of one call's usage, with its breakdown, as Switchyard stores it."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="prices_estimate",
        request=EstimateIn,
        responses=inline_serializer(
            "PriceEstimate",
            {
                "price_id": serializers.IntegerField(),
                "total_nano_usd": serializers.IntegerField(),
                "total_usd": serializers.CharField(),
                "breakdown_nano_usd": serializers.DictField(child=serializers.IntegerField()),
            },
        ),
    )
    def post(self, request: Request) -> Response:
        organization_id = caller_organization_id(request)
        data = EstimateIn(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        usage = usage_from_payload(body["usage_format"], body["usage"])
        estimate = cost_estimate(
            organization_id=organization_id,
            provider=body["provider"],
            model=body["model"],
            ts=body.get("ts") or timezone.now(),
            tier=body.get("tier"),
            usage=usage,
        )
        return Response(_estimate_out(body["provider"], body["model"], usage, estimate))


def _estimate_out(provider: str, model: str, usage: Usage, estimate: CostEstimate) -> dict[str, Any]:
    resolved, result = estimate.resolved, estimate.result
    return {
        "provider": provider,
        "model": model,
        "resolved": {
            "provider": resolved.provider,
            "model": resolved.name,
            "model_id": resolved.model_id,
            "custom": resolved.custom,
        },
        "ts": estimate.ts.isoformat(),
        "tier": estimate.tier,
        "priced_tier": result.tier,
        "currency": "USD",
        "price_id": result.price_id,
        "rule": {
            "input_includes_cached": estimate.input_includes_cached,
            "output_includes_reasoning": estimate.output_includes_reasoning,
        },
        "usage": {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cached_input_tokens": usage.cached_input_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
            "cache_write_1h_tokens": usage.cache_write_1h_tokens,
            "reasoning_tokens": usage.reasoning_tokens,
            "images": usage.images,
        },
        "discount_percent": format(estimate.discount_percent.normalize(), "f"),
        "total_nano_usd": result.nano_usd,
        "total_usd": format(nano_to_usd(result.nano_usd), "f"),
        "breakdown_nano_usd": result.breakdown,
    }
