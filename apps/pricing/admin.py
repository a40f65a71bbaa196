"""Read-only admin views of the catalogue. Prices change through import_prices or the pricing
pages, whose services validate them, drop cached price books and recompute stored costs."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.pricing.models import LlmModel, Price, Provider, ProviderDiscount, RecomputeJob


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Provider)
class ProviderAdmin(ReadOnly):
    list_display = ("slug", "name", "organization", "input_includes_cached", "output_includes_reasoning")
    search_fields = ("slug", "name")


@admin.register(LlmModel)
class LlmModelAdmin(ReadOnly):
    list_display = ("name", "provider", "organization", "match_pattern")
    list_select_related = ("provider", "organization")
    search_fields = ("name",)


@admin.register(Price)
class PriceAdmin(ReadOnly):
    list_display = ("model", "tier", "effective_from", "organization", "input", "output", "source_date")
    list_select_related = ("model__provider", "organization")
    list_filter = ("tier",)
    search_fields = ("model__name",)


@admin.register(ProviderDiscount)
class ProviderDiscountAdmin(ReadOnly):
    list_display = ("organization", "provider", "percent", "effective_from")


@admin.register(RecomputeJob)
class RecomputeJobAdmin(ReadOnly):
    list_display = ("project", "status", "processed", "total", "changed", "created_at")
    list_select_related = ("project",)
