"""Per-provider limits in the engine's event loop: concurrency, request rate, and back-off pauses."""

from __future__ import annotations

import asyncio
import random

from django.conf import settings

MAX_RETRY_AFTER_S = 120.0


def retry_base_s() -> float:
    return float(getattr(settings, "REPLAY_RETRY_BASE_S", 1.0))


def backoff_s(attempt: int, retry_after: float | None) -> float:
    """Seconds before attempt `attempt + 1`: the provider's Retry-After, else jittered exponential."""
    if retry_after is not None:
        return min(retry_after, MAX_RETRY_AFTER_S)
    base = retry_base_s() * (2 ** (attempt - 1))
    return min(30.0, base) * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security


class Gate:
    """At most `concurrency` requests in flight and `rpm` started per minute (token bucket with a
    burst of `concurrency`); a 429's Retry-After pauses every request to the provider."""

    def __init__(self, *, concurrency: int, rpm: int):
        self.concurrency = max(1, concurrency)
        self._slots = asyncio.Semaphore(self.concurrency)
        self._interval = 60.0 / max(1, rpm)
        self._burst = float(self.concurrency)
        self._tokens = self._burst
        self._updated = 0.0
        self._paused_until = 0.0
        self.consecutive_failures = 0

    async def acquire(self) -> None:
        await self._slots.acquire()
        loop = asyncio.get_running_loop()
        try:
            while True:
                now = loop.time()
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                if self._updated:
                    self._tokens = min(self._burst, self._tokens + (now - self._updated) / self._interval)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) * self._interval)
        except BaseException:
            self._slots.release()
            raise

    def release(self) -> None:
        self._slots.release()

    def pause(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._paused_until = max(self._paused_until, loop.time() + min(seconds, MAX_RETRY_AFTER_S))
