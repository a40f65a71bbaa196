"""The signature on every webhook the server sends (routing notifications, spend alerts), so a
receiver can check the body came from Switchyard: `X-Switchyard-Signature: sha256=<hex HMAC>`."""

from __future__ import annotations

import hashlib
import hmac


def webhook_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
