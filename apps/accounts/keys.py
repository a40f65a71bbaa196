"""API key format and hashing: `sy_<kind>_<key id>_<secret>`; stored as key id + SHA-256(secret).

The secret carries 256 bits of entropy, so a fast hash is enough (there is nothing to brute
force); comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass

_ID_ALPHABET = string.ascii_lowercase + string.digits
KINDS = ("ingest", "sdk")


@dataclass(frozen=True)
class ParsedKey:
    kind: str
    key_id: str
    secret: str


def generate(kind: str) -> tuple[str, str, str]:
    """A new key: (plaintext, key_id, secret_hash)."""
    if kind not in KINDS:
        raise ValueError(f"unknown key kind {kind!r}")
    key_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
    secret = secrets.token_urlsafe(32)
    return f"sy_{kind}_{key_id}_{secret}", key_id, hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse(raw: str) -> ParsedKey | None:
    parts = raw.strip().split("_", 3)
    if len(parts) != 4 or parts[0] != "sy" or parts[1] not in KINDS:
        return None
    _, kind, key_id, secret = parts
    if not (8 <= len(key_id) <= 16) or not all(c in _ID_ALPHABET for c in key_id) or len(secret) < 20:
        return None
    return ParsedKey(kind, key_id, secret)


def matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
