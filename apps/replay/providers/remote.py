"""What every HTTP provider shares: sending, timing, and turning HTTP failures into ProviderErrors."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from apps.replay.providers.base import Adapter, ChatRequest, Completion, ProviderError
from apps.replay.providers.http import HttpConnectionError, HttpPool, HttpResponse, HttpTimeout

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """`retry-after-ms`, or `Retry-After` in seconds or as an HTTP date."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error_message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace").strip()
    error = data.get("error") if isinstance(data, Mapping) else None
    if isinstance(error, Mapping):
        return str(error.get("message") or error.get("type") or error)[:300]
    if isinstance(error, str):
        return error[:300]
    return str(data)[:300]


def error_for(provider: str, response: HttpResponse) -> ProviderError:
    status = response.status
    detail = _error_message(response.body)
    message = f"{provider}: HTTP {status}" + (f": {detail}" if detail else "")
    if status == 429:
        return ProviderError(
            message, kind="rate_limited", status=status, retry_after=retry_after_seconds(response.headers)
        )
    if status in (401, 403):
        return ProviderError(message, kind="auth", status=status)
    if status == 404:
        return ProviderError(message, kind="not_found", status=status)
    if status in (408, 409) or status >= 500:  # 529: Anthropic "overloaded"
        return ProviderError(
            message, kind="server", status=status, retry_after=retry_after_seconds(response.headers)
        )
    return ProviderError(message, kind="bad_request", status=status)


class HttpAdapter(Adapter):
    """A provider reached over HTTP(S) with a JSON body. Subclasses render and parse."""

    default_base_url = ""

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        api_key: str,
        timeout_s: float,
        max_connections: int = 64,
        allow_private: bool = True,
    ):
        self.provider = provider
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.pool = HttpPool(
            base_url or self.default_base_url, max_idle=max_connections, allow_private=allow_private
        )

    def headers(self) -> dict[str, str]:
        raise NotImplementedError

    def path(self, model: str) -> str:
        raise NotImplementedError

    def render(self, request: ChatRequest, model: str) -> dict[str, Any]:
        raise NotImplementedError

    def parse(self, data: Mapping[str, Any], latency_ms: int) -> Completion:
        raise NotImplementedError

    async def complete(self, request: ChatRequest, *, model: str) -> Completion:
        body = _dumps(self.render(request, model)).encode("utf-8")
        start = time.perf_counter()
        try:
            response = await self.pool.post(self.path(model), body, self.headers(), timeout=self.timeout_s)
        except HttpTimeout as exc:
            raise ProviderError(
                f"{self.provider}: no answer within {self.timeout_s:g} s",
                kind="timeout",
                maybe_billed=exc.sent,
            ) from exc
        except HttpConnectionError as exc:
            raise ProviderError(
                f"{self.provider}: connection failed ({exc})", kind="connection", maybe_billed=False
            ) from exc
        latency_ms = int((time.perf_counter() - start) * 1000)
        if response.status != 200:
            raise error_for(self.provider, response)
        try:
            data = json.loads(response.body)
            if not isinstance(data, Mapping):
                raise ValueError("not a JSON object")
            return self.parse(data, latency_ms)
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            snippet = response.body[:80].decode("utf-8", "replace")
            raise ProviderError(
                f"{self.provider}: malformed reply ({type(exc).__name__}: {exc}; body starts {snippet!r})",
                kind="malformed",
                maybe_billed=True,
            ) from exc

    async def aclose(self) -> None:
        await self.pool.aclose()
