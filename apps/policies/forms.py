"""Forms of the routing pages (validation of shapes only; services decide what is allowed)."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.policies.models import KillKind, PolicySettings
from apps.policies.services.project_settings import FIELDS as SETTINGS_FIELDS
from apps.routing.cascade import SDK_CHECKS

STICKY = [("event", "each call (event)"), ("conversation_id", "conversation"), ("user_id", "user")]


def _number(**attrs: Any) -> forms.NumberInput:
    """A number input the browser accepts any decimal in; the range is the service's to refuse."""
    return forms.NumberInput(attrs={"step": "any", **attrs})


class ApproveForm(forms.Form):
    option = forms.ChoiceField(label="Option", required=False)
    rollout_percent = forms.FloatField(
        label="Start at (% of traffic)", required=False, widget=_number(min=0, max=100)
    )
    sticky_on = forms.ChoiceField(label="Keep routing sticky per", choices=STICKY, initial="event")
    checks = forms.MultipleChoiceField(
        label="Cascade checks", choices=[(c, c) for c in SDK_CHECKS], required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    max_error_rate = forms.FloatField(label="Roll back above this error rate (0–1)", required=False)
    note = forms.CharField(label="Note for the audit log", required=False, max_length=500)

    def __init__(self, *args: Any, options: list[dict[str, Any]], proposal_key: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        labels = {o["key"]: o.get("label") or o["key"] for o in options}
        choices = [(proposal_key, f"{labels.get(proposal_key, proposal_key)} (recommended)")]
        choices += [
            (o["key"], labels[o["key"]])
            for o in options
            if o["key"] != proposal_key and o["strategy"] != "learned"
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
    percent = forms.FloatField(label="Rollout (% of traffic)", widget=_number(min=0, max=100))


class QualityBarForm(forms.Form):
    bar_percent = forms.FloatField(
        label="Quality bar (% of the baseline's quality)", widget=_number(min=50, max=100)
    )


class PolicySettingsForm(forms.ModelForm):
    """The quality bar is typed and shown in percent, as every page shows it (stored 0.5–1)."""

    quality_bar = forms.FloatField(
        label="Quality bar (% of the baseline's quality)",
        widget=_number(min=50, max=100),
        help_text="A recommendation's lower 99 % bound on quality kept must clear it (50–100 %).",
    )
    webhook_url = forms.URLField(
        label="Webhook URL", required=False, assume_scheme="https",
        help_text="POSTed a signed JSON body on rollout events.",
    )  # fmt: skip

    class Meta:
        model = PolicySettings
        fields = list(SETTINGS_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["quality_bar"] = percent_value(self.instance.quality_bar)

    def clean_quality_bar(self) -> float:
        value = self.cleaned_data["quality_bar"]
        if not 50 <= value <= 100:
            raise forms.ValidationError("The quality bar must be between 50 % and 100 %.")
        return round(value / 100, 6)


def percent_value(share: float) -> float | int:
    """0.95 → 95 and 0.955 → 95.5, as a number input shows it."""
    value = round(share * 100, 4)
    return int(value) if value == int(value) else value


class KillSwitchForm(forms.Form):
    kind = forms.ChoiceField(choices=KillKind.choices)
    value = forms.CharField(label="Model (provider/model) or provider", max_length=300)
    reason = forms.CharField(max_length=2000)
