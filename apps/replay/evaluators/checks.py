"""The cascade checks an answer fails, as the SDK's cascade runs them (sdk/src/switchyard/_cascade.py).

Kept in step with the SDK by hand (apps never import the SDK): an empty answer, a refusal (the
provider's flag, or the opening words of one), and invalid JSON. A tool-call answer (text None)
passes every check. `invalid_json` is reported for every answer that is not JSON; whether it
matters is the cascade's choice of checks.
"""

from __future__ import annotations

import json
import re

from apps.replay.providers.base import ChatRequest

CHECKS = ("empty", "refusal", "invalid_json")
_REFUSAL = re.compile(
    r"^\s*(?:i'?m sorry|i am sorry|sorry, (?:but )?i|i apologi[sz]e|as an ai\b|i can(?:not|'t|\u2019t) "
    r"(?:help|assist|comply|provide|do that)|i(?: am|'m) (?:not able|unable) to|i won'?t be able to)",
    re.IGNORECASE,
)


def _is_json(text: str) -> bool:
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.strip("`").removeprefix("json").strip()
    try:
        json.loads(stripped)
    except ValueError:
        return False
    return True


def failed_checks(text: str | None, refused: bool, request: ChatRequest | None = None) -> tuple[str, ...]:
    if text is None:
        return ()
    out = []
    if not text.strip():
        out.append("empty")
    if refused or _REFUSAL.match(text):
        out.append("refusal")
    if not _is_json(text):
        out.append("invalid_json")
    return tuple(out)
