"""Per-key token buckets, per process: the ingest rate limit (events per project) and the config
endpoint's (requests per SDK key)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Hashable


class TokenBuckets:
    """One bucket per key, refilled at `rate` tokens a second up to a burst of twice that."""

    def __init__(self) -> None:
        self._buckets: dict[Hashable, tuple[float, float]] = {}  # key → (tokens, updated)
        self._lock = threading.Lock()

    def take(self, key: Hashable, tokens: float, *, rate: float) -> int:
        """0 when `tokens` were taken from the key's bucket, else the whole seconds (at least 1)
        until they would be there; nothing is taken then."""
        burst = rate * 2.0
        now = time.monotonic()
        with self._lock:
            held, updated = self._buckets.get(key, (burst, now))
            held = min(burst, held + (now - updated) * rate)
            if tokens <= held:
                self._buckets[key] = (held - tokens, now)
                return 0
            self._buckets[key] = (held, now)
        return max(1, math.ceil((tokens - held) / rate))

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()
