"""The replay app's SQL files (apps/replay/queries/*.sql), read once."""

from __future__ import annotations

import functools

from apps.warehouse.client import load_sql


@functools.lru_cache(maxsize=64)
def sql(name: str) -> str:
    return load_sql(__file__, name)
