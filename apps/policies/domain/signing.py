"""Ed25519 signing keys for config bodies, with rotation.

`CONFIG_SIGNING_KEYS` holds `key-id:base64-private-key` pairs (the 32 raw private-key bytes,
standard base64), comma-separated; `CONFIG_SIGNING_KEY_ID` names the one that signs (default: the
first). To rotate: add the new key, publish its public key to the SDKs, and only then switch
`CONFIG_SIGNING_KEY_ID` (bodies signed with a key that is not the active one are re-signed when
served). Without `CONFIG_SIGNING_KEYS`, an embedded key is generated once into
`$VAR_DIR/config-signing-key.json` for the demo and tests; production warns about it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
EMBEDDED_FILE = "config-signing-key.json"


class SigningKeyError(ValueError):
    pass


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private: Ed25519PrivateKey

    @property
    def public_b64(self) -> str:
        raw = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode()

    def sign(self, body: bytes) -> str:
        return "ed25519=" + base64.b64encode(self.private.sign(body)).decode()


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[SigningKey, ...]
    active: SigningKey
    embedded: bool

    def get(self, key_id: str) -> SigningKey | None:
        return next((k for k in self.keys if k.key_id == key_id), None)


def _private(key_id: str, value: str) -> SigningKey:
    if not KEY_ID.match(key_id):
        raise SigningKeyError(f"CONFIG_SIGNING_KEYS: bad key id {key_id!r} (use [A-Za-z0-9._-], ≤ 64)")
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SigningKeyError(f"CONFIG_SIGNING_KEYS: key {key_id!r} is not base64") from exc
    if len(raw) != 32:
        raise SigningKeyError(f"CONFIG_SIGNING_KEYS: key {key_id!r} must be 32 bytes, got {len(raw)}")
    return SigningKey(key_id, Ed25519PrivateKey.from_private_bytes(raw))


def parse_keys(value: str) -> list[SigningKey]:
    keys = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        key_id, sep, key = item.partition(":")
        if not sep:
            raise SigningKeyError("CONFIG_SIGNING_KEYS: expected 'key-id:base64,…'")
        keys.append(_private(key_id.strip(), key))
    return keys


def new_private_key_b64() -> str:
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    raw = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.b64encode(raw).decode()


def _embedded(var_dir: Path) -> SigningKey:
    path = var_dir / EMBEDDED_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {"key_id": f"embedded-{os.urandom(3).hex()}", "private_key": new_private_key_b64()}
        # Written whole under a name of this process's own, then linked into place: a process that
        # starts at the same moment (a second test worker, web process) never reads a half-written file.
        draft = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            draft.unlink()
    doc = json.loads(path.read_text())
    return _private(doc["key_id"], doc["private_key"])


_lock = threading.Lock()
_ring: tuple[tuple[str, str, str], KeyRing] | None = None


def key_ring() -> KeyRing:
    """The configured keys (parsed once per distinct setting)."""
    global _ring
    marker = (settings.CONFIG_SIGNING_KEYS, settings.CONFIG_SIGNING_KEY_ID, str(settings.VAR_DIR))
    with _lock:
        if _ring is not None and _ring[0] == marker:
            return _ring[1]
        keys = parse_keys(settings.CONFIG_SIGNING_KEYS)
        embedded = not keys
        if embedded:
            keys = [_embedded(Path(settings.VAR_DIR))]
        wanted = settings.CONFIG_SIGNING_KEY_ID or keys[0].key_id
        active = next((k for k in keys if k.key_id == wanted), None)
        if active is None:
            raise SigningKeyError(f"CONFIG_SIGNING_KEY_ID {wanted!r} is not in CONFIG_SIGNING_KEYS")
        ring = KeyRing(tuple(keys), active, embedded)
        _ring = (marker, ring)
        return ring


def sign(body: bytes) -> tuple[str, str]:
    """(key id, `ed25519=<base64>`) with the active key."""
    active = key_ring().active
    return active.key_id, active.sign(body)


def public_keys() -> dict[str, str]:
    """{key id: base64 public key} for `switchyard.init(config_public_keys=…)`."""
    return {k.key_id: k.public_b64 for k in key_ring().keys}


def public_keys_env() -> str:
    """The same as `SWITCHYARD_CONFIG_PUBLIC_KEYS` would take it."""
    return ",".join(f"{kid}:{pub}" for kid, pub in public_keys().items())
