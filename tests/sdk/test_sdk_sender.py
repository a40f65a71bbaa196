"""Delivery decisions in detail, through ``MockTransport`` (no network, no sleeping)."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
import switchyard
from switchyard._encode import dumps
from switchyard._sender import Sender, retry_after_seconds
from switchyard._stats import Counters


class RecordingStop:
    """Stands in for the consumer's stop event: records the backoff delays instead of sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def wait(self, delay: float) -> bool:
        self.delays.append(delay)
        return False

    def is_set(self) -> bool:
        return False


def make_sender(responses: list[switchyard.Response | Exception], **kwargs: Any) -> tuple[Sender, list[bytes]]:
    bodies: list[bytes] = []

    def handler(request: switchyard.Request) -> switchyard.Response:
        assert request.headers["Content-Encoding"] == "gzip"
        assert request.headers["Authorization"] == "Bearer sy_ingest_x"
        bodies.append(gzip.decompress(request.body))
        answer = responses.pop(0) if responses else ok(1)
        if isinstance(answer, Exception):
            raise answer
        return answer

    options: dict[str, Any] = {
        "host": "http://sy.test",
        "api_key": "sy_ingest_x",
        "transport": switchyard.MockTransport(handler),
        "counters": Counters(),
        "spool": None,
        "max_retries": 4,
        "request_timeout": 1.0,
        "max_event_bytes": 10_000,
        "redact": None,
        "redact_secrets": True,
    }
    options.update(kwargs)
    return Sender(**options), bodies


def ok(accepted: int, **extra: Any) -> switchyard.Response:
    return switchyard.Response(200, {}, json.dumps({"accepted": accepted, "rejected": [], "duplicates": 0, **extra}).encode())


def status(code: int, **headers: str) -> switchyard.Response:
    return switchyard.Response(code, {k.lower(): v for k, v in headers.items()}, b'{"error": {"code": "x", "message": "m"}}')


def parts(n: int) -> list[bytes]:
    return [dumps({"event_id": f"e{i}", "model": "m"}) for i in range(n)]


def test_envelope_is_the_protocol_body() -> None:
    sender, bodies = make_sender([])
    sender.deliver(parts(2), RecordingStop())  # type: ignore[arg-type]
    doc = json.loads(bodies[0])
    assert doc["schema_version"] == 1
    assert doc["sdk"] == {"name": "switchyard-python", "version": switchyard.__version__}
    assert [e["event_id"] for e in doc["events"]] == ["e0", "e1"]


@pytest.mark.parametrize("code", [500, 502, 503, 504, 408, 429])
def test_retryable_statuses_back_off_with_jitter(code: int) -> None:
    sender, bodies = make_sender([status(code), status(code), status(code), ok(3)])
    stop = RecordingStop()
    sender.deliver(parts(3), stop)  # type: ignore[arg-type]
    assert len(bodies) == 4 and len(set(bodies)) == 1  # the same batch, same event ids
    assert sender.counters.sent == 3 and sender.counters.retries == 3
    for attempt, delay in enumerate(stop.delays):
        cap = 0.5 * 2**attempt
        assert cap / 2 <= delay <= cap


def test_network_errors_are_retried() -> None:
    sender, bodies = make_sender([switchyard.TransportError("refused"), ok(1)])
    sender.deliver(parts(1), RecordingStop())  # type: ignore[arg-type]
    assert len(bodies) == 2 and sender.counters.sent == 1


def test_retry_after_is_honoured() -> None:
    sender, _ = make_sender([status(429, **{"Retry-After": "7"}), status(503, **{"Retry-After": "2.5"}), ok(1)])
    stop = RecordingStop()
    sender.deliver(parts(1), stop)  # type: ignore[arg-type]
    assert 7.0 <= stop.delays[0] <= 7.1 and 2.5 <= stop.delays[1] <= 2.6


def test_retry_after_parsing() -> None:
    assert retry_after_seconds(status(429, **{"Retry-After": "12"})) == 12.0
    assert retry_after_seconds(status(429, **{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after_seconds(status(429, **{"Retry-After": "soon"})) is None
    assert retry_after_seconds(status(429)) is None


def test_retries_are_bounded() -> None:
    sender, bodies = make_sender([status(503)] * 10, max_retries=2)
    sender.deliver(parts(2), RecordingStop())  # type: ignore[arg-type]
    assert len(bodies) == 3
    assert sender.counters.dropped == {"retries_exhausted": 2}


@pytest.mark.parametrize(("code", "reason"), [(400, "http_400"), (422, "http_422"), (401, "unauthorized"),
                                              (403, "unauthorized"), (404, "http_404")])
def test_non_retryable_statuses_drop_once(code: int, reason: str) -> None:
    sender, bodies = make_sender([status(code)])
    sender.deliver(parts(3), RecordingStop())  # type: ignore[arg-type]
    assert len(bodies) == 1
    assert sender.counters.dropped == {reason: 3}


def test_413_halves_until_it_fits() -> None:
    sender, bodies = make_sender([status(413), status(413), ok(1), ok(1), status(413), ok(1), status(413)])
    sender.deliver(parts(4), RecordingStop())  # type: ignore[arg-type]
    assert [len(json.loads(b)["events"]) for b in bodies] == [4, 2, 1, 1, 2, 1, 1]
    assert sender.counters.sent == 3
    assert sender.counters.dropped == {"too_large": 1}  # a single event that does not fit is dropped


def test_partial_rejections_and_duplicates_are_counted() -> None:
    rejected = [{"index": 1, "code": "invalid_field", "message": "input_tokens: must be >= 0"}]
    sender, _ = make_sender([switchyard.Response(200, {}, json.dumps(
        {"accepted": 1, "rejected": rejected, "duplicates": 1}).encode())])
    sender.deliver(parts(3), RecordingStop())  # type: ignore[arg-type]
    assert sender.counters.sent == 2 and sender.counters.duplicates == 1
    assert sender.counters.dropped == {"rejected:invalid_field": 1}


def test_encode_materialises_redacts_and_limits() -> None:
    sender, _ = make_sender([], max_event_bytes=400)
    event: dict[str, Any] = {"event_id": "e", "__payload__": (lambda: {"q": "token sk-abcdefghijklmnop1234"}, None)}
    data = sender.encode(event)
    assert data is not None and b"REDACTED:api_key" in data and b"__payload__" not in data
    big: dict[str, Any] = {"event_id": "e", "__payload__": (lambda: {"q": "x" * 1_000}, lambda: None)}
    data = sender.encode(big)
    assert data is not None and b"request" not in data
    assert sender.counters.payloads_removed == 1


def test_unencodable_event_is_dropped_not_raised() -> None:
    sender, _ = make_sender([], use_msgspec=False)
    event: dict[str, Any] = {"event_id": "e", "__payload__": (lambda: 1 / 0, None)}
    assert sender.encode(event) is None
    assert sender.counters.dropped == {"unserializable": 1}


def test_json_fallback_matches_msgspec() -> None:
    event = {"event_id": "e", "ts": 1, "tags": ["a"], "metadata": {"k": "ü"}, "latency_ms": 3, "x": None, "f": 0.5}
    assert json.loads(dumps(event)) == json.loads(dumps(event, use_msgspec=False)) == event
