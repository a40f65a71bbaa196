"""Final-number match for worked answers: the number each answer commits to, equal within a
relative tolerance. How a number is read (`####`, `\\boxed{}`, "the answer is", "Answer:", the
last number; `$`, commas, `%`, fractions) is apps.replay.evaluators.answers.read_number."""

from __future__ import annotations

import math

from apps.replay.evaluators.answers import Reading, read_number
from apps.replay.evaluators.base import EvalInput, Evaluator, Verdict


def final_number(text: str) -> float | None:
    """The number an answer commits to, or None."""
    reading = read_number(text)
    return reading.number if reading is not None else None


def _said(reading: Reading) -> str:
    return f"{reading.number:g} ({reading.how})"


class NumericMatch(Evaluator):
    name = "numeric"
    label = "Final number match"

    def __init__(self, *, tolerance: float = 1e-6):
        self.tolerance = tolerance

    def score(self, item: EvalInput) -> list[Verdict]:
        want = read_number(item.baseline)
        got = read_number(item.candidate)
        if want is None:
            return [Verdict("numeric", None, "the app's answer has no number to compare")]
        if got is None:
            return [Verdict("numeric", 0.0, f"no number in the answer (the app's is {_said(want)})")]
        ok = math.isclose(got.number, want.number, rel_tol=self.tolerance, abs_tol=1e-9)
        why = f"{_said(got)} {'matches' if ok else 'differs from'} the app's {_said(want)}"
        detail = {"expected": want.number, "got": got.number, "read_as": got.how, "app_read_as": want.how}
        return [Verdict("numeric", 1.0 if ok else 0.0, why, detail)]
