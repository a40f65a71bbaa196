from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import F, QuerySet
from django.http import HttpRequest

from apps.billing.models import (
    BillingAccount,
    Plan,
    ReplaySpend,
    ReportStatus,
    StripeEvent,
    Subscription,
    UsageNotice,
    UsageReport,
)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "key",
        "included_events",
        "event_limit",
        "retention_days",
        "seats",
        "self_serve",
        "stripe_price_id",
        "stripe_metered_price_id",
        "is_active",
    )
    list_editable = ("is_active",)


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    extra = 0
    can_delete = False
    fields = ("stripe_id", "plan", "status", "current_period_end", "grace_until", "downgraded_at")
    readonly_fields = fields


@admin.register(BillingAccount)
class BillingAccountAdmin(admin.ModelAdmin):
    list_display = ("organization", "stripe_customer_id", "trial_used", "created_at")
    search_fields = ("organization__name", "stripe_customer_id")
    inlines = [SubscriptionInline]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = (
        "stripe_id",
        "account",
        "plan",
        "status",
        "current_period_end",
        "grace_until",
        "synced_at",
    )
    list_filter = ("status", "plan")
    search_fields = ("stripe_id", "account__organization__name")
    readonly_fields = ("synced_at",)


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ("stripe_id", "type", "status", "organization", "attempts", "processed_at")
    list_filter = ("status", "type")
    search_fields = ("stripe_id",)
    readonly_fields = [f.name for f in StripeEvent._meta.fields]


@admin.action(description="Send again (refused reports go back to pending)")
def retry_reports(modeladmin: Any, request: HttpRequest, queryset: QuerySet[UsageReport]) -> None:
    queryset.filter(status=ReportStatus.FAILED).update(
        status=ReportStatus.PENDING, last_error="", resends=F("resends") + 1
    )


@admin.register(UsageReport)
class UsageReportAdmin(admin.ModelAdmin):
    list_display = (
        "identifier",
        "account",
        "hour",
        "quantity",
        "is_correction",
        "status",
        "attempts",
        "sent_at",
    )
    list_filter = ("status", "is_correction", "meter_event_name")
    search_fields = ("identifier",)
    readonly_fields = [f.name for f in UsageReport._meta.fields]
    actions = [retry_reports]


admin.site.register(UsageNotice)
admin.site.register(ReplaySpend)
