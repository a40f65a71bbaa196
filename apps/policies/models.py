"""Recommendations, immutable policy versions, published configs, the kill switch and the audit log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.accounts.models import Organization, Project
from apps.core.models import TimeStampedModel


class Strategy(models.TextChoices):
    NONE = "none", "No routing (the app's own model)"
    OVERRIDE = "override", "Override"
    SPLIT = "split", "Split"
    CASCADE = "cascade", "Cascade"
    LEARNED = "learned", "Learned router"


class PolicySettings(TimeStampedModel):
    """A project's defaults for recommendations, rollouts and notifications."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="policy_settings")
    quality_bar = models.FloatField(
        default=0.95,
        validators=[MinValueValidator(0.5), MaxValueValidator(1.0)],
        help_text="Quality retention a recommendation's lower confidence bound must clear (0.5–1).",
    )
    canary_percent = models.FloatField(
        default=10.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(100.0)],
        help_text="Share of traffic a newly approved policy starts with, in percent.",
    )
    rollout_steps = models.CharField(
        max_length=64, default="25,50,100", help_text="Percentages the guard promotes through."
    )
    guard_window = models.CharField(
        max_length=8, default="1h", help_text="How long each rollout step is watched (15m, 1h, 1d …)."
    )
    guard_min_calls = models.PositiveIntegerField(
        default=50, help_text="Calls the canary arm needs before the guard may promote it."
    )
    max_error_rate = models.FloatField(
        default=0.02,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Error rate of the canary arm above which it is rolled back.",
    )
    notify_email = models.BooleanField(default=True, help_text="E-mail admins and owners about rollouts.")
    webhook_url = models.URLField(blank=True, help_text="POSTed a signed JSON body on rollout events.")
    webhook_secret = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"policy settings for {self.project}"


class EndpointSettings(TimeStampedModel):
    """A quality bar for one endpoint (otherwise the project's)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="endpoint_settings")
    endpoint = models.CharField(max_length=128)
    quality_bar = models.FloatField(validators=[MinValueValidator(0.5), MaxValueValidator(1.0)])
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "endpoint"], name="uniq_endpoint_settings")]


class RecommendationStatus(models.TextChoices):
    OPEN = "open", "Open"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded"
    INFO = "info", "No action needed"


class Recommendation(TimeStampedModel):
    """The recommender's proposal for one endpoint from one replay job's evidence."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="recommendations")
    endpoint = models.CharField(max_length=128)
    status = models.CharField(
        max_length=16, choices=RecommendationStatus.choices, default=RecommendationStatus.OPEN
    )
    strategy = models.CharField(max_length=16, choices=Strategy.choices)
    target = models.CharField(max_length=300, blank=True)  # "provider/model" of the proposed target
    summary = models.TextField()
    # the evidence
    evidence_job_id = models.BigIntegerField()
    evidence_finished_at = models.DateTimeField()
    evaluator = models.CharField(max_length=32)
    samples = models.PositiveIntegerField()
    simulated = models.BooleanField(default=False)  # anything in the evidence was simulated
    simulated_parts = models.JSONField(default=list, blank=True)  # "candidates", "judge"
    monthly_calls = models.BigIntegerField(default=0)
    baseline_provider = models.CharField(max_length=256)
    baseline_model = models.CharField(max_length=256)
    quality_bar = models.FloatField()
    # the estimate of the proposal (null for "no change")
    retention = models.FloatField(null=True)
    retention_low = models.FloatField(null=True)
    retention_high = models.FloatField(null=True)
    monthly_savings_nano = models.BigIntegerField(null=True)
    monthly_savings_low_nano = models.BigIntegerField(null=True)
    monthly_savings_high_nano = models.BigIntegerField(null=True)
    latency_p50_change_ms = models.FloatField(null=True)
    latency_p95_change_ms = models.FloatField(null=True)
    baseline_cost_per_call_nano = models.FloatField(default=0.0)
    proposal = models.JSONField(default=dict)  # the chosen Option as a dict (learned model included)
    options = models.JSONField(default=list)  # every evaluated option, for the frontier
    excluded = models.JSONField(default=dict)
    samples_needed = models.PositiveIntegerField(
        null=True, blank=True, help_text="replayed samples at which the nearest option would clear the bar"
    )
    fingerprint = models.CharField(max_length=64)
    # the decision
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        indexes = [models.Index(fields=["project", "endpoint", "status"])]


class PolicyAction(models.TextChoices):
    APPROVE = "approve", "Approved"
    PROMOTE = "promote", "Promoted by the guard"
    ROLLBACK = "rollback", "Rolled back"
    AUTO_ROLLBACK = "auto_rollback", "Rolled back by the guard"
    STOP = "stop", "Routing stopped"
    ROLLOUT = "rollout", "Rollout changed"


class ImmutableError(Exception):
    pass


class PolicyVersion(models.Model):
    """One endpoint's policy as published; never changed, only followed by a newer version.

    `spec` is the protocol's POLICY object without `policy_version` (which is `version`), or {}
    for strategy "none". `guarded` versions below 100 % are watched (and promoted) by the guard.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="policy_versions")
    endpoint = models.CharField(max_length=128)
    version = models.PositiveIntegerField()
    strategy = models.CharField(max_length=16, choices=Strategy.choices)
    spec = models.JSONField(default=dict)
    rollout_percent = models.FloatField(default=100.0)
    guarded = models.BooleanField(default=False)
    action = models.CharField(max_length=16, choices=PolicyAction.choices)
    reason = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    recommendation = models.ForeignKey(Recommendation, null=True, blank=True, on_delete=models.SET_NULL)
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    rollout_root = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="rollout_steps"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "endpoint", "version"], name="uniq_policy_version")
        ]
        indexes = [models.Index(fields=["project", "endpoint", "-version"])]

    def __str__(self) -> str:
        return f"{self.endpoint} v{self.version} ({self.strategy})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableError("a published policy version is never changed; publish a new one")
        super().save(*args, **kwargs)

    @property
    def target(self) -> str:
        targets = self.spec.get("targets") or []
        return f"{targets[0]['provider']}/{targets[0]['model']}" if targets else ""


class PublishedConfig(models.Model):
    """The exact bytes `GET /v1/config` serves for a project, signed at publish time."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="published_configs")
    config_version = models.PositiveBigIntegerField()
    body = models.BinaryField()
    content_hash = models.CharField(max_length=64)  # over everything but version and time
    etag = models.CharField(max_length=80)
    key_id = models.CharField(max_length=64)
    signature = models.CharField(max_length=200)
    capture_mode = models.CharField(max_length=8)
    capture_sample_rate = models.FloatField()
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    published_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "config_version"], name="uniq_config_version")
        ]
        indexes = [models.Index(fields=["project", "-config_version"])]

    def __str__(self) -> str:
        return f"config v{self.config_version} of project {self.project_id}"


class KillKind(models.TextChoices):
    MODEL = "model", "Model"
    PROVIDER = "provider", "Provider"


class KillSwitch(models.Model):
    """A model ("provider/model") or provider an organisation must not be routed to."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="kill_switches")
    kind = models.CharField(max_length=8, choices=KillKind.choices)
    value = models.CharField(max_length=300)
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "value"],
                condition=models.Q(lifted_at__isnull=True),
                name="uniq_active_kill_switch",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"


class GuardDecision(models.TextChoices):
    HOLD = "hold", "Hold"
    PROMOTE = "promote", "Promote"
    ROLLBACK = "rollback", "Roll back"


class GuardCheck(models.Model):
    """One evaluation of a rollout by the guard, with the numbers it saw."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="guard_checks")
    checked_at = models.DateTimeField(db_index=True)
    decision = models.CharField(max_length=8, choices=GuardDecision.choices)
    reasons = models.JSONField(default=list)
    metrics = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"guard {self.decision} at {self.checked_at:%Y-%m-%d %H:%M}"


class AuditEntry(models.Model):
    """Who changed what about routing, when and why."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="policy_audit")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE)
    endpoint = models.CharField(max_length=128, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=32)
    message = models.TextField()
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.action}: {self.message[:60]}"

    @property
    def actor_label(self) -> str:
        return self.actor.email if self.actor is not None else "Switchyard"


class Notification(models.Model):
    """A rollout event told to the project: e-mail to admins and owners, and the webhook."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="policy_notifications")
    kind = models.CharField(max_length=32)
    subject = models.CharField(max_length=300)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    emailed_to = models.JSONField(default=list)
    webhook_status = models.CharField(max_length=16, default="none")  # none | pending | sent | failed
    webhook_attempts = models.PositiveIntegerField(default=0)
    webhook_error = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return self.subject


class SdkClient(models.Model):
    """An SDK build that polled a project's config, and the LEARNED_MODEL types it says it runs
    (`X-Switchyard-Capabilities`, docs/protocol.md): the recommender proposes an encoder router
    only when every SDK seen lately can run it."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="sdk_clients")
    agent = models.CharField(max_length=200)  # User-Agent, e.g. switchyard-python/0.1.0
    capabilities = models.CharField(max_length=300)  # as sent, normalised: sorted, comma-separated
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "agent", "capabilities"], name="uniq_sdk_client")
        ]
        indexes = [models.Index(fields=["project", "-last_seen"])]

    def __str__(self) -> str:
        return f"{self.agent} [{self.capabilities}] on project {self.project_id}"

    @property
    def runs_encoder(self) -> bool:
        return "encoder_linear/2" in self.capabilities.split(",")  # the blended version the server ships
