"""`manage.py evaluate_routing`: the instrument behind every claim about the advice.

It estimates on a random half of each endpoint's groups and scores what would have shipped on the
other half. The shared AlpacaEval set is read from ../shared/data/routing-eval/ (tests may read it;
the product never does); the other sets come from bench/synthetic_routing.py, drawn from stated
generative models so their truth is known.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from apps.policies.evaluation import dataset
from apps.policies.evaluation.harness import cost_items, split_groups
from bench.synthetic_routing import write

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "routing-eval" / "v1"
REQUIRED = (
    "lower_bound_held",
    "savings_interval_covered",
    "recommended_share",
    "realised_savings",
    "realised_retention",
    "learned_gap_share_mean",
    "learned_gap_share_sd",
)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write(tmp_path_factory.mktemp("routing-eval"))


def _run(*args: str) -> tuple[dict[str, Any], str]:
    out = StringIO()
    call_command("evaluate_routing", *args, "--jobs", "1", stdout=out)
    text = out.getvalue()
    return json.loads(text.strip().splitlines()[-1]), text


@pytest.mark.slow
def test_claimed_bounds_hold_out_of_sample(shown: Callable[[str], None], synthetic: dict[str, Path]) -> None:
    """Finding 4 of the advice issue: estimated on one half and checked on the other, the claimed
    retention lower bound sat above what was realised, and the savings interval missed. The
    estimator before this change gave, on these very runs: AlpacaEval 70 of 80 bounds held
    (0.875); synthetic worked maths (auto evaluator) 12 of 20 savings intervals covered (0.60)."""
    alpaca, _ = _run(str(SHARED / "alpaca_eval.jsonl"), "--splits", "20")
    maths, _ = _run(str(synthetic["maths"]), "--splits", "20", "--evaluator", "auto")
    for name, found in (("alpaca_eval labels", alpaca), ("synthetic maths auto", maths)):
        shown(
            f"{name}: recommended {found['recommended_pairs']}/{found['pairs']}, lower bound held "
            f"{found['lower_bound_held']:.2f}, savings covered {found['savings_interval_covered']:.2f}"
        )
    for found in (alpaca, maths):
        assert found["lower_bound_held"] >= 0.9 and found["savings_interval_covered"] >= 0.9
    assert maths["recommended_pairs"] >= 5  # it still recommends where the evidence allows
    assert maths["evaluator_agreement"] >= 0.9  # final-number match read the worked answers


def test_one_json_line_last_with_every_promised_key(synthetic: dict[str, Path]) -> None:
    found, text = _run(str(synthetic["choice"]), "--splits", "3")
    assert text.splitlines()[0].startswith("endpoint")  # the person's table comes first
    for key in REQUIRED:
        assert key in found, key
        assert found[key] is not None
    for key in ("lower_bound_held", "savings_interval_covered", "recommended_share", "realised_savings"):
        assert 0.0 <= found[key] <= 1.0, (key, found[key])
    assert found["splits"] == 3 and found["endpoints"] == 4 and found["pairs"] == 12
    assert set(found["per_endpoint"]) == {"below", "near", "above", "mixed"}
    again, _ = _run(str(synthetic["choice"]), "--splits", "3")
    assert again == found  # seeded: the same file and flags give the same figures


def test_splits_keep_every_group_whole(synthetic: dict[str, Path]) -> None:
    items = dataset.read_items(synthetic["chat"])
    price = dataset.file_pricer(dataset.read_litellm_prices(synthetic["chat"].parent / "prices.json"))
    costed, unpriced = cost_items(items, price)
    assert not unpriced and len({c.item.group for c in costed}) == 80  # two turns per conversation
    sizes = []
    for split in range(5):
        train, test = split_groups(costed, endpoint="chat", split=split, seed=0)
        assert not {c.item.group for c in train} & {c.item.group for c in test}
        sizes.append(len(train))
    assert sizes == [80] * 5  # 40 whole conversations each time, a different 40 per split
    found, _ = _run(str(synthetic["chat"]), "--splits", "2")
    # 40 conversations of evidence is too little to promise anything, and it says so
    assert found["recommended_share"] == 0 and found["declined_for_evidence"] == 2
    # folds (bench/router.py --folds): every conversation held out by exactly one of them, whole
    held_out = []
    for k in range(5):
        train, test = split_groups(costed, endpoint="chat", split=0, seed=0, fold=(k, 5))
        assert not {c.item.group for c in train} & {c.item.group for c in test}
        assert len(train) + len(test) == len(costed)
        held_out += [c.item.group for c in test]
    assert sorted(set(held_out)) == sorted({c.item.group for c in costed})
    assert len(held_out) == len(costed)  # no group held out twice: 16 of the 80 in each fold


def test_a_bad_line_is_refused_naming_it(tmp_path: Path, synthetic: dict[str, Path]) -> None:
    lines = synthetic["choice"].read_text().splitlines()[:5]
    broken = json.loads(lines[2])
    broken["candidates"]["small-model"]["score"] = 1.5
    lines[2] = json.dumps(broken)
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        CommandError, match=r"line 3\.candidates\.small-model\.score: must be a number in \[0, 1\]"
    ):
        _run(str(path))
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(CommandError, match="line 1: not JSON"):
        _run(str(tmp_path / "bad.jsonl"))


def test_a_model_without_a_price_is_reported(tmp_path: Path, synthetic: dict[str, Path]) -> None:
    prices = json.loads((synthetic["choice"].parent / "prices.json").read_text())
    del prices["small-model"]
    (tmp_path / "prices.json").write_text(json.dumps(prices))
    (tmp_path / "set.jsonl").write_text(synthetic["choice"].read_text())
    found, _ = _run(str(tmp_path / "set.jsonl"), "--splits", "1")
    assert found["skipped_endpoints"] == {"model small-model": "no price"}
    assert found["recommended_share"] == 0


def test_auto_needs_the_answers(tmp_path: Path) -> None:
    """MMLU-style data records only verdicts: the automatic evaluator has nothing to read."""
    rows = [json.loads(line) for line in (SHARED / "mmlu.jsonl").read_text().splitlines()[:150]]
    path = tmp_path / "verdicts.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "prices.json").write_text((SHARED / "prices.json").read_text())
    found, text = _run(str(path), "--splits", "1", "--evaluator", "auto")
    assert "skipped abstract_algebra: 50 of 50 items record no baseline output" in text
    assert found["pairs"] == 0 and np.isclose(found["lower_bound_held"], 1.0)
