"""The price catalogue: providers, models (aliases, match patterns), prices with history.

Rows with no organisation are the catalogue everyone shares; rows with one are that
organisation's overrides (its own providers, custom models, negotiated prices and discounts).
Prices are Decimal USD per token (fees: USD per request / per image); a price row is in force
from `effective_from` until the next row for the same model, tier and scope.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.accounts.models import Organization, Project
from apps.core.models import TimeStampedModel


class Provider(TimeStampedModel):
    """Who serves models, and how they count tokens (the provider's rule)."""

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="pricing_providers"
    )
    slug = models.CharField(max_length=64)
    name = models.CharField(max_length=120)
    aliases = models.JSONField(default=list, blank=True)
    input_includes_cached = models.BooleanField(
        default=True, help_text="Reported input tokens include cached tokens (OpenAI: yes; Anthropic: no)"
    )
    output_includes_reasoning = models.BooleanField(
        default=True, help_text="Reported output tokens include reasoning tokens (OpenAI: yes; Gemini: no)"
    )
    notes = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["slug"], condition=Q(organization__isnull=True), name="uniq_catalogue_provider"
            ),
            models.UniqueConstraint(
                fields=["organization", "slug"],
                condition=Q(organization__isnull=False),
                name="uniq_org_provider",
            ),
        ]

    def __str__(self) -> str:
        return self.slug


class LlmModel(TimeStampedModel):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="models")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="pricing_models"
    )
    name = models.CharField(max_length=200)
    display_name = models.CharField(max_length=200, blank=True)
    aliases = models.JSONField(default=list, blank=True)
    match_pattern = models.CharField(
        max_length=300, blank=True, help_text="A regular expression the whole reported model name must match"
    )
    # Lifecycle (apps.opportunities reads it): a deprecated model is still served until it retires;
    # a successor is the provider's replacement at the same or a better quality tier.
    deprecated_on = models.DateField(null=True, blank=True, help_text="When the provider deprecated it")
    retires_on = models.DateField(null=True, blank=True, help_text="When the provider stops serving it")
    successor = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="predecessors",
        help_text="The provider's replacement, at the same or a better quality tier",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "name"],
                condition=Q(organization__isnull=True),
                name="uniq_catalogue_model",
            ),
            models.UniqueConstraint(
                fields=["provider", "name", "organization"],
                condition=Q(organization__isnull=False),
                name="uniq_org_model",
            ),
        ]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return f"{self.provider.slug}/{self.name}"


class Tier(models.TextChoices):
    STANDARD = "standard", "Standard"
    BATCH = "batch", "Batch"
    FLEX = "flex", "Flex"
    PRIORITY = "priority", "Priority"


class Price(TimeStampedModel):
    model = models.ForeignKey(LlmModel, on_delete=models.CASCADE, related_name="prices")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="pricing_prices"
    )
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.STANDARD)
    effective_from = models.DateTimeField()
    currency = models.CharField(max_length=3, default="USD")
    input = models.DecimalField(max_digits=30, decimal_places=18)
    output = models.DecimalField(max_digits=30, decimal_places=18)
    cached_input = models.DecimalField(max_digits=30, decimal_places=18, null=True, blank=True)
    cache_write = models.DecimalField(max_digits=30, decimal_places=18, null=True, blank=True)
    cache_write_1h = models.DecimalField(max_digits=30, decimal_places=18, null=True, blank=True)
    reasoning = models.DecimalField(max_digits=30, decimal_places=18, null=True, blank=True)
    long_context_threshold = models.PositiveIntegerField(null=True, blank=True)
    input_long = models.DecimalField(max_digits=30, decimal_places=18, null=True, blank=True)
    output_long = models.DecimalField(max_digits=30, decimal_places=18, null=True, blank=True)
    cached_input_long = models.DecimalField(max_digits=30, decimal_places=18, null=True, blank=True)
    cache_write_long = models.DecimalField(max_digits=30, decimal_places=18, null=True, blank=True)
    cache_write_1h_long = models.DecimalField(max_digits=30, decimal_places=18, null=True, blank=True)
    reasoning_long = models.DecimalField(max_digits=30, decimal_places=18, null=True, blank=True)
    request_fee = models.DecimalField(max_digits=30, decimal_places=18, null=True, blank=True)
    image_fee = models.DecimalField(max_digits=30, decimal_places=18, null=True, blank=True)
    source = models.CharField(max_length=500, blank=True)
    source_date = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model", "tier", "effective_from"],
                condition=Q(organization__isnull=True),
                name="uniq_catalogue_price_start",
            ),
            models.UniqueConstraint(
                fields=["model", "tier", "effective_from", "organization"],
                condition=Q(organization__isnull=False),
                name="uniq_org_price_start",
            ),
            models.CheckConstraint(condition=Q(input__gte=0) & Q(output__gte=0), name="price_not_negative"),
        ]
        indexes = [models.Index(fields=["model", "tier", "effective_from"])]

    def __str__(self) -> str:
        return f"{self.model} {self.tier} from {self.effective_from:%Y-%m-%d}"


class ProviderDiscount(TimeStampedModel):
    """A negotiated discount on an organisation's catalogue prices for one provider."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="pricing_discounts")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="discounts")
    percent = models.DecimalField(max_digits=7, decimal_places=4)
    effective_from = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider", "effective_from"], name="uniq_discount_start"
            ),
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(percent__lte=100), name="discount_percent_range"
            ),
        ]


class RecomputeStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class RecomputeJob(TimeStampedModel):
    """Recomputing the stored cost of one project's calls after a price change. Resumable."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="recompute_jobs")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="recompute_jobs")
    reason = models.CharField(max_length=300)
    since = models.DateTimeField()
    pairs = models.JSONField(default=list, help_text="[provider, model] as stored on the calls")
    status = models.CharField(max_length=16, choices=RecomputeStatus.choices, default=RecomputeStatus.PENDING)
    total = models.BigIntegerField(default=0)
    processed = models.BigIntegerField(default=0)
    changed = models.BigIntegerField(default=0)
    cursor_ts = models.DateTimeField(null=True, blank=True)
    cursor_event_id = models.CharField(max_length=36, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["project", "status"])]

    @property
    def percent(self) -> int:
        if self.status == RecomputeStatus.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, int(self.processed * 100 / self.total))

    def __str__(self) -> str:
        return f"recompute {self.project_id} since {self.since:%Y-%m-%d} ({self.status})"


class RecomputeRequestStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a worker"
    PLANNED = "planned", "Planned"
    FAILED = "failed", "Failed"


class RecomputeRequest(TimeStampedModel):
    """A recompute asked for by a price change, kept until a worker has planned its jobs.

    Written in the same transaction as the change, so no change is left without its recompute:
    the worker is started when the change commits, and `pricing.plan_pending_recomputes` (beat)
    plans any request still waiting, e.g. one made by `manage.py import_prices` while the embedded
    server owns the store.
    """

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="recompute_requests"
    )
    since = models.DateTimeField()
    model_ids = models.JSONField(null=True, blank=True, help_text="None: every model")
    provider_slugs = models.JSONField(null=True, blank=True)
    reason = models.CharField(max_length=300)
    status = models.CharField(
        max_length=16, choices=RecomputeRequestStatus.choices, default=RecomputeRequestStatus.PENDING
    )
    jobs = models.PositiveIntegerField(default=0)
    planned_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"recompute request since {self.since:%Y-%m-%d} ({self.status})"
