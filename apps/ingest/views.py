"""The ingest endpoints: plain Django views, key-authenticated, one JSON error shape."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.accounts.key_check import key_of_kind
from apps.accounts.selectors import KeyPrincipal
from apps.core.api_errors import api_methods, error_response
from apps.core.errors import ApplicationError
from apps.core.metrics import INGEST_REJECTS, INGEST_REQUESTS
from apps.ingest import otlp
from apps.ingest.body import read_body
from apps.ingest.limits import RateLimited
from apps.ingest.services import IngestOutcome, feedback_record, ingest_batch
from apps.warehouse.client import WarehouseUnavailable

RETRY_AFTER_UNAVAILABLE_S = 5


def _handle(request: HttpRequest, work: Callable[[KeyPrincipal, HttpRequest], HttpResponse]) -> HttpResponse:
    response = _dispatch(request, work)
    INGEST_REQUESTS.labels(str(response.status_code)).inc()
    if response.status_code >= 400:
        INGEST_REJECTS.labels(f"http_{response.status_code}").inc()
    return response


def _dispatch(
    request: HttpRequest, work: Callable[[KeyPrincipal, HttpRequest], HttpResponse]
) -> HttpResponse:
    principal = key_of_kind(request, "ingest")
    if isinstance(principal, HttpResponse):
        return principal
    try:
        return work(principal, request)
    except RateLimited as exc:
        return error_response(exc.code, exc.message, 429, headers={"Retry-After": str(exc.retry_after)})
    except WarehouseUnavailable as exc:
        return error_response(
            exc.code, exc.message, 503, headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE_S)}
        )
    except ApplicationError as exc:
        return error_response(exc.code, exc.message, exc.status)


def _json(outcome: IngestOutcome) -> JsonResponse:
    return JsonResponse(outcome.as_dict())


@csrf_exempt
@api_methods("POST")
def ingest(request: HttpRequest) -> HttpResponse:
    """POST /v1/ingest — a batch of LLM call events (docs/protocol.md)."""
    return _handle(request, lambda p, r: _json(ingest_batch(principal=p, body=read_body(r))))


@csrf_exempt
@api_methods("POST")
def feedback(request: HttpRequest) -> HttpResponse:
    """POST /v1/feedback — scores and thumbs attached to earlier events."""
    return _handle(request, lambda p, r: _json(feedback_record(principal=p, body=read_body(r))))


@csrf_exempt
@api_methods("POST")
def otlp_traces(request: HttpRequest) -> HttpResponse:
    """POST /v1/otlp/v1/traces — OTLP/HTTP spans (protobuf or JSON) with gen_ai.* attributes."""
    return _handle(request, otlp.handle)
