"""The replay app's SQL files (apps/replay/queries/*.sql), read once.

A file may include another with `/*include:<name>*/` (static text from this folder, so one filter
is written once); nothing a request sends ever reaches the SQL text.
"""

from __future__ import annotations

import functools
import re

from apps.warehouse.client import load_sql

_INCLUDE = re.compile(r"/\*include:(\w+)\*/")


@functools.lru_cache(maxsize=64)
def sql(name: str) -> str:
    return _INCLUDE.sub(lambda m: sql(m.group(1)), load_sql(__file__, name))
