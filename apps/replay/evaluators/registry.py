"""The evaluators by name, what each needs, and the default inferred from an endpoint's traffic.

For an offline command (no Django database, no network): `infer_evaluator(samples)` → (kind, why)
from (request, the app's answer) pairs, and `score_answer(kind, request, baseline, candidate)` →
quality in [0, 1] or None, for every kind in OFFLINE_KINDS. `build_evaluator(kind, config)` gives
the evaluator itself; its `score(EvalInput)` returns the verdicts, the first the primary one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.core.errors import ApplicationError
from apps.replay.evaluators.base import EvalInput, Evaluator, EvaluatorUnavailable
from apps.replay.evaluators.choice import ChoiceMatch
from apps.replay.evaluators.exact import ExactMatch
from apps.replay.evaluators.feedback import FeedbackAgreement
from apps.replay.evaluators.infer import infer_evaluator
from apps.replay.evaluators.jsonval import JsonAgreement
from apps.replay.evaluators.judge import PairwiseJudge
from apps.replay.evaluators.numeric import NumericMatch
from apps.replay.evaluators.similarity import EmbeddingSimilarity, LexicalSimilarity
from apps.replay.providers.base import ChatRequest

KINDS: dict[str, str] = {
    "exact": "Exact / normalised match",
    "json": "JSON validity, schema and field agreement",
    "numeric": "Final number (####, 'the answer is', \\boxed{}, last number)",
    "choice": "Multiple-choice option (letter or option text)",
    "similarity": "Text similarity",
    "judge": "LLM judge (pairwise, both orders)",
    "feedback": "User feedback",
}
QUALITY_REFERENCE = {"judge": 0.5}
OFFLINE_KINDS = ("exact", "json", "numeric", "choice", "similarity")


def quality_reference(kind: str) -> float:
    return QUALITY_REFERENCE.get(kind, 1.0)


def build_evaluator(kind: str, config: dict[str, Any]) -> Evaluator:
    """The evaluator for a job (config as stored on it); ApplicationError when it cannot run."""
    if kind == "exact":
        return ExactMatch()
    if kind == "json":
        schema = config.get("schema")
        return JsonAgreement(
            schema=schema if isinstance(schema, dict) else None,
            tolerance=float(config.get("tolerance", 1e-6)),
        )
    if kind == "numeric":
        return NumericMatch(tolerance=float(config.get("tolerance", 1e-6)))
    if kind == "choice":
        return ChoiceMatch()
    if kind == "similarity":
        if config.get("metric") == "embedding":
            try:
                return EmbeddingSimilarity()
            except EvaluatorUnavailable as exc:
                raise ApplicationError(str(exc), field="evaluator") from exc
        return LexicalSimilarity()
    if kind == "judge":
        judge = config.get("judge") or {}
        if not judge.get("provider") or not judge.get("model"):
            raise ApplicationError("The judge needs a provider and a model", field="judge")
        return PairwiseJudge(
            provider=judge["provider"], model=judge["model"], simulated=bool(judge.get("simulated"))
        )
    if kind == "feedback":
        return FeedbackAgreement()
    raise ApplicationError(f"evaluator: must be one of {', '.join(KINDS)}, got {kind!r}", field="evaluator")


def score_answer(
    kind: str,
    request: ChatRequest,
    baseline: str,
    candidate: str,
    config: Mapping[str, Any] | None = None,
) -> float | None:
    """The quality in [0, 1] of `candidate` against the app's `baseline` answer to `request`, as a
    replay with evaluator `kind` would score it (None: cannot be scored, e.g. the app's answer has
    no number). Pure and offline; ValueError for the kinds that need a model or user feedback."""
    if kind not in OFFLINE_KINDS:
        raise ValueError(f"{kind} cannot score offline: it needs a model or user feedback")
    if (config or {}).get("metric") == "embedding":
        raise ValueError("similarity with embeddings cannot score offline here: it needs the model")
    evaluator = build_evaluator(kind, dict(config or {}))
    return evaluator.score(EvalInput(request, baseline, candidate))[0].score


__all__ = [
    "KINDS",
    "OFFLINE_KINDS",
    "build_evaluator",
    "infer_evaluator",
    "quality_reference",
    "score_answer",
]
