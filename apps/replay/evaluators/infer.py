"""The evaluator an endpoint's traffic calls for, chosen from the shapes of the app's answers (and
the requests), with the shares it saw. Pure: no Django, no network.

In order, each needing 80 % of the sampled calls: answers that are JSON (or requests that ask for
JSON) → JSON checks; requests that list lettered options and answers that pick one (or answers
that are a single letter) → multiple-choice option match; answers that end in a final number
(`####`, `\\boxed{}`, "the answer is", "Answer:", a bare number, or a worked answer with
arithmetic whose last sentence states a number) → final-number match; short labels → exact
match; anything else (prose) → the pairwise LLM judge.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from apps.replay.evaluators.answers import number_shape, read_choice
from apps.replay.evaluators.choice import request_options
from apps.replay.evaluators.jsonval import parse_json
from apps.replay.providers.base import ChatRequest

INFER_SHARE = 0.8


def _pct(share: float) -> str:
    return f"{round(share * 100)} %"


def _breakdown(counts: Counter[str], n: int) -> str:
    return ", ".join(f"{how} {_pct(count / n)}" for how, count in counts.most_common(3))


def _is_json(request: ChatRequest, answer: str) -> bool:
    if request.json_mode or request.json_schema:
        return True
    try:
        return isinstance(parse_json(answer), dict | list)
    except ValueError:
        return False


def _is_label(answer: str) -> bool:
    text = answer.strip()
    return bool(text) and len(text.split()) <= 4 and len(text) <= 40


def infer_evaluator(samples: Sequence[tuple[ChatRequest, str]]) -> tuple[str, str]:
    """(kind, why) from sampled (request, the app's answer) pairs."""
    if not samples:
        return "judge", "no samples to look at: the LLM judge handles any answer"
    n = len(samples)
    json_share = sum(_is_json(r, a) for r, a in samples) / n
    if json_share >= INFER_SHARE:
        return (
            "json",
            f"{_pct(json_share)} of the app's answers are JSON (or asked for): JSON validity and field agreement",
        )

    options = [request_options(r) for r, _ in samples]
    listed = sum(1 for o in options if o) / n
    picks: Counter[str] = Counter()
    for found, (_, answer) in zip(options, samples, strict=True):
        reading = read_choice(answer, found)
        if reading is not None and (found or reading.how == "the whole answer"):
            picks[reading.how] += 1
    pick_share = sum(picks.values()) / n
    letters_only = picks["the whole answer"] / n
    if pick_share >= INFER_SHARE and (listed >= INFER_SHARE or letters_only >= INFER_SHARE):
        return "choice", (
            f"{_pct(listed)} of the requests list lettered options and {_pct(pick_share)} of the app's answers "
            f"pick one ({_breakdown(picks, n)}): multiple-choice option match"
        )

    shapes = Counter(shape for _, a in samples if (shape := number_shape(a)) is not None)
    number_share = sum(shapes.values()) / n
    if number_share >= INFER_SHARE:
        return "numeric", (
            f"{_pct(number_share)} of the app's answers end in a final number ({_breakdown(shapes, n)}): "
            "final-number match"
        )

    labels = [a.strip().casefold() for _, a in samples if _is_label(a)]
    distinct = len(set(labels))
    if len(labels) / n >= INFER_SHARE and distinct <= max(20, len(labels) // 2):
        return (
            "exact",
            f"{_pct(len(labels) / n)} of the app's answers are short labels ({distinct} distinct): exact match",
        )
    return "judge", (
        f"the app's answers are free text ({_pct(number_share)} end in a final number, {_pct(pick_share)} pick an "
        f"option, {_pct(json_share)} JSON, {_pct(len(labels) / n)} short labels): a pairwise LLM judge compares them"
    )
