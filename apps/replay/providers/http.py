"""A lean HTTP/1.1 client on asyncio streams, for provider calls from one event loop.

Why not a general client: a replay sends thousands of small JSON POSTs to a handful of hosts,
and the CPU per request decides how many one worker can keep in flight. Keep-alive connections
per origin, Content-Length and chunked bodies, TLS with certificate verification, one deadline
per exchange. A request that fails on a reused connection before any response byte arrived is
sent once more on a fresh connection (the server closed the idle connection); nothing else is
retried here — retry policy lives in the engine.

With `allow_private=False` (production's default, PROVIDER_ALLOW_PRIVATE_URLS) every new connection
resolves the host itself and refuses loopback, private, link-local and reserved addresses, so a
provider URL cannot reach the service's own network, even if its name resolves differently after
it was saved (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from apps.core.network import is_public_address

USER_AGENT = b"switchyard-replay/1"
_MAX_BODY = 64 * 1024 * 1024


class HttpTimeout(Exception):
    def __init__(self, *, sent: bool):
        super().__init__("timed out")
        self.sent = sent


class HttpConnectionError(Exception):
    def __init__(self, message: str, *, sent: bool):
        super().__init__(message)
        self.sent = sent


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()


class _Stale(Exception):
    """A reused connection turned out closed before any response byte: send again."""


class HttpPool:
    """Keep-alive connections to one origin (scheme, host, port), used from one event loop."""

    def __init__(self, base_url: str, *, max_idle: int = 64, allow_private: bool = True):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.tls = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.tls else 80)
        self.prefix = parts.path.rstrip("/")
        default_port = 443 if self.tls else 80
        host_header = f"[{self.host}]" if ":" in self.host else self.host
        self._host_header = (
            host_header if self.port == default_port else f"{host_header}:{self.port}"
        ).encode()
        self._idle: list[_Conn] = []
        self._max_idle = max_idle
        self._ssl = ssl.create_default_context() if self.tls else None
        self._allow_private = allow_private

    async def _address(self) -> str:
        """The address to connect to: the host as given, or one it resolves to that is public."""
        if self._allow_private:
            return self.host
        infos = await asyncio.get_running_loop().getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        addresses = [str(info[4][0]) for info in infos]
        if not addresses or not all(is_public_address(a) for a in addresses):
            raise OSError(f"{self.host} resolves to a private or loopback address, refused on this server")
        return addresses[0]

    async def _open(self) -> _Conn:
        reader, writer = await asyncio.open_connection(
            await self._address(),
            self.port,
            ssl=self._ssl,
            server_hostname=self.host if self.tls else None,
            limit=1 << 20,
        )
        return _Conn(reader, writer)

    async def post(self, path: str, body: bytes, headers: dict[str, str], *, timeout: float) -> HttpResponse:
        """POST `body` to prefix + path; raises HttpTimeout or HttpConnectionError."""
        head = self._head(self.prefix + path, len(body), headers)
        sent = False
        try:
            async with asyncio.timeout(timeout):
                while True:
                    reused = bool(self._idle)
                    conn = self._idle.pop() if reused else await self._open()
                    try:
                        sent = True
                        return await self._exchange(conn, head, body, reused=reused)
                    except _Stale:
                        conn.close()
                        continue
        except TimeoutError as exc:
            raise HttpTimeout(sent=sent) from exc
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            raise HttpConnectionError(f"{type(exc).__name__}: {exc}", sent=sent) from exc

    def _head(self, path: str, length: int, headers: dict[str, str]) -> bytes:
        lines = [
            b"POST " + path.encode("ascii") + b" HTTP/1.1",
            b"Host: " + self._host_header,
            b"User-Agent: " + USER_AGENT,
            b"Accept: application/json",
            b"Accept-Encoding: identity",
            b"Content-Type: application/json",
            b"Content-Length: " + str(length).encode(),
        ]
        for name, value in headers.items():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise ValueError("header values must not contain line breaks")
            lines.append(f"{name}: {value}".encode("latin-1"))
        return b"\r\n".join(lines) + b"\r\n\r\n"

    async def _exchange(self, conn: _Conn, head: bytes, body: bytes, *, reused: bool) -> HttpResponse:
        keep = False
        try:
            conn.writer.write(head + body)
            try:
                await conn.writer.drain()
                raw = await conn.reader.readuntil(b"\r\n\r\n")
            except (OSError, asyncio.IncompleteReadError) as exc:
                if reused and not getattr(exc, "partial", b""):
                    raise _Stale() from exc
                raise
            lines = raw.split(b"\r\n")
            parts = lines[0].split(b" ", 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
                raise ValueError(f"not an HTTP/1.x response: {lines[0][:60]!r}")
            status = int(parts[1])
            headers: dict[str, str] = {}
            for line in lines[1:]:
                if b":" in line:
                    name, _, value = line.partition(b":")
                    headers[name.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
            if status in (204, 304) or status < 200:
                headers.setdefault("content-length", "0")
            data = await self._body(conn.reader, headers)
            keep = parts[0] == b"HTTP/1.1" and headers.get("connection", "").lower() != "close"
            return HttpResponse(status, headers, data)
        finally:
            if keep and len(self._idle) < self._max_idle:
                self._idle.append(conn)
            else:
                conn.close()

    async def _body(self, reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > _MAX_BODY:
                    raise ValueError("response body too large")
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
        length = headers.get("content-length")
        if length is not None:
            n = int(length)
            if n > _MAX_BODY:
                raise ValueError("response body too large")
            return await reader.readexactly(n)
        headers["connection"] = "close"  # delimited by the end of the connection
        return await reader.read(_MAX_BODY)

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        for conn in idle:
            with contextlib.suppress(OSError, ssl.SSLError):
                await conn.writer.wait_closed()
