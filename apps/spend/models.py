"""Spend control: budgets, anomaly monitors, alert episodes, delivery channels and deliveries,
the customer key and the revenue a project enters per customer (DESIGN.md §9)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from apps.accounts.models import Project
from apps.core.models import TimeStampedModel


class ScopeKind(models.TextChoices):
    PROJECT = "project", "Project"
    ENDPOINT = "endpoint", "Endpoint"
    MODEL = "model", "Model"
    USER = "user", "User"
    CUSTOMER = "customer", "Customer"


EACH = "*"  # a budget or monitor on every user / customer / endpoint / model, each on its own


class Period(models.TextChoices):
    DAY = "day", "Day"
    WEEK = "week", "Week (from Monday)"
    MONTH = "month", "Month"


class Action(models.TextChoices):
    NONE = "none", "Alert only"
    DOWNGRADE = "downgrade", "Route to a cheaper model"
    BLOCK = "block", "Block calls (the SDK raises BudgetExceededError)"


class SpendSettings(TimeStampedModel):
    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="spend_settings")
    customer_key = models.CharField(
        max_length=80,
        default="customer_id",
        help_text="customer_id, metadata:<key> or tag:<prefix>. Applies to calls stored from now on.",
    )

    def __str__(self) -> str:
        return f"spend settings for {self.project}"


class Budget(TimeStampedModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="budgets")
    name = models.CharField(max_length=120)
    scope_kind = models.CharField(max_length=16, choices=ScopeKind.choices, default=ScopeKind.PROJECT)
    scope_value = models.CharField(max_length=256, blank=True, default="")
    period = models.CharField(max_length=8, choices=Period.choices, default=Period.MONTH)
    limit_usd = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(0.01)])
    thresholds = models.JSONField(default=list)  # percents, ascending, e.g. [50, 80, 100]
    action = models.CharField(max_length=16, choices=Action.choices, default=Action.NONE)
    downgrade_provider = models.CharField(max_length=64, blank=True, default="")
    downgrade_model = models.CharField(max_length=256, blank=True, default="")
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        indexes = [models.Index(fields=["project", "enabled"])]

    def __str__(self) -> str:
        return self.name

    @property
    def limit_nano(self) -> int:
        return int(self.limit_usd * 1_000_000_000)


class BudgetState(models.Model):
    """A scope's spend in one period, as the last tick saw it (one row per budget, key and period;
    for a budget on each user or customer only the keys past the first threshold get one)."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="states")
    scope_value = models.CharField(max_length=256, blank=True, default="")
    period_start = models.DateTimeField()
    spent_nano = models.BigIntegerField(default=0)
    threshold = models.PositiveSmallIntegerField(default=0)  # highest threshold reached, percent
    exhausted = models.BooleanField(default=False)  # at or past 100 %: the hard action is in force
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "scope_value", "period_start"], name="uniq_budget_state"
            )
        ]

    def __str__(self) -> str:
        return f"{self.budget_id} {self.scope_value} from {self.period_start:%Y-%m-%d}"


class Metric(models.TextChoices):
    SPEND = "spend", "Spend"
    CALLS = "calls", "Calls"
    TOKENS_PER_CALL = "tokens_per_call", "Tokens per call"
    ERROR_RATE = "error_rate", "Error rate"


class AnomalyMonitor(TimeStampedModel):
    """Watch one metric of a scope (or of each endpoint / model / customer) against its own
    hour-of-week baseline."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="anomaly_monitors")
    scope_kind = models.CharField(max_length=16, choices=ScopeKind.choices, default=ScopeKind.PROJECT)
    scope_value = models.CharField(max_length=256, blank=True, default="")
    metric = models.CharField(max_length=16, choices=Metric.choices, default=Metric.SPEND)
    sensitivity = models.FloatField(default=4.0, validators=[MinValueValidator(2.0)])
    min_usd = models.DecimalField(
        max_digits=10, decimal_places=2, default=1
    )  # smallest spend rise worth a page
    enabled = models.BooleanField(default=True)
    last_hour = models.DateTimeField(null=True, blank=True)  # the last hour judged

    def __str__(self) -> str:
        return f"{self.metric} of {self.scope_kind} {self.scope_value}".strip()


class AlertKind(models.TextChoices):
    BUDGET = "budget", "Budget"
    ANOMALY = "anomaly", "Anomaly"


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Alert(TimeStampedModel):
    """One episode: opened once, escalated at higher budget thresholds, resolved once."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="spend_alerts")
    kind = models.CharField(max_length=8, choices=AlertKind.choices)
    budget = models.ForeignKey(
        Budget, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    monitor = models.ForeignKey(
        AnomalyMonitor, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    episode = models.CharField(max_length=400)  # what makes two ticks the same episode
    scope_kind = models.CharField(max_length=16, choices=ScopeKind.choices)
    scope_value = models.CharField(max_length=256, blank=True, default="")
    metric = models.CharField(max_length=16, choices=Metric.choices, default=Metric.SPEND)
    threshold = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=8, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    title = models.CharField(max_length=300)
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=300, blank=True, default="")
    detail = models.JSONField(default=dict)
    calm_hours = models.PositiveSmallIntegerField(default=0)  # anomalies: normal hours in a row since

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "episode"],
                condition=models.Q(status="open"),
                name="uniq_open_alert_episode",
            )
        ]
        indexes = [models.Index(fields=["project", "-opened_at"])]

    def __str__(self) -> str:
        return self.title


class ChannelKind(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Signed webhook"
    SLACK = "slack", "Slack-compatible incoming webhook"


class AlertChannel(TimeStampedModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="alert_channels")
    kind = models.CharField(max_length=8, choices=ChannelKind.choices)
    target = models.CharField(max_length=1000, help_text="E-mail addresses (comma-separated) or a URL.")
    secret = models.CharField(max_length=128, blank=True, default="")  # signs webhook bodies
    enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.target[:60]}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class AlertDelivery(TimeStampedModel):
    """One notice of one alert (`opened`, `threshold:80`, `resolved`) to one channel: at most once."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(AlertChannel, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=32)
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True, default="")
    digest = models.BooleanField(default=False)  # sent inside one message with others
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "channel", "event"], name="uniq_alert_delivery")
        ]
        indexes = [models.Index(fields=["channel", "status"])]


class CustomerRevenue(TimeStampedModel):
    """Revenue a project enters (or syncs by API) for one customer and calendar month, in USD."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="customer_revenue")
    customer = models.CharField(max_length=256)
    month = models.DateField()  # first day of the month
    amount_usd = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(0)])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "customer", "month"], name="uniq_customer_revenue")
        ]
