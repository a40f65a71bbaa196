"""Forms for replay pages; services do the checking that needs data (apps.replay.services)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms

from apps.pricing.selectors import models_visible, price_book
from apps.replay.engine.costs import is_priced
from apps.replay.evaluators.registry import KINDS
from apps.replay.models import ProviderApi
from apps.replay.selectors import connection_providers
from apps.replay.services.planning import NANO, CandidateSpec, ReplaySpec

CONFIDENCE_CHOICES = [(0.9, "90 %"), (0.95, "95 %"), (0.99, "99 %")]
MARGIN_CHOICES = [(0.02, "± 2 %"), (0.05, "± 5 %"), (0.1, "± 10 %"), (0.15, "± 15 %")]


def _usd_to_nano(value: Decimal | None) -> int:
    return int((value or Decimal(0)) * NANO)


def model_options(*, organization_id: int) -> list[tuple[str, str]]:
    """Every priced model, through the organisation's key ("real:") or simulated ("sim:")."""
    book = price_book(organization_id=organization_id)
    reachable = connection_providers(organization_id=organization_id)
    real: list[tuple[str, str]] = []
    sim: list[tuple[str, str]] = []
    for model in models_visible(organization_id=organization_id)[:1000]:
        provider = model.provider.slug
        if not is_priced(book, provider, model.name):
            continue
        key = f"{provider}/{model.name}"
        if provider in reachable:
            real.append((f"real:{key}", key))
        sim.append((f"sim:{key}", f"{key} (simulated)"))
    return real + sim


def parse_option(value: str) -> CandidateSpec:
    kind, _, key = value.partition(":")
    provider, _, model = key.partition("/")
    if kind not in ("real", "sim") or not provider or not model:
        raise forms.ValidationError(f"not a model choice: {value!r}")
    return CandidateSpec(provider, model, simulated=kind == "sim")


def evaluator_initial(*, kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """The start form's evaluator fields as an earlier choice (kind and stored config) set them."""
    out: dict[str, Any] = {"evaluator": kind}
    if kind == "similarity":
        out["similarity_metric"] = config.get("metric") or "lexical"
    if kind == "json" and isinstance(config.get("schema"), dict):
        out["json_schema"] = json.dumps(config["schema"], indent=2)
    judge = config.get("judge")
    # A judge somebody chose is shown again; the default one (the baseline's model) is chosen again.
    chosen = judge if isinstance(judge, dict) and not judge.get("default") else {}
    if kind == "judge" and chosen.get("provider") and chosen.get("model"):
        out["judge"] = (
            f"{'sim' if chosen.get('simulated') else 'real'}:{chosen['provider']}/{chosen['model']}"
        )
    return out


class ReplayStartForm(forms.Form):
    endpoint = forms.ChoiceField()
    candidates = forms.MultipleChoiceField(
        help_text="Cheaper models to try. Simulated ones cost nothing and say so everywhere.",
        widget=forms.SelectMultiple(attrs={"size": 10}),
    )
    evaluator = forms.ChoiceField(
        choices=[("auto", "Choose from the traffic"), *KINDS.items()], initial="auto"
    )
    similarity_metric = forms.ChoiceField(
        choices=[("lexical", "Lexical (built in)"), ("embedding", "Sentence embeddings (optional extra)")],
        initial="lexical",
        required=False,
        help_text="For text similarity only.",
    )
    judge = forms.ChoiceField(
        required=False, help_text="For the LLM judge only. Empty: the endpoint's own model."
    )
    json_schema = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For JSON checks: a JSON Schema (optional).",
    )
    confidence = forms.TypedChoiceField(choices=CONFIDENCE_CHOICES, coerce=float, initial=0.95)
    margin = forms.TypedChoiceField(
        choices=MARGIN_CHOICES,
        coerce=float,
        initial=0.05,
        help_text="How close the quality estimate should be.",
    )
    sample_size = forms.IntegerField(
        required=False,
        min_value=0,
        help_text="Leave empty to size the sample from the confidence and margin.",
    )
    spend_cap_usd = forms.DecimalField(
        min_value=Decimal(0), max_digits=14, decimal_places=4, initial=Decimal(5), label="Spend cap (USD)"
    )

    def __init__(
        self, *args: Any, endpoints: list[tuple[str, int]], options: list[tuple[str, str]], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        endpoint_field = self.fields["endpoint"]
        candidates_field = self.fields["candidates"]
        judge_field = self.fields["judge"]
        assert isinstance(endpoint_field, forms.ChoiceField) and isinstance(judge_field, forms.ChoiceField)
        assert isinstance(candidates_field, forms.MultipleChoiceField)
        endpoint_field.choices = [(e, f"{e} ({calls:,} calls in 30 days)") for e, calls in endpoints]
        candidates_field.choices = options
        judge_field.choices = [("", "The endpoint's own model"), *options]

    def clean_json_schema(self) -> dict[str, Any] | None:
        text = self.cleaned_data.get("json_schema", "").strip()
        if not text:
            return None
        try:
            schema = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"not valid JSON: {exc}") from exc
        if not isinstance(schema, dict):
            raise forms.ValidationError("a JSON Schema is an object")
        return schema

    def spec(self) -> ReplaySpec:
        data = self.cleaned_data
        config: dict[str, Any] = {}
        if data["evaluator"] == "similarity":
            config["metric"] = data.get("similarity_metric") or "lexical"
        if data["evaluator"] == "json" and data.get("json_schema"):
            config["schema"] = data["json_schema"]
        size = data.get("sample_size")
        return ReplaySpec(
            endpoint=data["endpoint"],
            candidates=tuple(parse_option(v) for v in data["candidates"]),
            evaluator=data["evaluator"],
            evaluator_config=config,
            judge=parse_option(data["judge"]) if data.get("judge") else None,
            confidence=float(data["confidence"]),
            margin=float(data["margin"]),
            sample_size=size,
            spend_cap_nano=_usd_to_nano(data["spend_cap_usd"]),
        )


class ConnectionForm(forms.Form):
    provider = forms.CharField(
        max_length=64, help_text="The catalogue's provider: openai, anthropic, google, together, groq, …"
    )
    api = forms.ChoiceField(choices=ProviderApi.choices, label="Wire format")
    base_url = forms.URLField(
        required=False, assume_scheme="https", help_text="Empty: the provider's own API."
    )
    api_key = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted, never shown again. Empty keeps the stored key.",
    )
    max_concurrency = forms.IntegerField(min_value=1, max_value=256, initial=8)
    requests_per_minute = forms.IntegerField(min_value=1, max_value=1_000_000, initial=600)
    timeout_s = forms.IntegerField(min_value=1, max_value=600, initial=60, label="Timeout (s)")


class ScheduleForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Replay again on its own")
    on_price_change = forms.BooleanField(required=False, label="When a price changes")
    on_new_model = forms.BooleanField(required=False, label="When a cheaper model joins the catalogue")
    on_drift = forms.BooleanField(required=False, label="When traffic drifts")
    drift_threshold = forms.FloatField(min_value=0.01, max_value=10, label="Drift threshold (share)")
    monthly_budget_usd = forms.DecimalField(
        min_value=Decimal(0), max_digits=14, decimal_places=2, label="Monthly budget (USD)"
    )
    job_spend_cap_usd = forms.DecimalField(
        min_value=Decimal(0), max_digits=14, decimal_places=4, label="Cap per job (USD)"
    )

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "enabled": data["enabled"],
            "on_price_change": data["on_price_change"],
            "on_new_model": data["on_new_model"],
            "on_drift": data["on_drift"],
            "drift_threshold": data["drift_threshold"],
            "monthly_budget_nano": _usd_to_nano(data["monthly_budget_usd"]),
            "job_spend_cap_nano": _usd_to_nano(data["job_spend_cap_usd"]),
        }
