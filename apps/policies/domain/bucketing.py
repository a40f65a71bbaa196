"""Sticky bucketing, exactly as the SDK does it (docs/protocol.md, "Bucketing").

`bucket(salt, unit) = int.from_bytes(sha256(f"{salt}:{unit}")[:8], "big") % 10000`; a unit is in
the rollout when its bucket is below `round(percent * 100)`; `split` draws a second bucket with the
salt `salt + ":split"` against cumulative weights. Shared vectors: sdk/testdata/bucketing_vectors.json.
The server uses these to tell which conversations or users a rollout covers.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import sha256

BUCKETS = 10_000


def bucket(salt: str, unit: str) -> int:
    return int.from_bytes(sha256(f"{salt}:{unit}".encode()).digest()[:8], "big") % BUCKETS


def rollout_threshold(percent: float) -> int:
    return round(percent * 100)


def in_rollout(salt: str, unit: str, percent: float) -> bool:
    return bucket(salt, unit) < rollout_threshold(percent)


def split_index(salt: str, unit: str, weights: Sequence[int]) -> int:
    """The target a `split` policy picks for `unit` (weights sum to 10000)."""
    draw = bucket(salt + ":split", unit)
    running = 0
    for i, weight in enumerate(weights):
        running += weight
        if draw < running:
            return i
    return len(weights) - 1
