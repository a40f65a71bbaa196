"""Server-side redaction of captured payloads before storage.

What is redacted: e-mail addresses, card numbers (13–19 digits passing the Luhn check), phone
numbers (9–15 digits), API keys and tokens (OpenAI, Anthropic, Switchyard, AWS, GitHub, Slack,
Google, private-key blocks) and bearer tokens, each replaced by `[REDACTED:<kind>]`; the kinds
found are recorded on the call.

Where: in a JSON payload (every SDK payload is one), only inside string values. Keys, numbers,
booleans and nulls are never touched, and neither are the string values of the structural keys
in `STRUCTURAL_KEYS` (ids, timestamps, model names, roles and types that providers put in every
response and that are never personal data). The rest of the payload is kept byte for byte, so
redacted JSON is always valid JSON with the same structure. A payload that is not JSON is
redacted as text.

Cost: cheap byte-level prefilters (substring checks, a digit count) run first, and a payload in
which none fires is returned as it came, never parsed. Otherwise msgspec checks it is JSON and a
regex walks its string tokens; each kind's precise pattern runs only on strings its own
prefilter lets through. bench/redaction.py measures it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import msgspec

# String values under these keys are structural metadata, never personal data, in the payloads
# of the providers Switchyard reads (OpenAI Chat Completions and Responses, Anthropic Messages,
# Gemini generateContent): redacting them breaks nothing but replay and search. Their long digit
# runs (a `created` timestamp, an id) are what a phone-number pattern would otherwise catch.
STRUCTURAL_KEYS = frozenset(
    {
        "id",  # chatcmpl-…, resp_…, msg_…, a tool call's id
        "object",  # "chat.completion", "response"
        "created",  # Unix seconds (a string in some OpenAI-compatible servers)
        "model",
        "system_fingerprint",  # fp_50cad350e4
        "role",
        "type",
        "index",
        "finish_reason",
        "stop_reason",
        "tool_call_id",  # OpenAI tool results
        "tool_use_id",  # Anthropic tool results
        "call_id",  # Responses function calls
        "response_id",  # google-genai's model_dump of a Gemini response
        "responseId",  # Gemini REST
        "model_version",
        "modelVersion",
    }
)

_SECRET = re.compile(
    r"(?:sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{20,})|(?:sy_(?:ingest|sdk)_[a-z0-9]{8,16}_[A-Za-z0-9_\-]{20,})"
    r"|(?:AKIA[0-9A-Z]{16})|(?:gh[pousr]_[A-Za-z0-9]{36,})|(?:xox[abprs]-[A-Za-z0-9\-]{10,})"
    r"|(?:AIza[0-9A-Za-z_\-]{35})|(?:-----BEGIN [A-Z ]*PRIVATE KEY-----)"
)
# Every secret pattern (and the bearer one) contains one of these: substring checks, no regex.
_SECRET_HINTS = (
    "sk-",
    "sy_",
    "AKIA",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "xox",
    "AIza",
    "-----BEGIN",
    "earer",
)
_SECRET_HINTS_B = tuple(h.encode() for h in _SECRET_HINTS)
_BEARER = re.compile(r"\b[Bb]earer\s+[A-Za-z0-9_\-\.=]{16,}")
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
)
_DIGITS = b"0123456789"
_DIGIT_RUN = re.compile(r"\d[\d \-.()]{7,}\d")
_DIGIT_RUN_B = re.compile(rb"\d[\d \-.()]{7,}\d")
_CARD = re.compile(r"\b(?:\d[ \-]?){12,18}\d\b")
# A phone number may end a sentence ("call +44 20 7946 0958."), but not run into a decimal.
_PHONE = re.compile(r"(?<![\w.])\+?(?:\(?\d{1,4}\)?[ \-.]?){2,5}\d{3,4}(?![\w]|\.\d)")
_NON_DIGIT = re.compile(r"\D")
# A JSON string token, with the colon before it (a member's value) or after it (a key).
_STRING = re.compile(r'(:\s*)?"([^"\\]*(?:\\.[^"\\]*)*)"(?=(\s*:)?)')

_SECRET_KIND, _EMAIL_KIND, _NUMBER_KIND = 1, 2, 4
# Per set of suspected kinds, one search that tells whether a string may hold any of them.
_HINT_PATTERNS = {
    _SECRET_KIND: "|".join(re.escape(h) for h in _SECRET_HINTS),
    _EMAIL_KIND: "@",
    _NUMBER_KIND: _DIGIT_RUN.pattern,
}
_ANY_HINT = {
    kinds: re.compile("|".join(p for k, p in _HINT_PATTERNS.items() if kinds & k)) for kinds in range(1, 8)
}


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


def _suspects(data: bytes) -> int:
    """Which kinds may be in the payload (a bit set), from byte-level checks only."""
    kinds = 0
    if any(hint in data for hint in _SECRET_HINTS_B):
        kinds |= _SECRET_KIND
    if b"@" in data:
        kinds |= _EMAIL_KIND
    if len(data) - len(data.translate(None, _DIGITS)) >= 9 and _DIGIT_RUN_B.search(data) is not None:
        kinds |= _NUMBER_KIND
    return kinds


def _redact_text(text: str, kinds: int, found: set[str]) -> str:
    """One string with each suspected kind replaced; each precise pattern behind its own prefilter."""
    if kinds & _SECRET_KIND and any(hint in text for hint in _SECRET_HINTS):
        text = _sub(_SECRET, "secret", text, found)
        text = _sub(_BEARER, "bearer", text, found)
    if kinds & _EMAIL_KIND and "@" in text:
        text = _sub(_EMAIL, "email", text, found)
    if kinds & _NUMBER_KIND and _DIGIT_RUN.search(text) is not None:
        text = _sub(_CARD, "card", text, found, _is_card)
        text = _sub(_PHONE, "phone", text, found, _is_phone)
    return text


def _redact_json(text: str, kinds: int, found: set[str]) -> str:
    """`text` (valid JSON) with only its non-structural string values redacted, the rest kept as is."""
    out: list[str] = []
    kept = 0
    key = None
    suspicious = _ANY_HINT[kinds].search
    for match in _STRING.finditer(text):
        raw = match.group(2)
        if match.group(3) is not None:  # a key
            key = raw
            continue
        if match.group(1) is not None and key in STRUCTURAL_KEYS:
            continue
        value = msgspec.json.decode(f'"{raw}"') if "\\" in raw else raw
        if suspicious(value) is None:
            continue
        redacted = _redact_text(value, kinds, found)
        if redacted == value:
            continue
        start, end = match.span(2)
        out.append(text[kept : start - 1])
        out.append(msgspec.json.encode(redacted).decode("utf-8"))
        kept = end + 1
    if not out:
        return text
    out.append(text[kept:])
    return "".join(out)


def _is_json(data: bytes) -> bool:
    try:
        msgspec.json.decode(data, type=msgspec.Raw)  # validates without building objects
    except msgspec.DecodeError:
        return False
    return True


def redact_bytes(data: bytes) -> tuple[bytes, set[str]]:
    """Redacted UTF-8 payload and the kinds of data that were replaced.

    Works on the bytes as received: prefilters look at bytes, and only a payload that may hold
    something sensitive is decoded and rewritten (as JSON when it is JSON, else as text).
    """
    found: set[str] = set()
    if not data:
        return data, found
    kinds = _suspects(data)
    if not kinds:
        return data, found
    text = data.decode("utf-8")
    rewrite = _redact_json if _is_json(data) else _redact_text
    redacted = rewrite(text, kinds, found)
    return (redacted.encode("utf-8") if found else data), found


def redact(text: str) -> tuple[str, set[str]]:
    """`redact_bytes` for text."""
    out, found = redact_bytes(text.encode("utf-8"))
    return out.decode("utf-8"), found
