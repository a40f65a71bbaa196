"""Cascade checks: is the cheap model's answer good enough to return, or must we escalate?

The refusal check looks at whole answers: a short answer that declines and does not go on to
answer. An apology before an answer ("I apologize for the confusion, here is …") passes. The
server's replay runs the same check (shared vectors: sdk/testdata/refusal_vectors.json).
"""

from __future__ import annotations

import json
import re

# --- the refusal check: identical in apps/replay/evaluators/checks.py -------------------------
# A refusal is short (an answer that goes on at length is answering), has no lists, code or
# tables, declines in its first sentence (or its second, after "I'm sorry" / "As an AI…"), and
# what follows only offers, redirects or explains ("However, I can summarise it if you like"),
# never answers ("However, the snippet prints …"). Measured on 5,635 real answers: 0 of 62
# flagged were not refusals; the old opening-words check flagged 106, 50 of them answers.
REFUSAL_MAX_CHARS = 700
_APOS = "['\u2019]"
_VERBS = (
    r"(?:help|assist|comply|fulfil|provide|do\b|write|creat|generat|giv|shar|answer|offer|recommend|"
    r"support|engag|produc|predict|brows|access|complet|mak|draft|argu|tak|discuss|endors|rank|tell|"
    r"reproduc|list|look|search|summari|translat|continu|play|pretend|comment|participat|condon|"
    r"encourag|promot|facilitat|rewrit|mock|claim|form|determin|identif|extract|fetch|retriev|find|"
    r"get|hear|see|view|open|read|run|execut|compil|implement|perform|calculat|verif|confirm|"
    r"guarantee|express|act|role-?play|send|book|contact|suggest|advis|direct|elaborat|explain|"
    r"describ|repeat|quote|keep)"
)
_DECLINE = re.compile(
    rf"\bi(?:\s+am|{_APOS}m)?\s+(?:(?:really\s+|truly\s+|simply\s+|just\s+)?"
    rf"(?:can(?:not|{_APOS}t|\s+not)|won{_APOS}t|will\s+not|unable\s+to|not\s+able\s+to|"
    rf"should(?:\s+not|n{_APOS}t)|not\s+going\s+to|must\s+(?:respectfully\s+)?decline\s+to)"
    rf"\s+(?:\w+ly\s+|\w+\s+or\s+)?{_VERBS}"
    rf"|(?:do\s+not|don{_APOS}t|am\s+not|{_APOS}m\s+not)\s+(?:feel\s+)?comfortable"
    rf"|must\s+(?:respectfully\s+)?decline"
    rf"|(?:do\s+not|don{_APOS}t)\s+have\s+the\s+(?:ability|capability)\s+to\s+{_VERBS})"
    rf"|\bnot\s+something\s+i\s+can\b|\bi{_APOS}m\s+afraid\s+i\s+can",
    re.IGNORECASE,
)
_PREAMBLE = re.compile(
    rf"^(?:i{_APOS}?m\s+(?:\w+\s+)?sorry|i\s+am\s+(?:\w+\s+)?sorry|sorry|i\s+apologi[sz]e|my\s+apologies|"
    rf"unfortunately|as\s+an?\s+(?:ai|artificial|language)|thank|i\s+understand|i{_APOS}?m\s+glad|"
    rf"i\s+appreciate|sure|ok(?:ay)?|hello|hi)\b",
    re.IGNORECASE,
)
_STRUCTURE = re.compile(r"```|^\s*(?:[-*\u2022]|\d+[.)]|#{1,6})\s+\S|^\s*\|.*\|\s*$", re.MULTILINE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_TURN = re.compile(
    r"^(?:however|but|that\s+said|instead|still|nevertheless|nonetheless|here)\b[\s,]*(?P<rest>.*)",
    re.IGNORECASE | re.DOTALL,
)
_CLAUSE = re.compile(r"(?:,|;|\u2014|-)\s*(?:but|however|though|although)\b[\s,]*(?P<rest>.*)", re.I | re.S)
_OFFER = re.compile(
    rf"^(?:i\s+(?:can|could|would|will|may|might|am\s+happy|encourage|recommend|suggest|advise)|"
    rf"i{_APOS}(?:m\s+happy|d|ll)|if\s+you|you\s+(?:can|could|may|might|should|will)|please|"
    rf"feel\s+free|let\s+me|it(?:\s+is|{_APOS}s)\s+(?:best|important|recommended|always)|perhaps|"
    rf"maybe|we\s+could|is\s+there)\b",
    re.IGNORECASE,
)


def is_refusal(text: str) -> bool:
    """A whole-answer refusal: a short answer that declines early and does not go on to answer."""
    body = text.strip().lstrip("*#>_ ").strip()
    if not body or len(body) > REFUSAL_MAX_CHARS or _STRUCTURE.search(body):
        return False
    sentences = [s.strip() for s in _SENTENCE.split(body) if s.strip()]
    first = 0
    found = _DECLINE.search(sentences[0])
    if found is None and len(sentences) > 1 and _PREAMBLE.match(sentences[0]):
        first, found = 1, _DECLINE.search(sentences[1])
    if found is None:
        return False
    clause = _CLAUSE.search(sentences[first][found.end() :])
    if clause and not _OFFER.match(clause.group("rest")):
        return False  # "I can't give an exact figure, but roughly 8 billion …"
    for sentence in sentences[first + 1 :]:
        turn = _TURN.match(sentence)
        if turn and not _OFFER.match(turn.group("rest")):
            return False  # "However, the snippet prints …"
    return True


# --- end of the shared refusal check -----------------------------------------------------------


def failing_check(checks: tuple[str, ...], text: str | None, refused: bool) -> str | None:
    """The first check the answer fails, or ``None``.

    ``text`` is ``None`` for a non-text answer (tool calls), which passes every check.
    """
    if text is None:
        return None
    for check in checks:
        if check == "empty" and not text.strip():
            return check
        if check == "refusal" and (refused or is_refusal(text)):
            return check
        if check == "invalid_json" and not _is_json(text):
            return check
    return None


def _is_json(text: str) -> bool:
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.strip("`").removeprefix("json").strip()
    try:
        json.loads(stripped)
    except ValueError:
        return False
    return True
