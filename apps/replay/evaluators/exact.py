"""Exact and normalised match: for short labels, classifications, yes/no answers."""

from __future__ import annotations

import re
import unicodedata

from apps.replay.evaluators.base import EvalInput, Evaluator, Verdict

_SPACE = re.compile(r"\s+")
_EDGE = " \t\n\"'`.,;:!?()[]{}*_"


def normalise(text: str) -> str:
    """Case, width, spacing, quotes and trailing punctuation do not change a label."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _SPACE.sub(" ", text).strip(_EDGE)
    return text


class ExactMatch(Evaluator):
    name = "exact"
    label = "Exact / normalised match"

    def score(self, item: EvalInput) -> list[Verdict]:
        same = item.candidate.strip() == item.baseline.strip()
        norm = same or normalise(item.candidate) == normalise(item.baseline)
        if same:
            why = "identical to the app's answer"
        elif norm:
            why = "the same once case, spacing and punctuation are ignored"
        else:
            why = (
                f"differs: {normalise(item.candidate)[:80]!r} vs the app's {normalise(item.baseline)[:80]!r}"
            )
        return [
            Verdict("exact", 1.0 if norm else 0.0, why),
            Verdict(
                "exact_raw",
                1.0 if same else 0.0,
                "byte-for-byte equal" if same else "not byte-for-byte equal",
            ),
        ]
