"""Counting failed log-ins and sign-ups per client address and account, in the shared cache."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def _key(scope: str, request: HttpRequest, ident: str) -> str:
    addr = request.META.get("REMOTE_ADDR", "")
    digest = hashlib.sha256(f"{addr}|{ident.lower()}".encode()).hexdigest()[:32]
    return f"throttle:{scope}:{digest}"


def is_locked(scope: str, request: HttpRequest, ident: str) -> bool:
    return int(cache.get(_key(scope, request, ident), 0)) >= settings.LOGIN_FAILURE_LIMIT


def record_failure(scope: str, request: HttpRequest, ident: str) -> None:
    key = _key(scope, request, ident)
    if cache.add(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW_S):
        return
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW_S)


def clear(scope: str, request: HttpRequest, ident: str) -> None:
    cache.delete(_key(scope, request, ident))
