"""Forms of the routing pages (validation of shapes only; services decide what is allowed)."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.policies.models import KillKind, PolicySettings
from apps.policies.services.project_settings import FIELDS as SETTINGS_FIELDS
from apps.routing.estimate import SDK_CHECKS

STICKY = [("event", "each call (event)"), ("conversation_id", "conversation"), ("user_id", "user")]


class ApproveForm(forms.Form):
    option = forms.ChoiceField(label="Option", required=False)
    rollout_percent = forms.FloatField(label="Start at (% of traffic)", required=False)
    sticky_on = forms.ChoiceField(label="Keep routing sticky per", choices=STICKY, initial="event")
    checks = forms.MultipleChoiceField(
        label="Cascade checks", choices=[(c, c) for c in SDK_CHECKS], required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    max_error_rate = forms.FloatField(label="Roll back above this error rate (0–1)", required=False)
    note = forms.CharField(label="Note for the audit log", required=False, max_length=500)

    def __init__(self, *args: Any, options: list[dict[str, Any]], proposal_key: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = [(proposal_key, f"{proposal_key} (recommended)")]
        choices += [
            (o["key"], o["key"]) for o in options if o["key"] != proposal_key and o["strategy"] != "learned"
        ]
        field = self.fields["option"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices


class RejectForm(forms.Form):
    reason = forms.CharField(label="Why not", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class RollbackForm(forms.Form):
    version = forms.IntegerField(min_value=1)
    note = forms.CharField(required=False, max_length=500)


class RolloutForm(forms.Form):
    percent = forms.FloatField(label="Rollout (% of traffic)")


class QualityBarForm(forms.Form):
    bar_percent = forms.FloatField(label="Quality bar (% retention)")


class PolicySettingsForm(forms.ModelForm):
    webhook_url = forms.URLField(
        label="Webhook URL", required=False, assume_scheme="https",
        help_text="POSTed a signed JSON body on rollout events.",
    )  # fmt: skip

    class Meta:
        model = PolicySettings
        fields = list(SETTINGS_FIELDS)


class KillSwitchForm(forms.Form):
    kind = forms.ChoiceField(choices=KillKind.choices)
    value = forms.CharField(label="Model (provider/model) or provider", max_length=300)
    reason = forms.CharField(max_length=2000)
