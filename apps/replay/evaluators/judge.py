"""LLM-as-judge, pairwise, asked in both orders so the judge's position bias cancels.

The judge model (any candidate-capable provider/model, configurable per endpoint) sees the
request and two answers, A and B, and replies with JSON: the winner and its probability that A is
the better answer. It is asked twice: candidate as A, then candidate as B. The candidate's
quality is the mean of P(candidate wins) over both orders, so a judge that always prefers the
first answer scores a tie; the baseline against itself scores 0.5 (`quality_reference`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from apps.replay.evaluators.base import EvalInput, Evaluator, JudgeCall, Verdict
from apps.replay.providers.base import ChatRequest, Message, ProviderError

JUDGE_MAX_TOKENS = 300
JUDGE_SYSTEM = (
    "You are an impartial judge. You compare two answers, A and B, to the same request and decide "
    "which one better serves the person who asked: correct, complete, helpful and following the "
    "request's instructions. Length is not quality. Reply with JSON only, no prose around it: "
    '{"winner": "A" | "B" | "tie", "p_a": <probability from 0 to 1 that A is the better answer>, '
    '"rationale": "<one short sentence>"}'
)
_BLOCK = re.compile(r"\[(QUESTION|ANSWER A|ANSWER B)\]\n(.*?)\n\[/\1\]", re.S)


def question_text(request: ChatRequest) -> str:
    """The request as the judge reads it: the user's text alone, or the whole transcript."""
    if not request.system and len(request.messages) == 1 and request.messages[0].role == "user":
        return request.messages[0].text
    lines = [f"System: {request.system}"] if request.system else []
    for m in request.messages:
        label = {"user": "User", "assistant": "Assistant", "tool": "Tool result"}.get(m.role, m.role)
        text = m.text or "; ".join(f"calls {c.name}({c.arguments})" for c in m.tool_calls)
        lines.append(f"{label}: {text}")
    return "\n".join(lines)


def judge_prompt(question: str, a: str, b: str) -> str:
    return (
        f"[QUESTION]\n{question}\n[/QUESTION]\n\n[ANSWER A]\n{a}\n[/ANSWER A]\n\n[ANSWER B]\n{b}\n[/ANSWER B]"
    )


def split_judge_prompt(text: str) -> tuple[str, str, str]:
    """(question, answer A, answer B) of a judge prompt (the sim judge and test fakes read it)."""
    found = {m.group(1): m.group(2) for m in _BLOCK.finditer(text)}
    return found.get("QUESTION", ""), found.get("ANSWER A", ""), found.get("ANSWER B", "")


def judge_request(item: EvalInput, a: str, b: str) -> ChatRequest:
    return ChatRequest(
        system=JUDGE_SYSTEM,
        messages=(Message("user", judge_prompt(question_text(item.request), a, b)),),
        json_mode=True,
        max_tokens=JUDGE_MAX_TOKENS,
        temperature=0.0,
        reference=item.baseline,
        purpose="judge",
    )


def read_verdict(text: str) -> tuple[float, str]:
    """(P(A is better), rationale) from the judge's reply; ValueError when unreadable."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("no JSON object in the judge's reply")
    data: Any = json.loads(text[start : end + 1])
    if not isinstance(data, dict):
        raise ValueError("the judge's reply is not a JSON object")
    rationale = str(data.get("rationale") or "")[:500]
    p = data.get("p_a")
    if isinstance(p, int | float) and not isinstance(p, bool) and 0.0 <= p <= 1.0:
        return float(p), rationale
    winner = str(data.get("winner") or "").strip().upper()
    if winner in ("A", "B", "TIE"):
        return {"A": 1.0, "B": 0.0, "TIE": 0.5}[winner], rationale
    raise ValueError("the judge named no winner")


class PairwiseJudge(Evaluator):
    name = "judge"
    label = "LLM judge (pairwise, both orders)"
    quality_reference = 0.5
    uses_judge = True

    def __init__(self, *, provider: str, model: str, simulated: bool = False):
        self.provider = provider
        self.model = model
        self.simulated = simulated

    @property
    def judge_key(self) -> str:
        return f"{self.provider}/{self.model}"

    async def evaluate(self, item: EvalInput, judge: JudgeCall | None) -> list[Verdict]:
        if judge is None:
            raise RuntimeError("the judge evaluator needs a judge")
        try:
            first = await judge(judge_request(item, item.candidate, item.baseline))
            p_first, why_first = read_verdict(first.text)
            second = await judge(judge_request(item, item.baseline, item.candidate))
            p_second, why_second = read_verdict(second.text)
        except ValueError as exc:
            return [
                Verdict(
                    "judge", None, f"the judge's reply could not be read: {exc}", {"judge": self.judge_key}
                )
            ]
        except ProviderError as exc:
            return [Verdict("judge", None, f"the judge failed: {exc}", {"judge": self.judge_key})]
        as_a, as_b = p_first, 1.0 - p_second
        quality = round((as_a + as_b) / 2, 6)
        label = "simulated judge" if self.simulated else f"judge {self.judge_key}"
        why = (
            f"{label}: P(candidate better) {as_a:.2f} when shown first, {as_b:.2f} when shown second"
            f" → {quality:.2f} (0.50 = as good as the app's answer). {why_first}"
        ).strip()
        detail = {
            "judge": self.judge_key,
            "candidate_first": as_a,
            "candidate_second": as_b,
            "position_bias": round((p_first + p_second) / 2 - 0.5, 6),
        }
        return [
            Verdict("judge", quality, why, detail),
            Verdict("judge_candidate_first", as_a, why_first or "candidate shown as A"),
            Verdict("judge_candidate_second", as_b, why_second or "candidate shown as B"),
        ]
