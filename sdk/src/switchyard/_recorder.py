"""Building telemetry events (DESIGN.md §3) on the caller's thread: a small dict, nothing else.

Payloads are not serialised here: a captured call stores two zero-argument callables under
``__payload__`` and the consumer materialises, redacts and encodes them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from ._client import Client
from ._context import DEFAULT_ENDPOINT, Scope
from ._routing import Attempt
from ._sender import PAYLOAD_KEY

_UUID4_CLEAR = ~((0xF << 76) | (0x3 << 62))
_UUID4_SET = (0x4 << 76) | (0x2 << 62)
_getrandbits = random.getrandbits


def new_event_id() -> str:
    """A random version-4 UUID string.

    ``random`` is seeded from the OS and re-seeded in a forked child by the standard library, so
    processes never share a sequence; ids need uniqueness here, not secrecy.
    """
    h = "%032x" % (_getrandbits(128) & _UUID4_CLEAR | _UUID4_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def base_event(
    client: Client,
    scope: Scope,
    *,
    event_id: str,
    provider: str,
    model: str,
    ts_ms: int,
) -> dict[str, Any]:
    """The attribution part of an event."""
    event: dict[str, Any] = {
        "event_id": event_id,
        "ts": ts_ms,
        "endpoint": (scope.endpoint or DEFAULT_ENDPOINT)[:128],
        "provider": provider,
        "model": model,
    }
    if scope.conversation_id is not None:
        event["conversation_id"] = scope.conversation_id
    if scope.user_id is not None:
        event["user_id"] = scope.user_id
    if scope.customer_id is not None:
        event["customer_id"] = scope.customer_id
    if scope.tags:
        event["tags"] = list(scope.tags)
    if scope.metadata:
        event["metadata"] = dict(scope.metadata)
    environment = client.options.environment
    if environment is not None:
        event["environment"] = environment
    return event


def routing_field(policy_version: int, attempt: Attempt, reason: str) -> dict[str, Any]:
    return {
        "policy_version": policy_version,
        "arm": attempt.arm,
        "target": f"{attempt.provider}/{attempt.model}",
        "reason": reason,
    }


def set_payload(
    event: dict[str, Any], request: Callable[[], Any] | None, response: Callable[[], Any] | None
) -> None:
    event[PAYLOAD_KEY] = (request, response)


def mark_error(event: dict[str, Any], exc: BaseException) -> None:
    name = type(exc).__name__
    event["status"] = "timeout" if "Timeout" in name or isinstance(exc, TimeoutError) else "error"
    event["error_type"] = name[:256]


def elapsed_ms(start: float, end: float | None = None) -> int:
    return max(0, int(((end if end is not None else time.perf_counter()) - start) * 1000))
