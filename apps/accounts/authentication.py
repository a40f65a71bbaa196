"""Project keys: verifying a bearer key, DRF authentication, and the SDK-key permission. The plain
JSON views check a key's kind with apps.accounts.key_check (same messages)."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.http import HttpRequest
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from apps.accounts.selectors import KeyPrincipal, api_key_verify
from apps.accounts.services import api_key_touch

_TOUCH_EVERY_S = 60.0
_last_touch: dict[int, float] = {}
_touch_lock = threading.Lock()

NO_KEY = "API key is missing, unknown, malformed or revoked"
KEY_NEEDED = {
    "ingest": "This API needs an ingest key (sy_ingest_…)",
    "sdk": "This API needs an SDK key (sy_sdk_…)",
}


def bearer_token(request: HttpRequest) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate_key(request: HttpRequest) -> KeyPrincipal | None:
    """Verify the bearer key and record its use (at most once a minute per key and process)."""
    token = bearer_token(request)
    if token is None:
        return None
    principal = api_key_verify(token)
    if principal is not None:
        now = time.monotonic()
        with _touch_lock:
            due = now - _last_touch.get(principal.key_pk, 0.0) >= _TOUCH_EVERY_S
            if due:
                _last_touch[principal.key_pk] = now
        if due:
            api_key_touch(key_pk=principal.key_pk)
    return principal


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[KeyPrincipal, KeyPrincipal] | None:
        if bearer_token(request._request) is None:
            return None
        principal = authenticate_key(request._request)
        if principal is None:
            raise exceptions.AuthenticationFailed("API key is unknown, malformed or revoked")
        return principal, principal

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class IsSdkKey(permissions.BasePermission):
    """Only SDK keys (`sy_sdk_`)."""

    message = KEY_NEEDED["sdk"]

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, KeyPrincipal) and request.user.kind == "sdk"


class IsPerson(permissions.BasePermission):
    """A logged-in person (session), not a project key."""

    message = "Log in to use this API"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user is not None and user.is_authenticated and not isinstance(user, KeyPrincipal))
