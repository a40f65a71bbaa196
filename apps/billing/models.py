"""Billing: plans, each organisation's Stripe customer and subscriptions, the Stripe events we
processed, metered usage reported to Stripe, usage notices sent, and replay spend."""

from __future__ import annotations

from django.db import models

from apps.accounts.models import Organization
from apps.core.models import TimeStampedModel

FREE_PLAN_KEY = "free"


class Plan(TimeStampedModel):
    """What an organisation may use per calendar month (UTC), and the Stripe prices that sell it."""

    key = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order on the billing page.")
    monthly_price_cents = models.PositiveIntegerField(
        default=0, help_text="Shown on the billing page; the Stripe price is what is charged."
    )
    overage_per_million_cents = models.PositiveIntegerField(
        default=0,
        help_text="Shown on the billing page: the metered price per million events above the included.",
    )
    included_events = models.PositiveBigIntegerField(
        help_text="Events per calendar month in the price, for the whole organisation. "
        "Warnings go out at 80 % and 100 %."
    )
    event_limit = models.PositiveBigIntegerField(
        default=0,
        help_text="Hard cap per calendar month: ingest answers 429 above it. 0 = no cap (events above "
        "the included ones are billed through the meter).",
    )
    retention_days = models.PositiveSmallIntegerField(default=30)
    seats = models.PositiveIntegerField(default=0, help_text="Members plus open invitations; 0 = unlimited.")
    replay_budget_nano_usd = models.PositiveBigIntegerField(
        default=0, help_text="Replay provider spend per calendar month, in nano-USD (1e-9 USD)."
    )
    trial_days = models.PositiveSmallIntegerField(default=0, help_text="Free trial on first checkout.")
    self_serve = models.BooleanField(default=True, help_text="Bought through Stripe Checkout.")
    stripe_price_id = models.CharField(
        max_length=255, blank=True, help_text="The licensed (flat monthly) price, price_…"
    )
    stripe_metered_price_id = models.CharField(
        max_length=255, blank=True, help_text="The metered price attached to the meter below, price_…"
    )
    meter_event_name = models.CharField(
        max_length=40, default="switchyard_events", help_text="The event_name of the Stripe Billing Meter."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def purchasable(self) -> bool:
        return (
            self.is_active and self.self_serve and bool(self.stripe_price_id or self.stripe_metered_price_id)
        )

    def price_ids(self) -> list[tuple[str, bool]]:
        """(price id, metered) for a Checkout session's line items."""
        out = [(self.stripe_price_id, False)] if self.stripe_price_id else []
        if self.stripe_metered_price_id:
            out.append((self.stripe_metered_price_id, True))
        return out


class BillingAccount(TimeStampedModel):
    """An organisation's side of Stripe: its customer. Made on first checkout."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="billing_account"
    )
    stripe_customer_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    trial_used = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"billing for {self.organization}"


class SubscriptionStatus(models.TextChoices):
    """Stripe's subscription statuses."""

    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    UNPAID = "unpaid"
    CANCELED = "canceled"
    PAUSED = "paused"


# Statuses in which the subscribed plan applies (past due and unpaid only until the grace ends).
LIVE_STATUSES = (
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PAST_DUE,
    SubscriptionStatus.UNPAID,
)
PAYMENT_FAILED_STATUSES = (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID)


class Subscription(TimeStampedModel):
    """A Stripe subscription as last fetched from Stripe (webhooks only say 'fetch again')."""

    account = models.ForeignKey(BillingAccount, on_delete=models.CASCADE, related_name="subscriptions")
    stripe_id = models.CharField(max_length=255, unique=True)
    plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.PROTECT, help_text="Empty when its price is unknown."
    )
    status = models.CharField(max_length=24, choices=SubscriptionStatus.choices)
    stripe_created = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    payment_failed_at = models.DateTimeField(null=True, blank=True)
    grace_until = models.DateTimeField(null=True, blank=True)
    downgraded_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.stripe_id} ({self.status})"


class EventStatus(models.TextChoices):
    RECEIVED = "received", "Received, not processed yet"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Not a type we act on"
    NEEDS_ATTENTION = "needs_attention", "Needs attention (unknown customer or price)"


class StripeEvent(TimeStampedModel):
    """One webhook event, by Stripe's id: the record that makes processing idempotent."""

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=80)
    stripe_created = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=EventStatus.choices, default=EventStatus.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id}"


class ReportStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Accepted by Stripe"
    FAILED = "failed", "Refused by Stripe"


class UsageReport(TimeStampedModel):
    """Events of one closed hour reported to a Stripe meter. The identifier is deterministic
    (organisation, meter, hour; a correction adds the new total), so a retry never bills twice."""

    account = models.ForeignKey(BillingAccount, on_delete=models.CASCADE, related_name="usage_reports")
    meter_event_name = models.CharField(max_length=40)
    hour = models.DateTimeField()
    identifier = models.CharField(max_length=100, unique=True)
    quantity = models.PositiveBigIntegerField()
    is_correction = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=ReportStatus.choices, default=ReportStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    resends = models.PositiveSmallIntegerField(
        default=0, help_text="Times a refused report was sent again by hand (a new idempotency key)."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "hour"]), models.Index(fields=["status", "hour"])]

    def __str__(self) -> str:
        return self.identifier

    @property
    def idempotency_key(self) -> str:
        """The identifier; after a refusal is resent by hand, a fresh key (Stripe replays the refusal
        for the old one for 24 hours), while the identifier still keeps one event per report."""
        return self.identifier if not self.resends else f"{self.identifier}.r{self.resends}"


class NoticeMetric(models.TextChoices):
    EVENTS = "events", "Events"
    REPLAY = "replay", "Replay spend"


class UsageNotice(TimeStampedModel):
    """A usage warning sent once per organisation, period (YYYY-MM), metric and threshold."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="usage_notices")
    period = models.CharField(max_length=7)
    metric = models.CharField(max_length=8, choices=NoticeMetric.choices)
    threshold = models.PositiveSmallIntegerField()
    used = models.PositiveBigIntegerField()
    limit = models.PositiveBigIntegerField()
    plan_name = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "period", "metric", "threshold"], name="uniq_usage_notice"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.metric} {self.threshold}% {self.period}"


class ReplaySpend(TimeStampedModel):
    """What one replay job spent on providers (cumulative, nano-USD), in the month it started."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="replay_spend")
    period = models.CharField(max_length=7)
    job_key = models.CharField(max_length=100)
    spent_nano_usd = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "job_key"], name="uniq_replay_spend")]

    def __str__(self) -> str:
        return f"{self.job_key}: {self.spent_nano_usd} nano-USD"
