"""Evaluators that read answers as people do: the final number of a worked answer, the option a
multiple-choice answer picks, and the automatic choice of evaluator from the answers' shapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from apps.replay.evaluators.base import EvalInput
from apps.replay.evaluators.numeric import NumericMatch, final_number
from apps.replay.evaluators.registry import KINDS, build_evaluator, infer_evaluator, score_answer
from apps.replay.providers.base import ChatRequest, Message
from apps.replay.providers.translate import parse_request
from tests.replay import answer_fixtures

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data" / "routing-eval" / "v1"
ASK = ChatRequest(system="", messages=(Message("user", "How much does she make a day?"),))
MC = ChatRequest(
    system="",
    messages=(
        Message("user", "Which planet is closest to the Sun?\nA. Venus\nB. Earth\nC. Mercury\nD. Mars"),
    ),
)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("She sells 16 - 3 - 4 = 9 eggs, so she makes $18 a day.\n#### 18", 18),
        (
            "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = $<<9*2=18>>18.\n#### 18",
            18,
        ),
        ("9 × 2 = 18, so the answer is 18. (Check: 18 / 2 = 9.)", 18),
        ("The answer is $1,234.50, before tax of 8%.", 1234.5),
        ("We get $x = \\boxed{\\frac{9}{2}}$ and nothing else matters for 3 steps.", 4.5),
        ("\\boxed{18\\text{ dollars}}", 18),
        ("**Final answer:** $2,125", 2125),
        ("Answer: 42\n\nI hope this helps with your 3 questions!", 42),
        ("Total: 91 + 45 = 136", 136),
        ("She has 3 apples and buys 4 more, so she has 7 apples.", 7),
        ("She plants 136 flowers in total (91 tulips and 45 daffodils).", 136),
        ("Multiply: 6 × 3/4 = 4 1/2 cups of sugar.", 4.5),
        ("That is 5/12 of the pizza.", 5 / 12),
        ("It was −5 °C at midnight.", -5),
        ("The price dropped by 16%.", 16),
        ("The total comes to $100.00.", 100),
        ("no number here", None),
    ],
)
def test_final_number_of_worked_answers(text: str, number: float | None) -> None:
    got = final_number(text)
    assert got == pytest.approx(number) if number is not None else got is None


def test_numeric_verdict_says_how_it_read_both_answers() -> None:
    verdict = NumericMatch().score(EvalInput(ASK, "9 * 2 = 18\n#### 18", "She makes $18.00 a day."))[0]
    assert verdict.score == 1.0
    assert "####" in verdict.rationale and "last number" in verdict.rationale
    wrong = NumericMatch().score(EvalInput(ASK, "The answer is 18.", "\\boxed{16}"))[0]
    assert wrong.score == 0.0 and "\\boxed" in wrong.rationale


@pytest.mark.parametrize(
    ("answer", "letter"),
    [
        ("C", "C"),
        ("(C)", "C"),
        ("C.", "C"),
        ("c", "C"),
        ("**C**", "C"),
        ("C) Mercury", "C"),
        ("C. Mercury", "C"),
        ("The answer is C.", "C"),
        ("Answer: C", "C"),
        ("Mercury is closest, so the correct option is (C).", "C"),
        ("\\boxed{C}", "C"),
        ("Mercury", "C"),
        ("mercury.", "C"),
        ("Mercury (C)", "C"),
        ("Mercury orbits closest, so C.", "C"),
        ("The correct answer is: C) Mercury", "C"),
        ("I would choose C because Mercury has the smallest orbit.", "C"),
        ("C is correct: Mercury orbits at 0.39 AU.", "C"),
        ("The answer is A.", "A"),
        ("Venus", "A"),
        ("I am not sure.", None),
    ],
)
def test_choice_reads_the_option_an_answer_picks(answer: str, letter: str | None) -> None:
    evaluator = build_evaluator("choice", {})
    verdict = evaluator.score(EvalInput(MC, "C. Mercury", answer))[0]
    assert verdict.score == (1.0 if letter == "C" else 0.0)
    assert verdict.detail.get("got") == letter


def test_choice_without_options_reads_letters_only() -> None:
    evaluator = build_evaluator("choice", {})
    assert evaluator.score(EvalInput(ASK, "B", "The answer is (B)."))[0].score == 1.0
    assert evaluator.score(EvalInput(ASK, "no letter here", "B"))[0].score is None


def _maths_answers(style: str) -> list[str]:
    return [f"{n} × 2 = {2 * n}, so she makes ${2 * n} a day.\n{style.format(2 * n)}" for n in range(3, 23)]


@pytest.mark.parametrize("style", ["#### {}", "The answer is {}.", "\\boxed{{{}}}", "Answer: {}"])
def test_worked_answers_that_end_in_a_number_get_final_number_match(style: str) -> None:
    kind, why = infer_evaluator([(ASK, a) for a in _maths_answers(style)])
    assert kind == "numeric"
    assert "100 %" in why and "final number" in why


def test_worked_answers_without_a_marker_get_final_number_match() -> None:
    answers = [
        f"She sells 16 - 3 - {n} = {13 - n} eggs, so she makes ${2 * (13 - n)} every day." for n in range(10)
    ]
    kind, why = infer_evaluator([(ASK, a) for a in answers])
    assert kind == "numeric" and "last number" in why


def test_a_short_text_with_a_digit_is_not_a_number() -> None:
    answers = [
        "Room 12B is free",
        "Version 2 is better",
        "Room 4 is free",
        "Version 3 is better",
        "Room 7A is free",
    ]
    kind, _ = infer_evaluator([(ASK, a) for a in answers])
    assert kind == "exact"


def test_questions_listing_options_get_option_match() -> None:
    rows = answer_fixtures.rows("choice")
    kind, why = infer_evaluator(
        [(parse_request({"messages": r["messages"]}), r["baseline"]["output"]) for r in rows]
    )
    assert kind == "choice"
    assert "list lettered options" in why and "%" in why


def test_real_prose_endpoints_stay_on_the_judge() -> None:
    by_endpoint: dict[str, list[tuple[ChatRequest, str]]] = defaultdict(list)
    with (SHARED / "alpaca_eval.jsonl").open() as f:
        for line in f:
            row = json.loads(line)
            by_endpoint[row["endpoint"]].append(
                (parse_request({"messages": row["messages"]}), row["baseline"]["output"])
            )
    assert len(by_endpoint) == 5
    for endpoint, samples in by_endpoint.items():
        kind, why = infer_evaluator(samples)
        assert kind == "judge", (endpoint, why)
        assert "free text" in why


def test_real_multiple_choice_requests_get_option_match() -> None:
    """MMLU's recorded answers are one letter (the outputs themselves are not in the file)."""
    samples = []
    with (SHARED / "mmlu.jsonl").open() as f:
        for i, line in zip(range(200), f, strict=False):
            row = json.loads(line)
            samples.append((parse_request({"messages": row["messages"]}), "ABCD"[i % 4]))
    kind, why = infer_evaluator(samples)
    assert kind == "choice", why


@pytest.mark.parametrize(("fixture", "expected"), [("maths", "numeric"), ("choice", "choice")])
def test_the_chosen_evaluator_agrees_with_the_ground_truth(fixture: str, expected: str) -> None:
    rows = answer_fixtures.rows(fixture)
    requests = {r["id"]: parse_request({"messages": r["messages"]}) for r in rows}
    kind, _ = infer_evaluator([(requests[r["id"]], r["baseline"]["output"]) for r in rows])
    assert kind == expected
    verdicts = [
        (score_answer(kind, requests[r["id"]], r["baseline"]["output"], c["output"]), c["score"])
        for r in rows
        for c in r["candidates"].values()
    ]
    agree = sum(1 for got, truth in verdicts if got == truth) / len(verdicts)
    assert len(verdicts) >= 48 and agree >= 0.9, agree


def test_every_kind_has_a_label_and_scores_offline_except_the_model_based_ones() -> None:
    assert {"numeric", "choice", "exact", "json", "similarity", "judge", "feedback"} <= set(KINDS)
    same = {
        "numeric": "#### 4",
        "choice": "C. Mercury",
        "exact": "Mercury",
        "json": '{"a": 1}',
        "similarity": "hi",
    }
    for kind, answer in same.items():
        assert score_answer(kind, MC, answer, answer) == 1.0, kind
    assert score_answer("numeric", MC, "no number", "4") is None
    for kind in ("judge", "feedback"):
        with pytest.raises(ValueError, match=kind):
            score_answer(kind, MC, "C", "C")


def test_the_offline_api_needs_no_django() -> None:
    script = """
import sys
from apps.replay.evaluators.registry import infer_evaluator, score_answer
from apps.replay.providers.translate import parse_request
request = parse_request({"messages": [{"role": "user", "content": "2 + 2?"}]})
kind, why = infer_evaluator([(request, "2 + 2 = 4\\n#### 4")] * 5)
print(kind, score_answer(kind, request, "#### 4", "The answer is 4."), any(m.startswith("django") for m in sys.modules))
"""
    env: dict[str, Any] = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["numeric", "1.0", "False"]
