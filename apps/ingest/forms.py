from django import forms

from apps.ingest.models import CaptureMode


class IngestSettingsForm(forms.Form):
    capture_mode = forms.ChoiceField(choices=CaptureMode.choices, label="Store payloads")
    capture_sample_rate = forms.FloatField(
        min_value=0.0, max_value=1.0, label="Sample rate (0–1, for 'sampled')"
    )
    redact_payloads = forms.BooleanField(
        required=False, label="Redact e-mails, phones, card numbers and secrets"
    )
    rate_limit_events_per_s = forms.IntegerField(
        min_value=0, label="Rate limit, events/s (0 = server default)"
    )
    monthly_event_quota = forms.IntegerField(min_value=0, label="Monthly event quota (0 = none)")
