"""DRF authentication for project keys, and permission classes for key kinds and roles."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.http import HttpRequest
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from apps.accounts.models import ROLE_RANK, Organization, Role
from apps.accounts.selectors import KeyPrincipal, api_key_verify, role_of
from apps.accounts.services import api_key_touch

_TOUCH_EVERY_S = 60.0
_last_touch: dict[int, float] = {}
_touch_lock = threading.Lock()


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


class IsKeyOfKind(permissions.BasePermission):
    """Only project keys of one kind (`sy_ingest_` or `sy_sdk_`)."""

    kind = ""
    message = "This API needs a project key of another kind"

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, KeyPrincipal) and request.user.kind == self.kind


class IsIngestKey(IsKeyOfKind):
    kind = "ingest"
    message = "This API needs an ingest key (sy_ingest_…)"


class IsSdkKey(IsKeyOfKind):
    kind = "sdk"
    message = "This API needs an SDK key (sy_sdk_…)"


class IsPerson(permissions.BasePermission):
    """A logged-in person (session), not a project key."""

    message = "Log in to use this API"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user is not None and user.is_authenticated and not isinstance(user, KeyPrincipal))


def has_role(request: Request, organization: Organization, at_least: Role) -> bool:
    role = role_of(user=request.user, organization=organization)
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[at_least]
