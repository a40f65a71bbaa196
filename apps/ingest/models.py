"""Per-project ingest settings: what to capture, and the limits that protect the service."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.accounts.models import Project
from apps.core.models import TimeStampedModel


class CaptureMode(models.TextChoices):
    NONE = "none", "Never store payloads"
    SAMPLED = "sampled", "Store a sampled percentage"
    ALWAYS = "always", "Always store payloads"


class IngestSettings(TimeStampedModel):
    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="ingest_settings")
    capture_mode = models.CharField(max_length=8, choices=CaptureMode.choices, default=CaptureMode.ALWAYS)
    capture_sample_rate = models.FloatField(
        default=0.1,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Share of calls whose payload is stored when the mode is 'sampled' (0–1).",
    )
    redact_payloads = models.BooleanField(
        default=True, help_text="Redact e-mails, phones, cards and secrets."
    )
    rate_limit_events_per_s = models.PositiveIntegerField(
        default=0, help_text="Events per second for this project; 0 uses the server default."
    )
    monthly_event_quota = models.PositiveBigIntegerField(
        default=0, help_text="Events per calendar month; 0 means no project-level quota."
    )

    def __str__(self) -> str:
        return f"ingest settings for {self.project}"
