"""How an API answers a refusal: one error shape, {"error": {"code", "message"}}, for the DRF views
(`api_exception_handler`) and the plain JSON ones (`error_response`, `api_methods`).

The refusal itself, `ApplicationError`, lives in apps.core.errors, which imports neither Django
nor DRF so that pure modules (the price book, the price file parser) raise it without settings."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_default_handler

from apps.core.errors import ApplicationError

_DRF_CODES = {
    drf.NotAuthenticated: "not_authenticated",
    drf.AuthenticationFailed: "invalid_key",
    drf.PermissionDenied: "forbidden",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.ParseError: "malformed_request",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.Throttled: "rate_limited",
    drf.ValidationError: "invalid",
}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    body.update({k: v for k, v in extra.items() if v is not None})
    return {"error": body}


def error_response(
    code: str, message: str, status: int, *, headers: dict[str, str] | None = None, **extra: Any
):
    """A plain Django JSON error, for the views that do not use DRF (ingest, config)."""
    response = JsonResponse(error_body(code, message, **extra), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def api_methods(*methods: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """`require_http_methods` for the plain JSON views: another method gets 405 with `Allow` and
    the one error shape, not Django's empty HTML 405."""
    allowed = [m.upper() for m in methods]

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in allowed:
                return error_response(
                    "method_not_allowed",
                    f"{request.method} is not allowed here: use {' or '.join(allowed)}",
                    405,
                    headers={"Allow": ", ".join(allowed)},
                )
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    if isinstance(detail, dict):
        out: list[str] = []
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            out.extend(_flatten(value, f"{prefix}{name}: " if name else prefix))
        return out
    if isinstance(detail, list):
        return [m for item in detail for m in _flatten(item, prefix)]
    return [f"{prefix}{detail}"]


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(
            error_body(exc.code, exc.message, field=exc.field, detail=exc.detail), status=exc.status
        )
    if isinstance(exc, DjangoValidationError):
        exc = drf.ValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()

    response = drf_default_handler(exc, context)
    if response is None or not isinstance(exc, drf.APIException):
        return response
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, drf.ValidationError):
        message = "; ".join(_flatten(exc.detail)) or "Invalid input"
    else:
        message = str(exc.detail)
    response.data = error_body(code, message)
    return response
