"""Page forms for spend control: fields and widgets only; the services decide what is valid."""

from __future__ import annotations

from django import forms

from apps.spend.models import Action, ChannelKind, Metric, Period, ScopeKind


class BudgetForm(forms.Form):
    name = forms.CharField(max_length=120, label="Name")
    scope_kind = forms.ChoiceField(choices=ScopeKind.choices, label="On")
    scope_value = forms.CharField(
        max_length=256,
        required=False,
        label="Which",
        help_text="The endpoint, model (e.g. gpt-4o), user id or customer; '*' for each one on its own; empty for the project.",
    )
    period = forms.ChoiceField(choices=Period.choices, label="Per", initial=Period.MONTH)
    limit_usd = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        label="Limit (USD)",
        widget=forms.NumberInput(attrs={"step": "any", "min": 0}),
    )
    thresholds = forms.CharField(max_length=60, initial="50, 80, 100", label="Alert at (% of the limit)")
    action = forms.ChoiceField(
        choices=Action.choices,
        label="At 100 %",
        help_text="A hard action reaches apps through the SDK config within its next poll (about 30 s).",
    )
    downgrade_provider = forms.CharField(
        max_length=64, required=False, label="Cheaper provider", initial="openai"
    )
    downgrade_model = forms.CharField(
        max_length=256, required=False, label="Cheaper model", initial="gpt-4o-mini"
    )
    enabled = forms.BooleanField(required=False, initial=True, label="Enabled")


class MonitorForm(forms.Form):
    scope_kind = forms.ChoiceField(
        choices=[c for c in ScopeKind.choices if c[0] != ScopeKind.USER], label="Watch"
    )
    scope_value = forms.CharField(
        max_length=256,
        required=False,
        label="Which",
        help_text="Empty or '*' watches each endpoint, model or customer.",
    )
    metric = forms.ChoiceField(choices=Metric.choices, label="Metric")
    sensitivity = forms.FloatField(
        initial=4.0,
        label="Sensitivity (deviations)",
        widget=forms.NumberInput(attrs={"step": "any", "min": 2}),
    )
    min_usd = forms.DecimalField(
        initial=1, max_digits=10, decimal_places=2, label="Smallest rise worth an alert (USD, spend only)",
        widget=forms.NumberInput(attrs={"step": "any", "min": 0}),
    )  # fmt: skip


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(choices=ChannelKind.choices, label="Send by")
    target = forms.CharField(
        max_length=1000,
        required=False,
        label="To",
        help_text="E-mail addresses, comma-separated (empty: the organisation's admins and owners), or the webhook URL.",
    )


class CustomerKeyForm(forms.Form):
    customer_key = forms.CharField(
        max_length=80,
        label="Customer key",
        help_text="customer_id (the event's field), metadata:<key> (e.g. metadata:account) or tag:<prefix> (tag customer:acme → acme). Applies to calls stored from now on.",
    )


class RevenueForm(forms.Form):
    month = forms.CharField(max_length=7, label="Month (YYYY-MM)")
    amount_usd = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        label="Revenue (USD)",
        widget=forms.NumberInput(attrs={"step": "any", "min": 0}),
    )
