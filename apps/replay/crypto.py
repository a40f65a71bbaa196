"""Provider API keys, encrypted at rest.

Keys are sealed with Fernet (AES-128-CBC + HMAC-SHA256) under keys derived by HKDF-SHA256 from
`settings.PROVIDER_KEYS_ENCRYPTION_KEY` (default: the SECRET_KEY). That setting may list several
secrets separated by commas: the first seals new keys, every one opens old ones, so a secret can be
rotated without losing stored keys. A plaintext key leaves this module only to be sent to its
provider; pages show `key_hint` (the last four characters) and nothing else.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from apps.core.errors import ApplicationError

_SALT = b"switchyard/provider-keys/v1"


def _derive(secret: str) -> Fernet:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=b"fernet").derive(
        secret.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(raw))


@functools.lru_cache(maxsize=8)
def _box(configured: str) -> MultiFernet:
    secrets = [s.strip() for s in configured.split(",") if s.strip()]
    if not secrets:
        raise ApplicationError("PROVIDER_KEYS_ENCRYPTION_KEY is empty", code="misconfigured", status=500)
    return MultiFernet([_derive(s) for s in secrets])


def seal(plaintext: str) -> str:
    return _box(settings.PROVIDER_KEYS_ENCRYPTION_KEY).encrypt(plaintext.encode("utf-8")).decode("ascii")


def unseal(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    try:
        return _box(settings.PROVIDER_KEYS_ENCRYPTION_KEY).decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise ApplicationError(
            "A stored provider key cannot be decrypted (PROVIDER_KEYS_ENCRYPTION_KEY changed?): enter the key again",
            code="provider_key_unreadable",
        ) from exc


def hint(plaintext: str) -> str:
    return f"…{plaintext[-4:]}" if len(plaintext) >= 8 else "…"
