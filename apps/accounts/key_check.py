"""The 401/403 of the plain JSON views (ingest, GET /v1/config, encoder files), once.

Apart from apps.accounts.authentication because the error shape's module imports DRF's views,
whose settings import that module (DEFAULT_AUTHENTICATION_CLASSES)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from apps.accounts.authentication import KEY_NEEDED, NO_KEY, authenticate_key
from apps.accounts.selectors import KeyPrincipal
from apps.core.api_errors import error_response


def key_of_kind(request: HttpRequest, kind: str) -> KeyPrincipal | HttpResponse:
    """For the plain JSON views: the bearer key if it is of `kind`, else the answer to send
    (401 without a valid key, 403 for a key of the other kind)."""
    principal = authenticate_key(request)
    if principal is None:
        return error_response("invalid_key", NO_KEY, 401)
    if principal.kind != kind:
        return error_response("forbidden", KEY_NEEDED[kind], 403)
    return principal
