"""Model lifecycle in the catalogue: deprecation and retirement dates and successors, from price files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from apps.pricing.catalogue import SEED_FILE, prices_import_file
from apps.pricing.models import LlmModel
from apps.pricing.price_plan import PriceFileError
from apps.pricing.selectors import model_lifecycles

pytestmark = pytest.mark.django_db


def _file(tmp_path: Path, models: list[dict[str, object]]) -> Path:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "format": "switchyard-prices",
                "version": 1,
                "currency": "USD",
                "providers": [{"slug": "acme", "name": "Acme AI"}],
                "models": models,
            },
            indent=1,
        )
    )
    return path


def _model(name: str, **lifecycle: object) -> dict[str, object]:
    price = {"effective_from": "2025-01-01", "input": "1", "output": "2"}
    return {"provider": "acme", "name": name, "prices": [price], **lifecycle}


def test_seed_marks_superseded_and_retired_models() -> None:
    prices_import_file(SEED_FILE)
    found = {(x.provider, x.name): x for x in model_lifecycles(organization_id=None).values()}
    assert found[("openai", "gpt-4o")].successor_name == "gpt-4.1"
    retired = found[("anthropic", "claude-2.1")]
    assert (retired.deprecated_on, retired.retires_on) == (date(2025, 1, 21), date(2025, 7, 21))
    assert (retired.successor_provider, retired.successor_name) == ("anthropic", "claude-sonnet-4-5")
    assert ("openai", "gpt-4.1") not in found  # a current model has no lifecycle entry


def test_lifecycle_follows_the_file_and_a_second_import_changes_nothing(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        [_model("old", deprecated_on="2026-01-05", retires_on="2026-06-30", successor="new"), _model("new")],
    )
    prices_import_file(path)
    old = LlmModel.objects.get(name="old")
    assert (old.deprecated_on, old.retires_on, old.successor.name) == (
        date(2026, 1, 5),
        date(2026, 6, 30),
        "new",
    )
    assert not prices_import_file(path).changed
    # The file no longer says so: the stored lifecycle goes too.
    prices_import_file(_file(tmp_path, [_model("old"), _model("new")]))
    old.refresh_from_db()
    assert (old.deprecated_on, old.retires_on, old.successor) == (None, None, None)


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ([_model("old", successor="missing")], "'missing' is not a model of acme"),
        ([_model("old", successor="old")], "a model cannot succeed itself"),
        ([_model("old", deprecated_on="soon")], "deprecated_on: must be a date"),
    ],
)
def test_a_wrong_lifecycle_rejects_the_whole_file(
    tmp_path: Path, models: list[dict[str, object]], message: str
) -> None:
    with pytest.raises(PriceFileError, match=message):
        prices_import_file(_file(tmp_path, models))
    assert not LlmModel.objects.exists()
