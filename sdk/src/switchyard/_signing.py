"""Ed25519 verification of config bodies (docs/protocol.md, ``GET /v1/config``).

A trusted key is given as the base64 (standard alphabet) of the 32 raw public-key bytes, or as a
PEM ``SubjectPublicKeyInfo`` block, under a key id chosen by the server. The server sends
``X-Switchyard-Key-Id: <key id>`` and ``X-Switchyard-Signature: ed25519=<base64 signature>``
over the exact body bytes.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ._errors import ConfigurationError, SignatureError

PublicKeys = Mapping[str, Ed25519PublicKey]

# Keys of a hosted Switchyard would be listed here; a self-hosted server's keys come from
# ``init(config_public_keys=...)`` or ``SWITCHYARD_CONFIG_PUBLIC_KEYS``.
BUILTIN_PUBLIC_KEYS: dict[str, str] = {}


def load_public_key(value: str) -> Ed25519PublicKey:
    """Parse one key: base64 of the 32 raw bytes, or a PEM public key."""
    text = value.strip()
    if text.startswith("-----BEGIN"):
        key = load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ConfigurationError("config public key: PEM key is not Ed25519")
        return key
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError("config public key: not base64") from exc
    if len(raw) != 32:
        raise ConfigurationError(f"config public key: expected 32 bytes, got {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def load_public_keys(value: Mapping[str, str] | str | None) -> dict[str, Ed25519PublicKey]:
    """Parse ``{key_id: key}`` or the env form ``"id1:BASE64,id2:BASE64"``, plus the built-ins."""
    pairs: dict[str, str] = dict(BUILTIN_PUBLIC_KEYS)
    if isinstance(value, str):
        for item in filter(None, (part.strip() for part in value.split(","))):
            key_id, sep, key = item.partition(":")
            if not sep or not key_id:
                raise ConfigurationError("SWITCHYARD_CONFIG_PUBLIC_KEYS: expected 'key_id:base64,...'")
            pairs[key_id.strip()] = key
    elif value is not None:
        pairs.update(value)
    return {key_id: load_public_key(key) for key_id, key in pairs.items()}


def verify_signature(body: bytes, signature: str | None, key_id: str | None, keys: PublicKeys) -> None:
    """Raise :class:`SignatureError` unless ``signature`` is a valid Ed25519 signature of ``body``."""
    if not signature or not key_id:
        raise SignatureError("config is not signed (X-Switchyard-Signature / X-Switchyard-Key-Id missing)")
    key = keys.get(key_id)
    if key is None:
        raise SignatureError(f"config signed with unknown key id {key_id!r}")
    scheme, sep, encoded = signature.strip().partition("=")
    if scheme != "ed25519" or not sep:
        raise SignatureError(f"unsupported signature scheme in {signature[:32]!r}")
    try:
        raw = base64.b64decode(encoded, validate=True)
        key.verify(raw, body)
    except (binascii.Error, ValueError, InvalidSignature) as exc:
        raise SignatureError(f"config signature does not verify with key {key_id!r}") from exc
