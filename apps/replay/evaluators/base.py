"""What every evaluator shares: its input, its verdicts, and the judge hook the engine provides.

An evaluator scores one candidate answer to one sampled call against the app's own (baseline)
answer. It returns verdicts, the first of which is the primary one: its `score` is the sample's
quality in [0, 1] (None when it cannot be scored) and `quality_reference` says what the baseline
itself would score (1.0, or 0.5 for a pairwise judge). Every verdict carries a rationale a person
can read in the per-sample viewer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from apps.replay.providers.base import ChatRequest, Completion

JudgeCall = Callable[[ChatRequest], Awaitable[Completion]]


class EvaluatorUnavailable(Exception):
    """An evaluator that cannot run here (e.g. the embeddings extra is not installed)."""


@dataclass(frozen=True)
class Verdict:
    evaluator: str
    score: float | None
    rationale: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "evaluator": self.evaluator,
            "score": self.score,
            "rationale": self.rationale,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class EvalInput:
    request: ChatRequest
    baseline: str  # what the app answered
    candidate: str  # what the candidate answered (text, or its tool calls as JSON)
    feedback: float | None = None  # the user's feedback on the app's answer, normalised to 0..1
    feedback_comment: str = ""


class Evaluator:
    name = ""
    label = ""
    quality_reference = 1.0
    uses_judge = False

    async def evaluate(self, item: EvalInput, judge: JudgeCall | None) -> list[Verdict]:
        return self.score(item)

    def score(self, item: EvalInput) -> list[Verdict]:
        raise NotImplementedError
