"""Read-only admin views of replay jobs and provider connections (keys never shown)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.replay.models import ProviderConnection, ReplayJob


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReplayJob)
class ReplayJobAdmin(ReadOnly):
    list_display = (
        "pk",
        "project",
        "endpoint",
        "status",
        "evaluator",
        "simulated",
        "spent_nano",
        "created_at",
    )
    list_filter = ("status", "simulated", "evaluator")
    search_fields = ("endpoint",)


@admin.register(ProviderConnection)
class ProviderConnectionAdmin(ReadOnly):
    list_display = ("organization", "provider", "api", "base_url", "key_hint", "max_concurrency")
    exclude = ("key_ciphertext",)
