"""Serialisation for the consumer thread: JSON (msgspec when installed) and gzip.

Nothing here runs on the caller's thread except in ``sync_mode``.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Mapping
from typing import Any

try:  # optional fast path
    import msgspec

    _msgspec_encode: Callable[[Any], bytes] | None = msgspec.json.Encoder().encode
except ImportError:  # pragma: no cover - exercised by the test that disables it
    _msgspec_encode = None

_SENTINEL_TYPES = frozenset({"NotGiven", "Omit", "_NotGiven", "_Omit"})
_MAX_DEPTH = 32


def dumps(value: Any, *, use_msgspec: bool = True) -> bytes:
    """Compact UTF-8 JSON of plain data (dict/list/str/number/bool/None)."""
    if use_msgspec and _msgspec_encode is not None:
        return _msgspec_encode(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def gzip_bytes(data: bytes, level: int = 1) -> bytes:
    """Gzip with a fixed header (no mtime). Level 1: telemetry JSON still shrinks ~10x, at a third of the CPU."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def is_sentinel(value: object) -> bool:
    """The OpenAI/Anthropic "not given" markers (``NOT_GIVEN``, ``omit``)."""
    return type(value).__name__ in _SENTINEL_TYPES


def to_jsonable(value: Any, depth: int = 0) -> Any:
    """Plain JSON data from SDK objects: pydantic models are dumped, unknown objects become str."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if depth > _MAX_DEPTH:
        return "<too deep>"
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, depth + 1) for k, v in value.items() if not is_sentinel(v)}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v, depth + 1) for v in value]
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return to_jsonable(dump(mode="json", exclude_none=True), depth + 1)
        except Exception:
            return str(value)
    return str(value)
