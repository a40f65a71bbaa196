"""The cascade's checks in the SDK against the shared vectors (sdk/testdata/refusal_vectors.json).

The server's copy (apps/replay/evaluators/checks.py) runs the same vectors in
tests/replay/test_checks.py, so a replay predicts what the cascade will escalate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from switchyard._cascade import failing_check

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parents[2] / "sdk" / "testdata" / "refusal_vectors.json").read_text()
)["cases"]


@pytest.mark.parametrize(
    "case", VECTORS, ids=lambda c: ("refusal: " if c["refusal"] else "answer: ") + c["text"][:50]
)
def test_refusal_check_matches_the_shared_vectors(case: dict[str, Any]) -> None:
    expected = "refusal" if case["refusal"] else None
    assert failing_check(("refusal",), case["text"], False) == expected


def test_checks_run_in_the_policy_order() -> None:
    assert failing_check(("empty", "refusal"), "  ", False) == "empty"
    assert (
        failing_check(("refusal", "invalid_json"), "I'm sorry, but I can't help with that.", False)
        == "refusal"
    )
    assert failing_check(("invalid_json",), "I'm sorry, but I can't help with that.", False) == "invalid_json"
    assert (
        failing_check(("refusal",), "I apologize for the confusion. Here is the fix: use utf-8.", False)
        is None
    )
    assert failing_check(("refusal",), "Fine.", True) == "refusal"
    assert failing_check(("refusal", "invalid_json"), None, True) is None
