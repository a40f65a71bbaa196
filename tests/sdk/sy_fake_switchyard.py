"""A local Switchyard peer speaking docs/protocol.md: ``POST /v1/ingest`` and ``GET /v1/config``.

It validates events as the protocol says (per-event rejections, duplicates by ``event_id``),
answers errors in the protocol's one shape, and serves configs signed with Ed25519 behind a
strong ETag. Failures can be scripted (``script``), and answers slowed down (``delay``), so the
SDK's retry, spool and never-block behaviour is observed against real HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sy_http import Handler

INGEST_KEY = "sy_ingest_abcd1234_" + "s" * 43
SDK_KEY = "sy_sdk_efgh5678_" + "t" * 43

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_INT_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
    "latency_ms",
    "ttft_ms",
)
_STATUSES = {"ok", "error", "timeout", "filtered"}
_ARMS = {"baseline", "candidate", "fallback"}


def public_key_b64(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def sign(key: Ed25519PrivateKey, body: bytes) -> str:
    return "ed25519=" + base64.b64encode(key.sign(body)).decode()


def validate_event(event: Any) -> str | None:
    """The protocol's rules for one event; a message for the first violation, or ``None``."""
    if not isinstance(event, dict):
        return "event: must be an object"
    if not isinstance(event.get("event_id"), str) or not _UUID.match(event["event_id"]):
        return "event_id: must be a UUID"
    ts = event.get("ts")
    if not (isinstance(ts, int) and ts > 0) and not isinstance(ts, str):
        return "ts: required, RFC 3339 string or epoch milliseconds"
    if not isinstance(event.get("model"), str) or not event["model"]:
        return "model: required"
    endpoint = event.get("endpoint", "default")
    if not isinstance(endpoint, str) or len(endpoint) > 128:
        return "endpoint: string of at most 128 characters"
    for name in _INT_FIELDS:
        value = event.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            return f"{name}: must be >= 0"
    if event.get("status", "ok") not in _STATUSES:
        return "status: must be ok|error|timeout|filtered"
    if event.get("service_tier", "standard") not in ("standard", "batch", "flex", "priority"):
        return "service_tier: must be standard|batch|flex|priority"
    routing = event.get("routing")
    if routing is not None:
        if not isinstance(routing, dict) or routing.get("arm") not in _ARMS:
            return "routing.arm: must be baseline|candidate|fallback"
        if not isinstance(routing.get("policy_version"), int) or not isinstance(routing.get("reason"), str):
            return "routing: policy_version int and reason str required"
    for name in ("conversation_id", "user_id", "error_type", "provider", "response_model", "model"):
        value = event.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > 256):
            return f"{name}: string of at most 256 characters"
    tags = event.get("tags")
    if tags is not None and (
        not isinstance(tags, list) or len(tags) > 64 or not all(isinstance(t, str) and len(t) <= 128 for t in tags)
    ):
        return "tags: at most 64 strings of at most 128 characters"
    metadata = event.get("metadata")
    if metadata is not None and (
        not isinstance(metadata, dict)
        or len(metadata) > 64
        or not all(isinstance(v, str) and len(v) <= 2048 for v in metadata.values())
    ):
        return "metadata: at most 64 string values of at most 2048 characters"
    for name in ("request", "response"):
        if name in event and not isinstance(event[name], dict):
            return f"{name}: must be an object"
    return None


@dataclass
class Scripted:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class SwitchyardState:
    signing_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    key_id: str = "test-key-1"
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    batches: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    script: list[Scripted] = field(default_factory=list)
    delay: float = 0.0
    max_body_bytes: int = 5_000_000
    config: tuple[bytes, str, str] | None = None  # body, signature header, etag
    config_requests: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def public_keys(self) -> dict[str, str]:
        return {self.key_id: public_key_b64(self.signing_key)}

    def reset(self) -> None:
        with self.lock:
            self.events.clear()
            self.batches.clear()
            self.rejected.clear()
            self.duplicates = 0
            self.script.clear()
            self.delay = 0.0
            self.max_body_bytes = 5_000_000
            self.config = None
            self.config_requests.clear()

    def publish(self, config: dict[str, Any], *, signature: str | None = None) -> bytes:
        """Serve ``config`` from now on, signed with the server key (or the given signature)."""
        body = json.dumps(config, separators=(",", ":")).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        with self.lock:
            self.config = (body, signature or sign(self.signing_key, body), etag)
        return body

    def wait_for_events(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.events) < count and time.monotonic() < deadline:
                self.arrived.wait(0.05)
            return list(self.events.values())

    def ingest(self, doc: Any, *, encoding: str | None = None, raw_bytes: int = 0) -> dict[str, Any]:
        events = doc.get("events") if isinstance(doc, dict) else None
        if not isinstance(events, list) or doc.get("schema_version") != 1:
            raise ValueError("body: schema_version 1 and an events list are required")
        accepted, duplicates, rejected = 0, 0, []
        with self.arrived:
            self.batches.append(
                {"count": len(events), "sdk": doc.get("sdk"), "encoding": encoding, "raw_bytes": raw_bytes}
            )
            for index, event in enumerate(events):
                problem = validate_event(event)
                if problem is not None:
                    rejected.append({"index": index, "code": "invalid_field", "message": problem})
                elif event["event_id"] in self.events:
                    duplicates += 1
                else:
                    self.events[event["event_id"]] = event
                    accepted += 1
            self.duplicates += duplicates
            self.rejected.extend(rejected)
            self.arrived.notify_all()
        return {"accepted": accepted, "rejected": rejected, "duplicates": duplicates}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class SwitchyardHandler(Handler):
    def _auth(self, expected: str) -> bool:
        if self.headers.get("Authorization") == f"Bearer {expected}":
            return True
        self.send_json(401, _error("invalid_key", "API key is unknown or revoked"))
        return False

    def do_POST(self) -> None:
        app: SwitchyardState = self.app
        raw_length = int(self.headers.get("Content-Length") or 0)
        if self.path != "/v1/ingest":
            self.read_body()
            self.send_json(404, _error("not_found", self.path))
            return
        if not self._auth(INGEST_KEY):
            self.rfile.read(raw_length)
            return
        with app.lock:
            scripted = app.script.pop(0) if app.script else None
            delay = app.delay
        if delay:
            time.sleep(delay)
        body = self.read_body()
        if scripted is not None:
            self.send_json(scripted.status, _error("scripted", "scripted failure"), scripted.headers)
            return
        if len(body) > app.max_body_bytes:
            self.send_json(413, _error("payload_too_large", "batch too large"))
            return
        try:
            result = app.ingest(
                json.loads(body), encoding=self.headers.get("Content-Encoding"), raw_bytes=len(body)
            )
        except ValueError as exc:
            self.send_json(400, _error("invalid_body", str(exc)))
            return
        self.send_json(200, result)

    def do_GET(self) -> None:
        app: SwitchyardState = self.app
        if self.path != "/v1/config":
            self.send_json(404, _error("not_found", self.path))
            return
        if not self._auth(SDK_KEY):
            return
        with app.lock:
            app.config_requests.append(dict(self.headers))
            config = app.config
        if config is None:
            self.send_json(404, _error("no_config", "nothing published"))
            return
        body, signature, etag = config
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if self.headers.get("If-None-Match") == etag:
            self.send_bytes(304, b"", headers=headers)
            return
        headers |= {"X-Switchyard-Signature": signature, "X-Switchyard-Key-Id": app.key_id}
        self.send_bytes(200, body, headers=headers)
