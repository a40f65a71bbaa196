"""Spend fixtures: a priced model, calls with known costs stored through POST /v1/ingest, and real
local peers for webhooks (a signed-webhook receiver and a Slack-compatible one)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from apps.pricing.models import LlmModel, Provider
from apps.pricing.selectors import price_book_invalidate
from apps.pricing.services import price_create


class _Receiver(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append((dict(self.headers), body))
        status = self.server.fail.pop(0) if self.server.fail else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


class Peer:
    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
        self.server.received = []  # type: ignore[attr-defined]
        self.server.fail = []  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def received(self) -> list[tuple[dict[str, str], bytes]]:
        return self.server.received  # type: ignore[attr-defined, no-any-return]

    def fail_next(self, *statuses: int) -> None:
        self.server.fail.extend(statuses)  # type: ignore[attr-defined]


@pytest.fixture
def webhook_peer() -> Iterator[Peer]:
    peer = Peer()
    yield peer
    peer.server.shutdown()


@pytest.fixture
def slack_peer() -> Iterator[Peer]:
    peer = Peer()
    yield peer
    peer.server.shutdown()


@pytest.fixture
def prices(db: None) -> Iterator[dict[str, LlmModel]]:
    """gpt-4o-mini at $0.15 / $0.60 per 1M tokens: a call with 1M in and 1M out costs $0.75."""
    price_book_invalidate()
    openai = Provider.objects.create(slug="openai", name="OpenAI")
    mini = LlmModel.objects.create(provider=openai, name="gpt-4o-mini")
    big = LlmModel.objects.create(provider=openai, name="gpt-4o")
    price_create(
        model=mini, organization=None, actor=None, effective_from="2024-07-18",
        prices={"input": "0.15", "output": "0.60"}, per_exp=6,
    )  # fmt: skip
    price_create(
        model=big, organization=None, actor=None, effective_from="2024-07-18",
        prices={"input": "2.5", "output": "10"}, per_exp=6,
    )  # fmt: skip
    price_book_invalidate()
    yield {"gpt-4o-mini": mini, "gpt-4o": big}
    price_book_invalidate()


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
