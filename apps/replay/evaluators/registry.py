"""The evaluators by name, what each needs, and the default inferred from an endpoint's traffic."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from apps.core.errors import ApplicationError
from apps.replay.evaluators.base import Evaluator, EvaluatorUnavailable
from apps.replay.evaluators.exact import ExactMatch
from apps.replay.evaluators.feedback import FeedbackAgreement
from apps.replay.evaluators.jsonval import JsonAgreement, parse_json
from apps.replay.evaluators.judge import PairwiseJudge
from apps.replay.evaluators.numeric import NumericMatch, final_number
from apps.replay.evaluators.similarity import EmbeddingSimilarity, LexicalSimilarity
from apps.replay.providers.base import ChatRequest

KINDS: dict[str, str] = {
    "exact": "Exact / normalised match",
    "json": "JSON validity, schema and field agreement",
    "numeric": "Numeric answer match",
    "similarity": "Text similarity",
    "judge": "LLM judge (pairwise, both orders)",
    "feedback": "User feedback",
}
QUALITY_REFERENCE = {"judge": 0.5}
INFER_SHARE = 0.8
_NUMBER_ONLY = re.compile(r"^[^\w]*[-+]?\$?\d[\d,]*(?:\.\d+)?%?[^\w]*$")


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


def infer_evaluator(samples: Sequence[tuple[ChatRequest, str]]) -> tuple[str, str]:
    """(kind, why) from sampled (request, the app's answer) pairs.

    JSON outputs → JSON checks; numbers → numeric match; short labels → exact match; prose → judge.
    """
    if not samples:
        return "judge", "no samples to look at: the LLM judge handles any answer"
    n = len(samples)

    def share(test: Any) -> float:
        return sum(1 for s in samples if test(*s)) / n

    def is_json(request: ChatRequest, answer: str) -> bool:
        if request.json_mode or request.json_schema:
            return True
        try:
            return isinstance(parse_json(answer), dict | list)
        except ValueError:
            return False

    json_share = share(is_json)
    if json_share >= INFER_SHARE:
        return "json", f"{json_share:.0%} of the app's answers are JSON: JSON validity and field agreement"
    numeric = share(
        lambda r, a: (
            bool(_NUMBER_ONLY.match(a.strip())) or (len(a.split()) <= 6 and final_number(a) is not None)
        )
    )
    if numeric >= INFER_SHARE:
        return "numeric", f"{numeric:.0%} of the app's answers are numbers: numeric match"
    short = [a.strip() for _, a in samples if a.strip() and len(a.split()) <= 4 and len(a) <= 40]
    distinct = len({s.casefold() for s in short})
    if len(short) / n >= INFER_SHARE and distinct <= max(20, len(short) // 2):
        return (
            "exact",
            f"{len(short) / n:.0%} of the app's answers are short labels ({distinct} distinct): exact match",
        )
    return "judge", "the app's answers are free text: a pairwise LLM judge compares them"


__all__ = ["KINDS", "build_evaluator", "infer_evaluator", "quality_reference"]
