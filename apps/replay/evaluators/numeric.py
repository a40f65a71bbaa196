"""Numeric answer match: the final number of each answer, equal within a relative tolerance."""

from __future__ import annotations

import math
import re

from apps.replay.evaluators.base import EvalInput, Evaluator, Verdict

_NUM = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?")
_ANSWER_IS = re.compile(r"(?:answer|result|total)\s*(?:is|=|:)\s*", re.I)


def final_number(text: str) -> float | None:
    """The number an answer commits to: after "answer is"/"=" when present, else the last one."""
    found = _ANSWER_IS.split(text)
    tail = found[-1] if len(found) > 1 else text
    numbers = [m.group(0) for m in _NUM.finditer(tail) if any(ch.isdigit() for ch in m.group(0))]
    if not numbers:
        return None
    pick = numbers[0] if len(found) > 1 else numbers[-1]
    try:
        return float(pick.replace(",", ""))
    except ValueError:
        return None


class NumericMatch(Evaluator):
    name = "numeric"
    label = "Numeric answer match"

    def __init__(self, *, tolerance: float = 1e-6):
        self.tolerance = tolerance

    def score(self, item: EvalInput) -> list[Verdict]:
        want = final_number(item.baseline)
        got = final_number(item.candidate)
        if want is None:
            return [Verdict("numeric", None, "the app's answer has no number to compare")]
        if got is None:
            return [Verdict("numeric", 0.0, f"no number in the answer (the app's is {want:g})")]
        ok = math.isclose(got, want, rel_tol=self.tolerance, abs_tol=1e-9)
        why = f"{got:g} {'matches' if ok else 'differs from'} the app's {want:g}"
        return [Verdict("numeric", 1.0 if ok else 0.0, why, {"expected": want, "got": got})]
