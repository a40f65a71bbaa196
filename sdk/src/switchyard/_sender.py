"""Delivery of ingest batches: encoding, gzip, retries, status handling, the spool.

Runs on the consumer thread (or the caller's, in ``sync_mode``). Retries only on 5xx, 408, 429 and
network errors, with jittered exponential backoff that honours ``Retry-After``; 400/413/422 are
dropped with a counted reason (413 first splits the batch), 401/403 are logged once and dropped.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

from ._encode import dumps, gzip_bytes, to_jsonable
from ._errors import TransportError
from ._log import log_once
from ._redact import redact_secrets
from ._spool import Spool
from ._stats import Counters
from ._transport import Request, Response, Transport
from ._version import __version__

PAYLOAD_KEY = "__payload__"

RedactHook = Callable[[dict[str, Any]], dict[str, Any] | None]

_SENT, _DROPPED, _RETRY, _TOO_LARGE, _EXHAUSTED, _INTERRUPTED = (
    "sent",
    "dropped",
    "retry",
    "too_large",
    "exhausted",
    "interrupted",
)


def retry_after_seconds(response: Response) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), or ``None``."""
    value = response.header("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class Sender:
    """Turns events into request bodies and gets them to ``POST /v1/ingest``."""

    def __init__(
        self,
        *,
        host: str,
        api_key: str,
        transport: Transport,
        counters: Counters,
        spool: Spool | None,
        max_retries: int,
        request_timeout: float,
        max_event_bytes: int,
        redact: RedactHook | None,
        redact_secrets: bool,
        use_msgspec: bool = True,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = 120.0,
    ) -> None:
        self.url = host.rstrip("/") + "/v1/ingest"
        self.headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "User-Agent": f"switchyard-python/{__version__}",
        }
        self.transport = transport
        self.counters = counters
        self.spool = spool
        self.max_retries = max_retries
        self.request_timeout = request_timeout
        self.max_event_bytes = max_event_bytes
        self.redact = redact
        self.redact_secrets = redact_secrets
        self.use_msgspec = use_msgspec
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self._prefix = b'{"schema_version":1,"sdk":' + dumps(
            {"name": "switchyard-python", "version": __version__}
        ) + b',"events":['
        self._down_until = 0.0
        self._down_backoff = 0.0

    # -- encoding -------------------------------------------------------------------------------

    def encode(self, event: dict[str, Any]) -> bytes | None:
        """One event as JSON bytes, payloads materialised and redacted; ``None`` if it cannot be."""
        payload = event.pop(PAYLOAD_KEY, None)
        try:
            if payload is not None:
                self._attach_payload(event, payload)
            data = dumps(event, use_msgspec=self.use_msgspec)
            if len(data) > self.max_event_bytes and ("request" in event or "response" in event):
                event.pop("request", None)
                event.pop("response", None)
                self.counters.add("payloads_removed")
                data = dumps(event, use_msgspec=self.use_msgspec)
        except Exception as exc:
            log_once("encode", "switchyard: dropping an event that cannot be encoded: %r", exc)
            self.counters.drop("unserializable")
            return None
        return data

    def _attach_payload(self, event: dict[str, Any], payload: Any) -> None:
        request_fn, response_fn = payload
        request = to_jsonable(request_fn()) if request_fn is not None else None
        response = to_jsonable(response_fn()) if response_fn is not None else None
        if self.redact_secrets:
            request, response = redact_secrets(request), redact_secrets(response)
        if request is not None:
            event["request"] = request
        if response is not None:
            event["response"] = response
        if self.redact is None:
            return
        try:
            result = self.redact(event)
        except Exception as exc:
            log_once("redact-hook", "switchyard: redact hook raised %r; payloads removed", exc)
            result = None
        if result is None:
            event.pop("request", None)
            event.pop("response", None)
            self.counters.add("payloads_removed")
        elif result is not event:
            event.clear()
            event.update(result)

    def body(self, parts: list[bytes]) -> bytes:
        """The gzipped ``POST /v1/ingest`` body for encoded events."""
        return gzip_bytes(self._prefix + b",".join(parts) + b"]}")

    # -- delivery -------------------------------------------------------------------------------

    def deliver(self, parts: list[bytes], stop: threading.Event) -> None:
        """Send one batch; on failure spool it (if configured) or count it as dropped."""
        if not parts:
            return
        count = len(parts)
        body = self.body(parts)
        if self.spool is not None and time.monotonic() < self._down_until:
            self.spool.put(body, count)  # the server is down: do not wait for it here
            return
        retries = min(self.max_retries, 2) if self.spool is not None else self.max_retries
        outcome = self._send(body, count, stop, retries)
        if outcome == _TOO_LARGE:
            if count == 1:
                self.counters.drop("too_large")
                return
            mid = count // 2
            self.deliver(parts[:mid], stop)
            self.deliver(parts[mid:], stop)
        elif outcome in (_EXHAUSTED, _INTERRUPTED):
            if self.spool is not None:
                self.spool.put(body, count)
                self._mark_down()
            else:
                self.counters.drop("retries_exhausted" if outcome == _EXHAUSTED else "shutdown", count)
        elif outcome == _SENT and self.spool is not None:
            self._down_until = self._down_backoff = 0.0
            self.drain_spool(stop)

    def drain_spool(self, stop: threading.Event) -> None:
        """Send spooled batches, oldest first, until one fails or the spool is empty."""
        spool = self.spool
        while spool is not None and not stop.is_set() and time.monotonic() >= self._down_until:
            entry = spool.claim_oldest()
            if entry is None:
                return
            outcome = self._send(entry.body, entry.count, stop, 0)
            if outcome in (_SENT, _DROPPED):
                spool.complete(entry)
            elif outcome == _TOO_LARGE:
                spool.complete(entry)
                self.counters.drop("too_large", entry.count)
            else:
                spool.release(entry)
                self._mark_down()
                return

    def _mark_down(self) -> None:
        self._down_backoff = min(60.0, max(1.0, self._down_backoff * 2))
        self._down_until = time.monotonic() + self._down_backoff * random.uniform(0.5, 1.0)  # noqa: S311

    def _send(self, body: bytes, count: int, stop: threading.Event, retries: int) -> str:
        for attempt in range(retries + 1):
            outcome, retry_after = self._attempt(body, count)
            if outcome != _RETRY:
                return outcome
            if attempt == retries:
                return _EXHAUSTED
            self.counters.add("retries")
            delay = min(self.backoff_max, self.backoff_base * 2**attempt) * random.uniform(0.5, 1.0)  # noqa: S311
            if retry_after is not None:
                delay = min(self.max_retry_after, retry_after) + random.uniform(0.0, 0.1)  # noqa: S311
            if stop.wait(delay):
                return _INTERRUPTED
        return _EXHAUSTED  # pragma: no cover

    def _attempt(self, body: bytes, count: int) -> tuple[str, float | None]:
        request = Request("POST", self.url, self.headers, body, self.request_timeout)
        try:
            response = self.transport.send(request)
        except TransportError as exc:
            log_once("ingest-network", "switchyard: cannot reach %s (%s); will retry", self.url, exc)
            return _RETRY, None
        except Exception as exc:
            log_once("ingest-transport", "switchyard: transport raised %r; will retry", exc)
            return _RETRY, None
        status = response.status
        if 200 <= status < 300:
            self._accepted(response, count)
            return _SENT, None
        if status in (408, 429) or status >= 500:
            return _RETRY, retry_after_seconds(response)
        if status == 413:
            return _TOO_LARGE, None
        reason = "unauthorized" if status in (401, 403) else f"http_{status}"
        log_once(
            f"ingest-{status}",
            "switchyard: ingest answered %s (%s); dropping %d events",
            status,
            _error_message(response.body),
            count,
            level=logging.ERROR,
        )
        self.counters.drop(reason, count)
        return _DROPPED, None

    def _accepted(self, response: Response, count: int) -> None:
        try:
            doc = json.loads(response.body or b"{}")
        except ValueError:
            doc = {}
        if not isinstance(doc, dict):
            doc = {}
        rejected = doc.get("rejected") or []
        duplicates = doc.get("duplicates") or 0
        accepted = doc.get("accepted", count - len(rejected) - duplicates)
        self.counters.add("sent", int(accepted) + int(duplicates))
        self.counters.add("duplicates", int(duplicates))
        for item in rejected if isinstance(rejected, list) else []:
            code = item.get("code", "rejected") if isinstance(item, dict) else "rejected"
            self.counters.drop(f"rejected:{code}")
            log_once(f"rejected-{code}", "switchyard: server rejected an event: %s", item)


def _error_message(body: bytes) -> str:
    try:
        doc = json.loads(body)
        return str(doc["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return body[:200].decode(errors="replace")
