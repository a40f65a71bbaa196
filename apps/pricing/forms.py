"""Forms for the pricing pages. They only shape input: the services check and refuse it.

Token prices are typed in USD per 1M tokens; fees in USD.
"""

from __future__ import annotations

from django import forms

from apps.pricing.book import TIERS

PER_M = "USD per 1M tokens"
RULE_CHOICES = [("", "as the provider's rule says"), ("yes", "yes"), ("no", "no")]


def _price(label: str, help_text: str = PER_M, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=40,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )


class PriceForm(forms.Form):
    effective_from = forms.CharField(
        max_length=40, help_text="YYYY-MM-DD or an ISO 8601 time (UTC); a past date recomputes stored costs"
    )
    tier = forms.ChoiceField(choices=[(t, t.title()) for t in TIERS], initial="standard")
    currency = forms.ChoiceField(choices=[("USD", "USD")], initial="USD")
    input = _price("Input", required=True)
    cached_input = _price("Cached input (cache read)", f"{PER_M}; empty = the input price")
    cache_write = _price("Cache write, 5 minutes", f"{PER_M}; empty = the input price")
    cache_write_1h = _price("Cache write, 1 hour", f"{PER_M}; empty = the 5-minute price")
    output = _price("Output", required=True)
    reasoning = _price("Reasoning output", f"{PER_M}; empty = the output price")
    long_context_threshold = forms.CharField(
        label="Long context above (tokens)",
        required=False,
        max_length=12,
        help_text="e.g. 200000; prompt incl. cached",
    )
    input_long = _price("Long-context input")
    cached_input_long = _price("Long-context cached input")
    cache_write_long = _price("Long-context cache write, 5 minutes")
    cache_write_1h_long = _price("Long-context cache write, 1 hour")
    output_long = _price("Long-context output")
    reasoning_long = _price("Long-context reasoning")
    request_fee = _price("Fee per request", "USD")
    image_fee = _price("Fee per image", "USD")
    source = forms.CharField(
        required=False, max_length=500, help_text="where this price comes from (contract, URL)"
    )


class CustomModelForm(forms.Form):
    provider = forms.CharField(
        max_length=64, help_text="e.g. openai for a fine-tune, or vllm for a self-hosted model"
    )
    name = forms.CharField(max_length=200, help_text="the model name your calls report")
    display_name = forms.CharField(max_length=200, required=False)
    aliases = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="other names, one per line"
    )
    match_pattern = forms.CharField(
        required=False, max_length=300, help_text="a regular expression the whole reported name must match"
    )
    input_includes_cached = forms.ChoiceField(
        choices=RULE_CHOICES, required=False, label="Reported input includes cached tokens (new providers)"
    )
    output_includes_reasoning = forms.ChoiceField(
        choices=RULE_CHOICES,
        required=False,
        label="Reported output includes reasoning tokens (new providers)",
    )
    effective_from = forms.CharField(
        max_length=40, required=False, help_text="first price from (YYYY-MM-DD); empty: 1970-01-01"
    )
    input = _price("Input")
    cached_input = _price("Cached input", f"{PER_M}; empty = the input price")
    output = _price("Output")


class NamesForm(forms.Form):
    display_name = forms.CharField(max_length=200, required=False)
    aliases = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="one per line"
    )
    match_pattern = forms.CharField(required=False, max_length=300)


class DiscountForm(forms.Form):
    provider = forms.ChoiceField(choices=[])
    percent = forms.CharField(max_length=12, help_text="e.g. 12.5 for 12.5% off catalogue prices")
    effective_from = forms.CharField(max_length=40, help_text="YYYY-MM-DD (UTC)")
    note = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: object, providers: list[str], **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["provider"].choices = [(p, p) for p in providers]  # type: ignore[attr-defined]


class RecomputeForm(forms.Form):
    since = forms.CharField(
        max_length=40, help_text="recompute every stored cost from this date (YYYY-MM-DD)"
    )


def rule_value(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)
