"""`GET /v1/config`: the signed routing config for an SDK key (docs/protocol.md). The hot path:
a plain Django view serving bytes made at publish time, no serializers.

- 401 without a valid key, 403 for a key that is not an SDK key;
- 304 when `If-None-Match` names the current strong ETag;
- 429 with `Retry-After` above CONFIG_RATE_LIMIT_RPS per key and process;
- 503 with `Retry-After` when the database cannot answer;
- the body is the stored bytes of the newest published config: publishing (a policy, the kill
  switch, budgets, or capture settings through `policies.publish_config`) makes them, a poll only
  reads them; the one exception is a project's very first poll, before anything was published,
  which publishes its first config (no policies, its capture settings);
- the SDK's `X-Switchyard-Capabilities` (the LEARNED_MODEL types it runs) is recorded per project
  (apps.policies.services.sdk_clients), so encoder routers are proposed only where SDKs run them.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from apps.accounts.key_check import key_of_kind
from apps.core.api_errors import api_methods, error_response
from apps.core.token_bucket import TokenBuckets
from apps.policies.domain import signing
from apps.policies.selectors import ConfigSnapshot, config_current
from apps.policies.services.publish import config_publish
from apps.policies.services.sdk_clients import sdk_client_seen

logger = logging.getLogger(__name__)
RETRY_AFTER_UNAVAILABLE_S = 5

_buckets = TokenBuckets()
_lock = threading.Lock()
_resigned: dict[tuple[int, int, str], str] = {}


def _rate_limited(key_pk: int) -> int:
    """0 when the call may go ahead, else the seconds to wait (a token bucket per key)."""
    rate = float(settings.CONFIG_RATE_LIMIT_RPS)
    return _buckets.take(key_pk, 1, rate=rate) if rate > 0 else 0


def rate_limits_reset() -> None:
    _buckets.clear()


def _snapshot(project_id: int) -> ConfigSnapshot:
    snapshot = config_current(project_id=project_id)
    if snapshot is not None:
        return snapshot
    config_publish(project_id=project_id, reason="first config")  # nothing was ever published
    fresh = config_current(project_id=project_id, fresh=True)
    assert fresh is not None
    return fresh


def _signature(snapshot: ConfigSnapshot) -> tuple[str, str]:
    """The stored signature, or (after a key rotation) one made with the active key, cached."""
    active = signing.key_ring().active
    if snapshot.key_id == active.key_id:
        return snapshot.key_id, snapshot.signature
    cache_key = (snapshot.project_id, snapshot.config_version, active.key_id)
    with _lock:
        found = _resigned.get(cache_key)
    if found is None:
        found = active.sign(snapshot.body)
        with _lock:
            if len(_resigned) > 10_000:
                _resigned.clear()
            _resigned[cache_key] = found
    return active.key_id, found


def _matches(header: str, etag: str) -> bool:
    return any(tag.strip() in (etag, "*") for tag in header.split(","))


@csrf_exempt
@api_methods("GET")
def config(request: HttpRequest) -> HttpResponse:
    """GET /v1/config — the project's signed routing config."""
    try:
        principal = key_of_kind(request, "sdk")
        if isinstance(principal, HttpResponse):
            return principal
        wait = _rate_limited(principal.key_pk)
        if wait:
            return error_response(
                "rate_limited", f"Too many config requests for this key; retry after {wait} s", 429,
                headers={"Retry-After": str(wait)},
            )  # fmt: skip
        snapshot = _snapshot(principal.project_id)
        sdk_client_seen(
            project_id=principal.project_id,
            agent=request.headers.get("User-Agent", ""),
            capabilities=request.headers.get("X-Switchyard-Capabilities", ""),
        )
    except DatabaseError:
        logger.exception("config: database unavailable")
        return error_response(
            "unavailable", "The config store is unavailable; try again shortly", 503,
            headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE_S)},
        )  # fmt: skip
    if _matches(request.headers.get("If-None-Match", ""), snapshot.etag):
        response = HttpResponse(status=304)
    else:
        key_id, signature = _signature(snapshot)
        response = HttpResponse(snapshot.body, content_type="application/json")
        response["X-Switchyard-Signature"] = signature
        response["X-Switchyard-Key-Id"] = key_id
        response["X-Switchyard-Config-Version"] = str(snapshot.config_version)
    response["ETag"] = snapshot.etag
    response["Cache-Control"] = "no-cache"
    return response
