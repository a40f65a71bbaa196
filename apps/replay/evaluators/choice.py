"""Multiple-choice match: the option each answer picks, by letter or by the option's text.

The options are the lettered ones the request's last user message lists ("A. …", "(B) …");
without them only letters are read. How an answer's pick is read is
apps.replay.evaluators.answers.read_choice.
"""

from __future__ import annotations

from apps.replay.evaluators.answers import Reading, question_options, read_choice
from apps.replay.evaluators.base import EvalInput, Evaluator, Verdict
from apps.replay.providers.base import ChatRequest


def request_options(request: ChatRequest) -> dict[str, str]:
    """The lettered options the request's last user message lists."""
    users = [m.text for m in request.messages if m.role == "user" and m.text]
    return question_options(users[-1]) if users else {}


def _said(reading: Reading) -> str:
    return f"{reading.value} ({reading.how})"


class ChoiceMatch(Evaluator):
    name = "choice"
    label = "Multiple-choice option match"

    def score(self, item: EvalInput) -> list[Verdict]:
        options = request_options(item.request)
        want = read_choice(item.baseline, options)
        got = read_choice(item.candidate, options)
        if want is None:
            return [Verdict("choice", None, "the app's answer picks no option", {"got": got and got.value})]
        if got is None:
            return [Verdict("choice", 0.0, f"picks no option (the app's is {_said(want)})", {"got": None})]
        ok = got.value == want.value
        why = f"{_said(got)} {'is' if ok else 'is not'} the app's {_said(want)}"
        detail = {"expected": want.value, "got": got.value, "read_as": got.how, "options": len(options)}
        return [Verdict("choice", 1.0 if ok else 0.0, why, detail)]
