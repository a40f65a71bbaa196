"""Transports: how the SDK's bytes reach the Switchyard server.

The SDK talks to the server through a :class:`Transport`, one synchronous method that takes a
:class:`Request` and returns a :class:`Response`. :class:`HTTPTransport` (stdlib ``http.client``,
keep-alive, one connection per thread) is the default; :class:`MockTransport` answers from a
function so tests need no network.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from ._errors import TransportError
from ._fork import after_fork_in_child


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request made by the SDK (ingest batch or config poll)."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class Response:
    """The server's answer. Header names are lower-case."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """Return the header ``name`` (case-insensitive) or ``None``."""
        return self.headers.get(name.lower())


@runtime_checkable
class Transport(Protocol):
    """Sends one request and returns the response; raises :class:`TransportError` on network failure.

    Example, a transport that records what it would send::

        class Recorder:
            def __init__(self) -> None:
                self.sent: list[switchyard.Request] = []

            def send(self, request: switchyard.Request) -> switchyard.Response:
                self.sent.append(request)
                return switchyard.Response(200, {}, b'{"accepted": 1, "rejected": [], "duplicates": 0}')

        switchyard.init(api_key="sy_ingest_…", transport=Recorder(), sync_mode=True)
    """

    def send(self, request: Request) -> Response: ...


class MockTransport:
    """A transport that calls ``handler(request)`` instead of the network.

    Example::

        def handler(request: switchyard.Request) -> switchyard.Response:
            return switchyard.Response(200, {}, b'{"accepted": 1, "rejected": [], "duplicates": 0}')

        switchyard.init(api_key="sy_ingest_test", transport=switchyard.MockTransport(handler))
    """

    def __init__(self, handler: Callable[[Request], Response]) -> None:
        self._handler = handler

    def send(self, request: Request) -> Response:
        return self._handler(request)


_Key = tuple[str, str, int]


class HTTPTransport:
    """HTTP/1.1 over ``http.client`` with one kept-alive connection per thread and origin.

    Example::

        transport = switchyard.HTTPTransport()
        response = transport.send(switchyard.Request("GET", "https://switchyard.example/healthz", {}))
    """

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl_context = ssl_context
        self._local = threading.local()
        after_fork_in_child(self, HTTPTransport._forget_connections)

    def _forget_connections(self) -> None:
        """In a forked child: the parent's sockets are the parent's; never write to them."""
        self._local = threading.local()

    def _connections(self) -> dict[_Key, http.client.HTTPConnection]:
        conns: dict[_Key, http.client.HTTPConnection] | None = getattr(self._local, "conns", None)
        if conns is None:
            conns = {}
            self._local.conns = conns
        return conns

    def _connect(self, key: _Key, timeout: float) -> http.client.HTTPConnection:
        scheme, host, port = key
        if scheme == "https":
            context = self._ssl_context or ssl.create_default_context()
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        return http.client.HTTPConnection(host, port, timeout=timeout)

    def send(self, request: Request) -> Response:
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(f"unsupported URL: {request.url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        key: _Key = (parts.scheme, parts.hostname, port)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        conns = self._connections()
        for attempt in (0, 1):
            conn = conns.get(key)
            reused = conn is not None
            if conn is None:
                conn = self._connect(key, request.timeout)
                conns[key] = conn
            try:
                conn.timeout = request.timeout
                if conn.sock is not None:
                    conn.sock.settimeout(request.timeout)
                conn.request(request.method, target, body=request.body or None, headers=dict(request.headers))
                raw = conn.getresponse()
                body = raw.read()
                headers = {name.lower(): value for name, value in raw.getheaders()}
                if raw.will_close:
                    conn.close()
                    conns.pop(key, None)
                return Response(raw.status, headers, body)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conns.pop(key, None)
                stale = isinstance(exc, http.client.RemoteDisconnected | BrokenPipeError | ConnectionResetError)
                if attempt == 0 and reused and stale and not isinstance(exc, socket.timeout):
                    continue  # the server closed an idle keep-alive connection: one fresh try
                raise TransportError(f"{request.method} {request.url}: {exc!r}") from exc
        raise TransportError(f"{request.method} {request.url}: no response")  # pragma: no cover

    def close(self) -> None:
        """Close this thread's connections."""
        for conn in self._connections().values():
            conn.close()
        self._connections().clear()
