"""manage.py import_prices: the seed file, LiteLLM's format, idempotency and all-or-nothing refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.pricing.catalogue import SEED_FILE, prices_import_file
from apps.pricing.cost import Usage
from apps.pricing.models import LlmModel, Price, Provider
from apps.pricing.price_file import parse_price_file
from apps.pricing.price_plan import PriceFileError
from apps.pricing.selectors import price_book_load

pytestmark = pytest.mark.django_db

LITELLM = Path(__file__).parent / "data" / "litellm_excerpt.json"
EVAL_README = Path(__file__).resolve().parents[3] / "shared" / "data" / "routing-eval" / "README.md"
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _counts() -> tuple[int, int, int]:
    return Provider.objects.count(), LlmModel.objects.count(), Price.objects.count()


def test_seed_file_loads_and_a_second_import_changes_nothing() -> None:
    first = prices_import_file(SEED_FILE)
    assert first.models_created >= 60 and first.prices_created >= first.models_created
    counts = _counts()
    updated = {p.pk: p.updated_at for p in Price.objects.all()}
    second = prices_import_file(SEED_FILE)
    assert not second.changed and second.prices_unchanged == first.prices_created
    assert _counts() == counts
    assert {p.pk: p.updated_at for p in Price.objects.all()} == updated


def test_every_seed_row_names_its_source_and_date() -> None:
    prices_import_file(SEED_FILE)
    assert not Price.objects.filter(source="").exists()
    assert not Price.objects.filter(source_date__isnull=True).exists()
    slugs = set(Provider.objects.values_list("slug", flat=True))
    assert {"openai", "anthropic", "google", "mistral", "together", "deepseek", "xai"} <= slugs


def test_seed_covers_the_routing_eval_models_at_the_listed_prices() -> None:
    prices_import_file(SEED_FILE)
    book = price_book_load(organization_id=None)
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    listed = {  # from the routing-eval README: USD per 1M tokens, input / output
        ("openai", "gpt-4-1106-preview"): 10 + 30,
        ("openai", "gpt-3.5-turbo-1106"): 1 + 2,
        ("bedrock", "claude-instant-1.2"): Decimal("0.80") + Decimal("2.40"),
        ("anthropic", "claude-2.1"): 8 + 24,
        ("together", "OpenHermes-2.5-Mistral-7B"): Decimal("0.40"),
        ("together", "Qwen-14B-Chat"): Decimal("0.60"),
        ("groq", "gemma-7b-it"): Decimal("0.14"),
    }
    if EVAL_README.exists():
        text = EVAL_README.read_text()
        assert all(model in text for _, model in listed)
    for (provider, model), usd in listed.items():
        result = book.cost(provider=provider, model=model, ts=NOW, usage=usage)
        assert result is not None, model
        assert result.nano_usd == int(Decimal(usd) * 1_000_000_000), model


def test_seed_resolves_dated_ids_aliases_and_prefixes() -> None:
    prices_import_file(SEED_FILE)
    book = price_book_load(organization_id=None)
    assert book.resolve("openai", "gpt-4o-2024-08-06") is not None
    assert book.resolve("openai", "openai/gpt-4o") == book.resolve("openai", "gpt-4o")
    assert book.resolve("openrouter", "anthropic/claude-sonnet-4-5") == book.resolve(
        "anthropic", "claude-sonnet-4-5"
    )
    assert book.resolve("anthropic", "claude-sonnet-4-5-20250929") == book.resolve(
        "anthropic", "claude-sonnet-4-5"
    )
    assert book.resolve("gemini", "models/gemini-2.5-pro") == book.resolve("google", "gemini-2.5-pro")
    assert book.resolve("", "gpt-4.1-mini-2025-04-14") == book.resolve("openai", "gpt-4.1-mini")


def test_seed_keeps_real_price_history() -> None:
    prices_import_file(SEED_FILE)
    book = price_book_load(organization_id=None)
    usage = Usage(input_tokens=1_000_000)
    # gpt-4o was $5/M input until the alias moved to gpt-4o-2024-08-06 on 2024-10-02, then $2.50/M.
    before = book.cost(provider="openai", model="gpt-4o", ts=datetime(2024, 9, 1, tzinfo=UTC), usage=usage)
    after = book.cost(provider="openai", model="gpt-4o", ts=datetime(2024, 10, 3, tzinfo=UTC), usage=usage)
    assert before is not None and after is not None
    assert (before.nano_usd, after.nano_usd) == (5_000_000_000, 2_500_000_000)


def test_litellm_file_imports_tiers_cache_and_long_context() -> None:
    report = prices_import_file(LITELLM)
    assert report.format == "litellm"
    assert any("aiml/dall-e-3" in note for note in report.skipped)  # an image model: not token-priced
    sonnet = Price.objects.get(
        model__provider__slug="anthropic", model__name="claude-sonnet-4-5", tier="standard"
    )
    assert sonnet.input == Decimal("0.000003") and sonnet.cached_input == Decimal("3E-7")
    assert sonnet.cache_write == Decimal("0.00000375") and sonnet.cache_write_1h == Decimal("0.000006")
    assert Price.objects.filter(model=sonnet.model, tier="batch").exists()
    gemini = Price.objects.get(model__provider__slug="google", model__name="gemini-2.5-pro", tier="standard")
    assert gemini.long_context_threshold == 200_000 and gemini.input_long == Decimal("0.0000025")
    assert Provider.objects.get(slug="google").output_includes_reasoning is False
    assert Provider.objects.get(slug="anthropic").input_includes_cached is False
    # LiteLLM's float noise (2.9999900000000002e-06) is rounded to whole atto-USD per token.
    noisy = Price.objects.get(model__name="databricks-claude-sonnet-4-1", tier="standard")
    assert noisy.input == Decimal("0.000002999990000000")
    # A LiteLLM model's first price counts from the start of time: older calls are priced too.
    assert sonnet.effective_from == datetime(1970, 1, 1, tzinfo=UTC)
    assert not prices_import_file(LITELLM).changed


def test_litellm_price_change_starts_a_new_row_and_keeps_history(tmp_path: Path) -> None:
    prices_import_file(LITELLM)
    data = json.loads(LITELLM.read_text())
    data["gpt-4o"]["input_cost_per_token"] = 2e-06
    changed = tmp_path / "litellm.json"
    changed.write_text(json.dumps(data))
    report = prices_import_file(changed, since=datetime(2026, 6, 1, tzinfo=UTC))
    assert report.prices_created == 1 and report.prices_updated == 0
    rows = list(
        Price.objects.filter(model__name="gpt-4o", model__provider__slug="openai", tier="standard").order_by(
            "effective_from"
        )
    )
    assert [r.input for r in rows] == [Decimal("0.0000025"), Decimal("0.000002")]


def test_command_loads_the_seed_file_by_default() -> None:
    call_command("import_prices", verbosity=0)
    assert Price.objects.count() > 100


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.json"
    path.write_text(text)
    return path


GOOD_MODEL = '{"provider": "openai", "name": "ok-model", "prices": [{"effective_from": "2025-01-01", "input": "1", "output": "2"}]}'


def _native(models: str) -> str:
    return (
        '{"format": "switchyard-prices", "version": 1, "currency": "USD",\n'
        ' "providers": [{"slug": "openai", "name": "OpenAI"}],\n'
        f' "models": [\n  {GOOD_MODEL},\n  {models}\n ]\n}}\n'
    )


@pytest.mark.parametrize(
    ("models", "message"),
    [
        (
            '{"provider": "openai", "name": "m", "prices": [{"effective_from": "2025-01-01", "input": "-1", "output": "2"}]}',
            "line 5: models[1].prices[0].input: must be >= 0, got -1",
        ),
        (
            '{"provider": "openai", "name": "m", "prices": [{"effective_from": "2025-01-01", "input": "cheap", "output": "2"}]}',
            "line 5: models[1].prices[0].input: must be a number, got 'cheap'",
        ),
        (
            '{"provider": "openai", "name": "m", "prices": [{"effective_from": "2025-01-01", "currency": "EUR", "input": "1", "output": "2"}]}',
            "line 5: models[1].prices[0].currency: unknown currency 'EUR'",
        ),
        (
            '{"provider": "openai", "name": "m", "prices": [{"effective_from": "2025-01-01", "input": "1", "output": "2"}, '
            '{"effective_from": "2025-01-01T00:00:00Z", "input": "3", "output": "4"}]}',
            "line 5: models[1].prices[1].effective_from: overlaps the standard price on line 5",
        ),
        (
            '{"provider": "openai", "name": "m", "prices": [{"effective_from": "2025-01-01", "input": "1", "output": "2", "cache_read": "1"}]}',
            "line 5: models[1].prices[0]: unknown field 'cache_read'",
        ),
        ('{"provider": "openai", "name": "m", "prices": [}', "line 5: not valid JSON"),
    ],
)
def test_a_malformed_file_is_rejected_whole_with_its_line(tmp_path: Path, models: str, message: str) -> None:
    path = _write(tmp_path, _native(models))
    with pytest.raises(CommandError) as caught:
        call_command("import_prices", str(path), verbosity=0)
    assert message in str(caught.value) and "Nothing was imported" in str(caught.value)
    assert _counts() == (0, 0, 0)  # not even the good model on line 4


def test_litellm_errors_name_the_line_too(tmp_path: Path) -> None:
    data = json.loads(LITELLM.read_text())
    data["gpt-4o-mini"]["output_cost_per_token"] = "free"
    path = _write(tmp_path, json.dumps(data, indent=4))
    with pytest.raises(PriceFileError) as caught:
        parse_price_file(path.read_text())
    line = path.read_text().splitlines().index('    "gpt-4o-mini": {') + 1
    assert caught.value.message.startswith(f'line {line}: "gpt-4o-mini".output: must be a number')
