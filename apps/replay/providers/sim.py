"""The `sim` provider: deterministic, offline, and labelled "simulated" wherever it appears.

It stands in for a real model so the demo (and anyone without provider keys) can run a replay
end to end. It never calls anything: a candidate "answers" with the app's own answer when a
hash of (model, prompt) falls under the model's simulated skill, and with a degraded copy of it
otherwise (a JSON field changed, a number off, a label lost, prose cut short).

Its tokens are what a model of its class would spend on that request, so a simulated replay's
costs and savings sit where the price ratios put them: it reads the whole prompt the app sent
(the call's recorded input tokens, cache included) and answers at a length scaled from the app's
own recorded answer (its output tokens, not the captured text, which may be short or redacted):
0.5–0.9× for nano / lite / tiny / 1–8B models, 0.7–1.0× for mini / haiku / flash / small ones,
0.85–1.1× for large ones, a ratio fixed per (model, prompt); never past the request's max_tokens.
Without the recorded usage (a request not planned by a replay) tokens are estimated from the
text, 4 characters each. Priced as the real model would be. As a judge it prefers the answer
closer to the app's.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

from apps.pricing.cost import Usage
from apps.replay.evaluators.judge import split_judge_prompt
from apps.replay.evaluators.similarity import lexical_similarity
from apps.replay.providers.base import DEFAULT_MAX_TOKENS, Adapter, ChatRequest, Completion

SIM = "sim"
# (pattern on the model name, simulated skill, answer length as a share of the app's): skill is
# the share of prompts answered as the app did; the length ratio is drawn in that range.
_CLASSES: tuple[tuple[re.Pattern[str], float, tuple[float, float]], ...] = tuple(
    (re.compile(p, re.I), s, lengths)
    for p, s, lengths in (
        (r"nano|lite|gemma|[^0-9][1-8]b\b|instant|tiny", 0.78, (0.5, 0.9)),
        (r"mini|haiku|flash|small|3\.5|turbo", 0.9, (0.7, 1.0)),
        (r"sonnet|pro|4o|4\.1|large|70b", 0.96, (0.85, 1.1)),
    )
)
_DEFAULT_LENGTHS = (0.7, 1.0)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _unit(*parts: str) -> float:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def skill(model: str) -> float:
    for pattern, value, _lengths in _CLASSES:
        if pattern.search(model):
            return value
    return 0.82 + 0.12 * _unit("skill", model)


def length_ratio(model: str, prompt: str) -> float:
    """How long the model answers this prompt, as a share of the app's own answer."""
    low, high = next(
        (lengths for pattern, _s, lengths in _CLASSES if pattern.search(model)), _DEFAULT_LENGTHS
    )
    return low + (high - low) * _unit("length", model, prompt)


def estimate_tokens(text: str) -> int:
    return max(1, math.ceil(len(text.encode("utf-8")) / 4))


def _change_leaf(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict):
        for key in value:
            changed, done = _change_leaf(value[key])
            if done:
                return {**value, key: changed}, True
        return value, False
    if isinstance(value, list):
        for i, item in enumerate(value):
            changed, done = _change_leaf(item)
            if done:
                return [*value[:i], changed, *value[i + 1 :]], True
        return value, False
    if isinstance(value, bool):
        return (not value), True
    if isinstance(value, int | float):
        return value + 1, True
    if isinstance(value, str):
        return value + " (approximately)", True
    return value, False


def degrade(reference: str, u: float) -> str:
    """A plausible worse answer: what a weaker model gets wrong, by the answer's shape."""
    text = reference.strip()
    if not text:
        return "I'm not sure."
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict | list):
        changed, done = _change_leaf(parsed)
        return json.dumps(changed if done else {}, ensure_ascii=False)
    if _NUMBER.fullmatch(text.replace(",", "")):
        return str(round(float(text.replace(",", "")) * (1.1 if u < 0.5 else 0.9) + 1, 2))
    words = text.split()
    if len(words) <= 4:
        return "unknown"
    keep = max(3, int(len(words) * (0.35 + 0.3 * u)))
    return " ".join(words[:keep])


class SimAdapter(Adapter):
    api = SIM
    simulated = True
    usage_format = "switchyard"

    def __init__(self, *, provider: str = SIM):
        self.provider = provider

    async def complete(self, request: ChatRequest, *, model: str) -> Completion:
        if request.purpose == "judge":
            return self._judge(request, model)
        prompt = request.prompt_text()
        u = _unit(model, prompt)
        reference = request.reference
        text = reference if u < skill(model) else degrade(reference, _unit("degrade", model, prompt))
        max_tokens = request.max_tokens or DEFAULT_MAX_TOKENS
        if len(text) > max_tokens * 4:
            text = text[: max_tokens * 4]
        recorded = request.reference_usage or Usage()  # zero: not recorded, estimated from the text
        estimated_prompt = estimate_tokens(request.all_text()) + 4 * len(request.messages)
        input_tokens = recorded.input_tokens or estimated_prompt
        output_tokens = (
            max(1, min(max_tokens, round(recorded.output_tokens * length_ratio(model, prompt))))
            if recorded.output_tokens
            else estimate_tokens(text)
        )
        speed = 5 + 15 * (1 - skill(model))  # ms per output token
        latency = int(120 + output_tokens * speed * (0.8 + 0.4 * _unit("latency", model, prompt)))
        return Completion(
            text=text,
            tool_calls=(),
            usage=Usage(input_tokens=input_tokens, output_tokens=output_tokens),
            latency_ms=latency,
            finish_reason="stop",
            model=model,
        )

    def _judge(self, request: ChatRequest, model: str) -> Completion:
        _question, a, b = split_judge_prompt(request.prompt_text())
        reference = request.reference
        s_a = lexical_similarity(a, reference) if reference else 0.5
        s_b = lexical_similarity(b, reference) if reference else 0.5
        p_a = round(0.5 + 0.5 * (s_a - s_b), 6)
        winner = "A" if p_a > 0.5 else "B" if p_a < 0.5 else "tie"
        text = json.dumps(
            {
                "winner": winner,
                "p_a": p_a,
                "rationale": "simulated judge: prefers the answer closer to what the app answered",
            }
        )
        return Completion(
            text=text,
            tool_calls=(),
            usage=Usage(
                input_tokens=estimate_tokens(request.all_text()), output_tokens=estimate_tokens(text)
            ),
            latency_ms=200,
            finish_reason="stop",
            model=model,
        )
