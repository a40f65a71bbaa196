"""Server-side redaction of captured payloads before storage.

Each kind of sensitive data has a cheap prefilter (a substring or a simple scan) and a precise
pattern that runs only when the prefilter fires, so ordinary text costs a few substring checks.
Replacements contain no quotes or backslashes, so redacted JSON stays valid JSON. The kinds
found are recorded on the call.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SECRET = re.compile(
    r"(?:sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,})|(?:sy_(?:ingest|sdk)_[a-z0-9]{8,16}_[A-Za-z0-9_\-]{20,})"
    r"|(?:AKIA[0-9A-Z]{16})|(?:gh[pousr]_[A-Za-z0-9]{36,})|(?:xox[abprs]-[A-Za-z0-9\-]{10,})"
    r"|(?:AIza[0-9A-Za-z_\-]{35})|(?:-----BEGIN [A-Z ]*PRIVATE KEY-----)"
)
# Every secret pattern starts with one of these; one regex pass finds whether any is present.
_SECRET_HINT = re.compile(rb"sk-|sy_|AKIA|gh[pousr]_|xox[abprs]-|AIza|-----BEGIN|[Bb]earer")
_DIGITS = b"0123456789"
_BEARER = re.compile(r"\b[Bb]earer\s+[A-Za-z0-9_\-\.=]{16,}")
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
)
_DIGIT_RUN = re.compile(r"\d[\d \-.()]{7,}\d")
_CARD = re.compile(r"\b(?:\d[ \-]?){12,18}\d\b")
_PHONE = re.compile(r"(?<![\w.])\+?(?:\(?\d{1,4}\)?[ \-.]?){2,5}\d{3,4}(?![\w.])")
_NON_DIGIT = re.compile(r"\D")


def _luhn_ok(digits: str) -> bool:
    total, alt = 0, False
    for ch in reversed(digits):
        d = ord(ch) - 48
        if alt:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        alt = not alt
    return total % 10 == 0


def _is_card(value: str) -> bool:
    digits = _NON_DIGIT.sub("", value)
    return 13 <= len(digits) <= 19 and _luhn_ok(digits)


def _is_phone(value: str) -> bool:
    return 9 <= len(_NON_DIGIT.sub("", value)) <= 15


def _sub(
    pattern: re.Pattern[str],
    kind: str,
    text: str,
    found: set[str],
    accept: Callable[[str], bool] | None = None,
) -> str:
    def replace(match: re.Match[str]) -> str:
        if accept is not None and not accept(match.group(0)):
            return match.group(0)
        found.add(kind)
        return f"[REDACTED:{kind}]"

    return pattern.sub(replace, text)


def redact_bytes(data: bytes) -> tuple[bytes, set[str]]:
    """Redacted UTF-8 payload and the kinds of data that were replaced.

    Works on the bytes as received: prefilters look at bytes, and only a payload that may hold
    something sensitive is decoded and rewritten.
    """
    found: set[str] = set()
    if not data:
        return data, found
    secret = (b"-" in data or b"_" in data or b"AKIA" in data or b"AIza" in data or b"earer" in data) and (
        _SECRET_HINT.search(data) is not None
    )
    email = b"@" in data
    numbers = len(data) - len(data.translate(None, _DIGITS)) >= 9
    if not (secret or email or numbers):
        return data, found
    text = data.decode("utf-8")
    if secret:
        text = _sub(_SECRET, "secret", text, found)
        text = _sub(_BEARER, "bearer", text, found)
    if email:
        text = _sub(_EMAIL, "email", text, found)
    if numbers and _DIGIT_RUN.search(text) is not None:
        text = _sub(_CARD, "card", text, found, _is_card)
        text = _sub(_PHONE, "phone", text, found, _is_phone)
    return (text.encode("utf-8") if found else data), found


def redact(text: str) -> tuple[str, set[str]]:
    """`redact_bytes` for text."""
    out, found = redact_bytes(text.encode("utf-8"))
    return out.decode("utf-8"), found
