"""Server-side redaction of captured payloads before storage.

One compiled alternation, one pass over the JSON text. Replacements contain no quotes or
backslashes, so redacted JSON stays valid JSON. The kinds found are recorded on the call.
"""

from __future__ import annotations

import re

_PATTERNS: dict[str, str] = {
    # Provider and cloud keys, bearer tokens, private keys.
    "secret": r"(?:sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,})|(?:sy_(?:ingest|sdk)_[a-z0-9]{8,16}_[A-Za-z0-9_\-]{20,})"
    r"|(?:AKIA[0-9A-Z]{16})|(?:gh[pousr]_[A-Za-z0-9]{36,})|(?:xox[abprs]-[A-Za-z0-9\-]{10,})"
    r"|(?:AIza[0-9A-Za-z_\-]{35})|(?:-----BEGIN [A-Z ]*PRIVATE KEY-----)",
    "bearer": r"(?i:bearer)\s+[A-Za-z0-9_\-\.=]{16,}",
    "email": r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}",
    "card": r"\b(?:\d[ \-]?){12,18}\d\b",
    "phone": r"(?<![\w.])\+?(?:\(?\d{1,4}\)?[ \-.]?){2,5}\d{3,4}(?![\w.])",
}
_COMBINED = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _PATTERNS.items()))
_HINT = re.compile(r"[@\d]|sk-|AKIA|gh[pousr]_|xox|AIza|BEGIN|[Bb]earer|sy_")


def _luhn_ok(digits: str) -> bool:
    total, alt = 0, False
    for ch in reversed(digits):
        d = ord(ch) - 48
        if alt:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        alt = not alt
    return total % 10 == 0


def redact(text: str) -> tuple[str, set[str]]:
    """Redacted text and the kinds of data that were replaced."""
    if not text or _HINT.search(text) is None:
        return text, set()
    found: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        kind = match.lastgroup or "secret"
        value = match.group(0)
        if kind == "card":
            digits = re.sub(r"\D", "", value)
            if not (13 <= len(digits) <= 19 and _luhn_ok(digits)):
                return value
        elif kind == "phone":
            digits = re.sub(r"\D", "", value)
            if len(digits) < 9 or len(digits) > 15:
                return value
        found.add(kind)
        return f"[REDACTED:{kind}]"

    return _COMBINED.sub(replace, text), found
