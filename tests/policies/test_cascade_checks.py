"""Which cascade checks a recommendation ships: invalid JSON only where answers are meant to be JSON.

Replay tags an answer `invalid_json` only where JSON was meant (apps/replay/evaluators/checks.py),
so a prose endpoint's evidence carries no tags at all; the check must still stay off there, or
the SDK would escalate every prose answer.
"""

from __future__ import annotations

import dataclasses

from apps.routing import cascade
from apps.routing.evidence import EndpointEvidence
from tests.policies.factories import MINI, synthetic_evidence

WITH_JSON = ("empty", "refusal", "invalid_json")


def _with_outputs(text: str, *, evaluator: str = "judge") -> EndpointEvidence:
    evidence = synthetic_evidence(project_id=1, candidates={MINI: {}}, evaluator=evaluator)
    samples = [
        dataclasses.replace(
            s, candidates={k: dataclasses.replace(c, output=text) for k, c in s.candidates.items()}
        )
        for s in evidence.samples
    ]
    return dataclasses.replace(evidence, samples=samples)


def test_prose_answers_never_ship_the_invalid_json_check() -> None:
    assert cascade.cascade_checks(_with_outputs("It ships tomorrow.")) == ("empty", "refusal")
    assert cascade.cascade_checks(_with_outputs("")) == ("empty", "refusal")


def test_json_answers_ship_the_invalid_json_check() -> None:
    assert cascade.cascade_checks(_with_outputs('{"label": "refund"}')) == WITH_JSON
    assert cascade.cascade_checks(_with_outputs("```json\n[1, 2]\n```")) == WITH_JSON
    assert cascade.cascade_checks(_with_outputs("refund", evaluator="json")) == WITH_JSON
