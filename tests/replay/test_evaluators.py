"""Evaluators, the default inferred from traffic, and the statistics behind the estimates."""

from __future__ import annotations

import asyncio
import json
import math

import pytest

from apps.core.errors import ApplicationError
from apps.replay import stats
from apps.replay.evaluators.base import EvalInput
from apps.replay.evaluators.exact import ExactMatch
from apps.replay.evaluators.feedback import FeedbackAgreement
from apps.replay.evaluators.jsonval import JsonAgreement
from apps.replay.evaluators.judge import PairwiseJudge, split_judge_prompt
from apps.replay.evaluators.numeric import NumericMatch, final_number
from apps.replay.evaluators.registry import build_evaluator, infer_evaluator
from apps.replay.evaluators.similarity import LexicalSimilarity, embeddings_available, lexical_similarity
from apps.replay.providers.base import ChatRequest, Completion, Message
from apps.replay.providers.sim import SimAdapter

REQ = ChatRequest(system="", messages=(Message("user", "Question?"),))


def _item(baseline: str, candidate: str, **kw: object) -> EvalInput:
    return EvalInput(REQ, baseline, candidate, **kw)  # type: ignore[arg-type]


def _score(evaluator: object, baseline: str, candidate: str, **kw: object) -> float | None:
    return asyncio.run(evaluator.evaluate(_item(baseline, candidate, **kw), None))[0].score  # type: ignore[attr-defined]


def test_exact_match_normalises_case_space_and_punctuation() -> None:
    assert _score(ExactMatch(), "Refund", "  refund. ") == 1.0
    assert _score(ExactMatch(), "Refund", "Exchange") == 0.0


def test_numeric_match_reads_the_committed_number() -> None:
    assert final_number("Step 1: 3, step 2: 4. The answer is 1,234.5 apples") == 1234.5
    assert final_number("so x = 7") == 7.0
    assert _score(NumericMatch(), "42", "The answer is 42.") == 1.0
    assert _score(NumericMatch(), "42", "41") == 0.0
    assert _score(NumericMatch(), "no number", "42") is None


def test_json_validity_schema_and_field_agreement() -> None:
    schema = {
        "type": "object",
        "required": ["label", "score"],
        "properties": {"score": {"type": "number", "maximum": 1}},
    }
    evaluator = JsonAgreement(schema=schema)
    base = json.dumps({"label": "spam", "score": 0.9, "tags": ["a", "b"]})
    assert _score(evaluator, base, base) == 1.0
    assert (
        _score(evaluator, base, '```json\n{"label": "SPAM", "score": 0.9, "tags": ["a", "c"]}\n```') == 0.75
    )
    assert _score(evaluator, base, '{"label": "spam"}') == 0.0  # breaks the schema
    assert _score(evaluator, base, "not json") == 0.0


def test_lexical_similarity_bounds() -> None:
    assert lexical_similarity("the cat sat", "the cat sat") == 1.0
    assert lexical_similarity("alpha beta", "gamma delta") == 0.0
    assert 0 < lexical_similarity("the cat sat on the mat", "the cat lay on the mat") < 1
    assert _score(LexicalSimilarity(), "", "") == 1.0


def test_feedback_scores_against_liked_answers_only() -> None:
    evaluator = FeedbackAgreement()
    assert _score(evaluator, "Ships tomorrow", "ships tomorrow!", feedback=1.0) == 1.0
    assert _score(evaluator, "Ships tomorrow", "anything", feedback=0.0) is None
    assert _score(evaluator, "Ships tomorrow", "anything") is None


def test_embedding_similarity_is_an_optional_extra() -> None:
    if embeddings_available():
        assert build_evaluator("similarity", {"metric": "embedding"}).name == "similarity"
    else:
        with pytest.raises(ApplicationError, match=r"switchyard\[embeddings\]"):
            build_evaluator("similarity", {"metric": "embedding"})


class _BiasedJudge:
    """Prefers answer A by 0.3 on top of the truth: P(candidate better) is 0.3 in truth."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    async def __call__(self, request: ChatRequest) -> Completion:
        text = request.messages[0].text
        self.prompts.append(text)
        _, a, _ = split_judge_prompt(text)
        p_a = (0.3 if a == "candidate answer" else 0.7) + 0.3
        return Completion(
            json.dumps({"winner": "A", "p_a": min(1.0, p_a), "rationale": "A reads better"}), (), None, 1
        )


def test_pairwise_judge_asks_both_orders_and_cancels_position_bias() -> None:
    judge = _BiasedJudge()
    verdicts = asyncio.run(
        PairwiseJudge(provider="openai", model="gpt-4o").evaluate(
            _item("app answer", "candidate answer"), judge
        )
    )
    assert len(judge.prompts) == 2
    assert split_judge_prompt(judge.prompts[0])[1:] == ("candidate answer", "app answer")
    assert split_judge_prompt(judge.prompts[1])[1:] == ("app answer", "candidate answer")
    # First order: 0.6 for the candidate; second: 1 − 1.0 = 0.0 → mean 0.3, the truth.
    assert verdicts[0].score == pytest.approx(0.3) and verdicts[0].detail["position_bias"] == pytest.approx(
        0.3
    )
    assert "gpt-4o" in verdicts[0].rationale


def test_unreadable_judge_reply_leaves_the_sample_unscored() -> None:
    async def judge(request: ChatRequest) -> Completion:
        return Completion("I think A is nicer", (), None, 1)

    verdicts = asyncio.run(PairwiseJudge(provider="openai", model="gpt-4o").evaluate(_item("a", "b"), judge))
    assert verdicts[0].score is None and "could not be read" in verdicts[0].rationale


def test_the_simulated_judge_scores_identical_answers_as_a_tie() -> None:
    sim = SimAdapter()
    verdicts = asyncio.run(
        PairwiseJudge(provider="openai", model="gpt-4o", simulated=True).evaluate(
            _item("same words here", "same words here"), lambda r: sim.complete(r, model="gpt-4o")
        )
    )
    assert verdicts[0].score == 0.5 and "simulated judge" in verdicts[0].rationale


@pytest.mark.parametrize(
    ("answers", "kind"),
    [
        (['{"a": 1}', '{"a": 2}', '{"b": 1}', "[1]", '{"c": 3}'], "json"),
        (["42", "17", "3.5", "The answer is 8", "1,200"], "numeric"),
        (["refund", "exchange", "refund", "other", "Refund"], "exact"),
        (["Here is a long explanation of how to reset your password, step by step."] * 5, "judge"),
    ],
)
def test_default_evaluator_is_inferred_from_the_answers(answers: list[str], kind: str) -> None:
    inferred, why = infer_evaluator([(REQ, a) for a in answers])
    assert inferred == kind and why


def test_sample_size_from_confidence_and_margin() -> None:
    assert stats.sample_size(confidence=0.95, margin=0.05, population=1_000_000) == 385
    assert stats.sample_size(confidence=0.95, margin=0.05, population=200) == 132  # finite population
    assert stats.sample_size(confidence=0.95, margin=0.05, population=0) == 0
    assert stats.sample_size(confidence=0.99, margin=0.05, population=10**6) > 385


def test_wilson_interval_known_values_and_finite_population() -> None:
    low, high = stats.wilson(0.8, 100, confidence=0.95)
    assert (round(low, 4), round(high, 4)) == (0.7112, 0.8666)  # the textbook 80/100 interval
    assert stats.wilson(0.8, 100, confidence=0.95, population=100) == (0.8, 0.8)  # everyone sampled
    narrow = stats.wilson(0.8, 100, confidence=0.95, population=150)
    assert low < narrow[0] < 0.8 < narrow[1] < high


def test_bootstrap_interval_contains_the_mean_and_is_reproducible() -> None:
    values = [float(i % 7) for i in range(200)]
    mean, low, high = stats.bootstrap_mean(values, seed=3)
    assert low < mean < high and mean == pytest.approx(sum(values) / 200)
    assert stats.bootstrap_mean(values, seed=3) == (mean, low, high)
    se = math.sqrt(sum((v - mean) ** 2 for v in values) / 199 / 200)
    assert high - low == pytest.approx(2 * 1.96 * se, rel=0.15)
