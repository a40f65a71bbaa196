"""Reading request bodies within limits: size, decompression (gzip, zstd) and bomb protection."""

from __future__ import annotations

import io
import zlib

import zstandard
from django.conf import settings
from django.http import HttpRequest

from apps.core.errors import ApplicationError


class PayloadTooLarge(ApplicationError):
    def __init__(self, message: str):
        super().__init__(message, code="payload_too_large", status=413)


def _mb(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n:,} bytes"


def read_body(request: HttpRequest) -> bytes:
    """The decoded request body, or a 413/415 naming the limit that was hit."""
    limit = settings.INGEST_MAX_BODY_BYTES
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body is larger than the {_mb(limit)} limit; send smaller batches")
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge(f"Request body is larger than the {_mb(limit)} limit; send smaller batches")
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return raw
    return decompress(raw, encoding)


def decompress(raw: bytes, encoding: str) -> bytes:
    limit = settings.INGEST_MAX_DECOMPRESSED_BYTES
    too_big = PayloadTooLarge(
        f"Decompressed body is larger than the {_mb(limit)} limit; send smaller batches"
    )
    try:
        if encoding == "gzip":
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            data = inflater.decompress(raw, limit + 1)
            if len(data) > limit or inflater.unconsumed_tail:
                raise too_big
            if not inflater.eof:
                raise ApplicationError("gzip body is truncated", code="malformed_request")
            return data
        if encoding == "zstd":
            with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)) as reader:
                data = reader.read(limit + 1)
            if len(data) > limit:
                raise too_big
            return data
    except (zlib.error, zstandard.ZstdError) as exc:
        raise ApplicationError(f"Body is not valid {encoding}: {exc}", code="malformed_request") from exc
    raise ApplicationError(
        f"Content-Encoding {encoding!r} is not supported; use gzip, zstd or none",
        code="unsupported_encoding",
        status=415,
    )
