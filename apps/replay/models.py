"""Replay: provider connections, jobs, their per-sample state and per-candidate summaries.

What grows with traffic (each candidate's answer, tokens, cost, latency and verdicts) lives in
ClickHouse `replay_results`; PostgreSQL holds the job, one small `ReplayItem` per sample and
candidate (its state and the money reserved and charged for it, so a job resumed after its worker
died never sends a sample twice and never counts spend twice), and the summary per candidate.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from apps.accounts.models import Organization, Project
from apps.core.models import TimeStampedModel


class ProviderApi(models.TextChoices):
    OPENAI = "openai", "OpenAI-compatible Chat Completions"
    ANTHROPIC = "anthropic", "Anthropic Messages"
    GEMINI = "gemini", "Google Gemini generateContent"


class ProviderConnection(TimeStampedModel):
    """How an organisation reaches one provider: wire format, base URL and its (encrypted) key.

    `provider` is the pricing catalogue's provider slug (openai, anthropic, together, groq, …):
    candidates are priced with it. The key is stored encrypted and never shown back; `key_hint`
    keeps its last four characters so a person can tell keys apart.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="provider_connections"
    )
    provider = models.CharField(max_length=64)
    api = models.CharField(max_length=16, choices=ProviderApi.choices)
    base_url = models.URLField(max_length=500, blank=True)
    key_ciphertext = models.TextField(blank=True)
    key_hint = models.CharField(max_length=8, blank=True)
    max_concurrency = models.PositiveSmallIntegerField(default=8)
    requests_per_minute = models.PositiveIntegerField(default=600)
    timeout_s = models.PositiveSmallIntegerField(default=60)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "provider"], name="uniq_provider_connection")
        ]

    def __str__(self) -> str:
        return f"{self.provider} ({self.api})"


class JobStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Running"
    DONE = "done", "Finished"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (JobStatus.PENDING, JobStatus.RUNNING)
# `ReplayJob.evaluator_reason` of a job whose evaluator a person chose; any other reason says why
# the traffic's shapes chose it (apps.replay.evaluators.infer).
PERSON_CHOICE = "chosen by you"


class ReplayJob(TimeStampedModel):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="replay_jobs")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="replay_jobs")
    endpoint = models.CharField(max_length=128)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    stop_reason = models.CharField(max_length=32, blank=True)  # spend_cap, cancelled, provider_failed, …
    error = models.TextField(blank=True)
    trigger = models.CharField(max_length=64, default="manual")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    baseline_provider = models.CharField(max_length=64)
    baseline_model = models.CharField(max_length=256)
    candidates = models.JSONField(default=list, help_text='[{"provider", "model", "simulated"}]')
    evaluator = models.CharField(max_length=16)
    evaluator_config = models.JSONField(default=dict, blank=True)
    evaluator_reason = models.CharField(max_length=300, blank=True)
    simulated = models.BooleanField(default=False)

    confidence = models.FloatField(default=0.95)
    margin = models.FloatField(default=0.05)
    sample_size = models.PositiveIntegerField(default=0)
    population = models.PositiveIntegerField(default=0, help_text="eligible calls the sample was drawn from")
    excluded = models.JSONField(default=dict, blank=True, help_text="calls left out, by reason")
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    seed = models.BigIntegerField(default=0)
    monthly_calls = models.BigIntegerField(default=0)
    fingerprint = models.JSONField(default=dict, blank=True, help_text="traffic profile when sampled")
    estimate = models.JSONField(
        default=dict, blank=True, help_text="every routing option with its intervals (apps.routing.estimate)"
    )

    spend_cap_nano = models.BigIntegerField()
    spent_nano = models.BigIntegerField(default=0)
    reserved_nano = models.BigIntegerField(default=0)
    expected_nano = models.BigIntegerField(default=0)

    total_items = models.PositiveIntegerField(default=0)
    done_items = models.PositiveIntegerField(default=0)
    error_items = models.PositiveIntegerField(default=0)
    skipped_items = models.PositiveIntegerField(default=0)
    interrupted_items = models.PositiveIntegerField(default=0)

    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    run_started_at = models.DateTimeField(null=True, blank=True)
    run_started_done = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "endpoint", "status", "finished_at"]),
            models.Index(fields=["status", "heartbeat_at"]),
        ]

    def __str__(self) -> str:
        return f"replay {self.pk} {self.endpoint} ({self.status})"

    @property
    def settled_items(self) -> int:
        return self.done_items + self.error_items + self.skipped_items + self.interrupted_items

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE or not self.total_items:
            return 100 if self.status == JobStatus.DONE else 0
        return min(100, int(self.settled_items * 100 / self.total_items))

    @property
    def candidate_keys(self) -> list[str]:
        return [f"{c['provider']}/{c['model']}" for c in self.candidates]

    @property
    def judge(self) -> dict[str, Any]:
        """The pairwise judge ({"provider", "model", "simulated", "default"}), or {} without one."""
        judge = (self.evaluator_config or {}).get("judge") if self.evaluator == "judge" else None
        return judge if isinstance(judge, dict) else {}

    @property
    def judge_simulated(self) -> bool:
        return bool(self.judge.get("simulated"))

    @property
    def simulated_parts(self) -> list[str]:
        """What of this replay ran on the `sim` provider: "candidates" (any of them), "judge"."""
        parts = []
        if self.simulated or any(c.get("simulated") for c in self.candidates):
            parts.append("candidates")
        if self.judge_simulated:
            parts.append("judge")
        return parts


class ItemState(models.TextChoices):
    PENDING = "pending", "Waiting"
    INFLIGHT = "inflight", "Sent"
    DONE = "done", "Answered"
    ERROR = "error", "Failed"
    SKIPPED = "skipped", "Not sent"
    INTERRUPTED = "interrupted", "Lost when a worker died"


class ReplayItem(models.Model):
    """One sampled call replayed on one candidate: the unit of work, reservation and settlement."""

    job = models.ForeignKey(ReplayJob, on_delete=models.CASCADE, related_name="items")
    seq = models.PositiveIntegerField()
    event_id = models.UUIDField()
    candidate = models.CharField(max_length=330)  # "provider/model"
    stratum = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(max_length=12, choices=ItemState.choices, default=ItemState.PENDING)
    worst_nano = models.BigIntegerField(default=0, help_text="the candidate request's worst-case cost")
    reserved_nano = models.BigIntegerField(default=0, help_text="reserved while in flight")
    charged_nano = models.BigIntegerField(default=0, help_text="counted in the job's spend")
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "event_id", "candidate"], name="uniq_replay_item")
        ]
        indexes = [models.Index(fields=["job", "state", "seq"])]

    def __str__(self) -> str:
        return f"item {self.job_id}/{self.seq} {self.candidate} ({self.state})"


class CandidateResult(models.Model):
    """The per-candidate summary of a job (what the recommender reads, via selectors)."""

    job = models.ForeignKey(ReplayJob, on_delete=models.CASCADE, related_name="results")
    provider = models.CharField(max_length=64)
    model = models.CharField(max_length=256)
    simulated = models.BooleanField(default=False)
    samples = models.PositiveIntegerField(default=0, help_text="answered and scored")
    errors = models.PositiveIntegerField(default=0)
    unscored = models.PositiveIntegerField(default=0)
    quality_mean = models.FloatField(default=0.0)
    retention = models.FloatField(default=0.0)
    retention_low = models.FloatField(default=0.0)
    retention_high = models.FloatField(default=0.0)
    cost_per_call_nano = models.BigIntegerField(default=0)
    baseline_cost_per_call_nano = models.BigIntegerField(default=0)
    monthly_savings_nano = models.BigIntegerField(default=0)
    savings_low_nano = models.BigIntegerField(default=0)
    savings_high_nano = models.BigIntegerField(default=0)
    latency_p50_ms = models.FloatField(default=0.0)
    latency_p95_ms = models.FloatField(default=0.0)
    baseline_latency_p50_ms = models.FloatField(default=0.0)
    baseline_latency_p95_ms = models.FloatField(default=0.0)
    error_rate = models.FloatField(default=0.0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "provider", "model"], name="uniq_candidate_result")
        ]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model} in job {self.job_id}"

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.model}"


class ReplaySchedule(TimeStampedModel):
    """When a project's endpoints are replayed again on their own, and how much that may spend."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="replay_schedule")
    enabled = models.BooleanField(default=False)
    on_price_change = models.BooleanField(default=True)
    on_new_model = models.BooleanField(default=True)
    on_drift = models.BooleanField(default=True)
    drift_threshold = models.FloatField(
        default=0.25, help_text="relative change in mean prompt length or daily volume that counts as drift"
    )
    monthly_budget_nano = models.BigIntegerField(default=0)
    job_spend_cap_nano = models.BigIntegerField(default=0)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_note = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"replay schedule of {self.project}"
