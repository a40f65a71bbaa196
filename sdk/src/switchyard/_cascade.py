"""Cascade checks: is the cheap model's answer good enough to return, or must we escalate?"""

from __future__ import annotations

import json
import re

_REFUSAL = re.compile(
    r"^\s*(?:i'?m sorry|i am sorry|sorry, (?:but )?i|i apologi[sz]e|as an ai\b|i can(?:not|'t|\u2019t) "
    r"(?:help|assist|comply|provide|do that)|i(?: am|'m) (?:not able|unable) to|i won'?t be able to)",
    re.IGNORECASE,
)


def failing_check(checks: tuple[str, ...], text: str | None, refused: bool) -> str | None:
    """The first check the answer fails, or ``None``.

    ``text`` is ``None`` for a non-text answer (tool calls), which passes every check.
    """
    if text is None:
        return None
    for check in checks:
        if check == "empty" and not text.strip():
            return check
        if check == "refusal" and (refused or _REFUSAL.match(text)):
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
