"""Opportunities: what an endpoint wastes beyond routing, found by detectors over stored calls.

A `DetectionRun` is one pass of every detector over a project's last window of calls (default 7
days). Each finding is an `Opportunity` per (endpoint, kind, subject), priced in nano-USD a month
with an interval; a later run updates it, or marks it gone when it is no longer found. A person
dismisses it or marks it done; once done, the realised saving is measured from the calls stored
since and kept beside the estimate. `EndpointTraits` is what people say about an endpoint that
traffic cannot (whether it is latency-insensitive background work).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.accounts.models import Project
from apps.core.models import TimeStampedModel


class Kind(models.TextChoices):
    CACHING = "caching", "Prompt caching"
    TIER = "tier", "Batch or flex tier"
    OUTPUT = "output", "Output waste"
    CONTEXT = "context", "Context growth"
    MODEL = "model", "Superseded model"


class Status(models.TextChoices):
    OPEN = "open", "Open"
    DISMISSED = "dismissed", "Dismissed"
    DONE = "done", "Done"
    GONE = "gone", "No longer found"


class ActsOn(models.TextChoices):
    """The part of the endpoint's spend a change acts on (how overlapping findings combine)."""

    ALL = "all", "every dollar (a cheaper price)"
    INPUT = "input", "input tokens"
    OUTPUT = "output", "output tokens"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class DetectionRun(TimeStampedModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="detection_runs")
    trigger = models.CharField(max_length=32, default="schedule")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    clickhouse_ms = models.PositiveIntegerField(default=0, help_text="time spent in ClickHouse queries")
    endpoints = models.PositiveIntegerField(default=0)
    calls = models.PositiveBigIntegerField(default=0)
    found = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["project", "-created_at"])]

    def __str__(self) -> str:
        return f"detection run {self.pk} of {self.project} ({self.status})"


class Opportunity(TimeStampedModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="opportunities")
    endpoint = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    subject = models.CharField(max_length=300, blank=True, help_text="provider/model, for per-model kinds")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    title = models.CharField(max_length=300)
    # The estimate: nano-USD a month at the window's volume, with its 95 % interval.
    monthly_nano = models.BigIntegerField(default=0)
    monthly_low_nano = models.BigIntegerField(default=0)
    monthly_high_nano = models.BigIntegerField(default=0)
    acts_on = models.CharField(max_length=8, choices=ActsOn.choices, default=ActsOn.ALL)
    # The endpoint's spend a month (and its input and output parts), for combining findings.
    endpoint_monthly_nano = models.BigIntegerField(default=0)
    input_monthly_nano = models.BigIntegerField(default=0)
    output_monthly_nano = models.BigIntegerField(default=0)
    evidence = models.JSONField(default=dict)
    change = models.JSONField(default=dict)
    examples = models.JSONField(default=list, help_text="event ids of calls that show it")
    baseline = models.JSONField(default=dict, help_text="what the realised saving is measured against")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    run = models.ForeignKey(DetectionRun, null=True, blank=True, on_delete=models.SET_NULL)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    realised_nano = models.BigIntegerField(null=True, blank=True, help_text="measured, a month")
    realised_calls = models.PositiveBigIntegerField(default=0)
    realised_measured_at = models.DateTimeField(null=True, blank=True)
    realised_note = models.CharField(max_length=500, blank=True)
    replay_job_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "endpoint", "kind", "subject"], name="uniq_opportunity"
            )
        ]
        indexes = [models.Index(fields=["project", "status", "-monthly_nano"])]

    def __str__(self) -> str:
        return f"{self.kind} on {self.endpoint} ({self.status})"


class Latency(models.TextChoices):
    AUTO = "auto", "Judge from traffic"
    BACKGROUND = "background", "Latency-insensitive (background work)"
    USER_FACING = "user_facing", "User-facing (never suggest batch)"


class EndpointTraits(TimeStampedModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="endpoint_traits")
    endpoint = models.CharField(max_length=128)
    latency = models.CharField(max_length=16, choices=Latency.choices, default=Latency.AUTO)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "endpoint"], name="uniq_endpoint_traits")]

    def __str__(self) -> str:
        return f"{self.endpoint}: {self.latency}"
