"""Built-in redaction of secrets in captured payloads.

Applied in the consumer thread to every string of ``request``/``response`` before the user's
``redact=`` hook runs. A match becomes ``[REDACTED:<kind>]``.
"""

from __future__ import annotations

import re
from typing import Any

_PATTERNS: tuple[tuple[str, str], ...] = (
    ("private_key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
    ("switchyard_key", r"\bsy_(?:ingest|sdk)_[A-Za-z0-9_\-]{8,}"),
    ("api_key", r"\bsk-[A-Za-z0-9_\-]{16,}"),
    ("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("bearer_token", r"\b[Bb][Ee][Aa][Rr][Ee][Rr]\s+[A-Za-z0-9\-._~+/]{16,}=*"),
    ("aws_access_key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b"),
    ("slack_token", r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"),
    ("google_api_key", r"\bAIza[0-9A-Za-z\-_]{35}"),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
)

_COMBINED = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _PATTERNS))


def _replace(match: re.Match[str]) -> str:
    return f"[REDACTED:{match.lastgroup}]"


def redact_text(text: str) -> str:
    """``text`` with every recognised secret replaced.

    >>> redact_text("key sk-abcdefghijklmnopqrstu and Bearer abcdefghijklmnopqrstuvwxyz")
    'key [REDACTED:api_key] and [REDACTED:bearer_token]'
    """
    return _COMBINED.sub(_replace, text)


def redact_secrets(value: Any) -> Any:
    """Apply :func:`redact_text` to every string inside plain JSON data."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_secrets(v) for v in value]
    return value
