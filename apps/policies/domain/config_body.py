"""The config document (docs/protocol.md, `GET /v1/config`) and its exact bytes.

Bytes are deterministic: keys sorted, no whitespace, UTF-8. They are made once at publish time,
signed, stored and served as they are.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

SCHEMA_VERSION = 1


def encode(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def etag(body: bytes) -> str:
    """A strong ETag over the exact bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


def content(
    *,
    project: str,
    capture: Mapping[str, Any],
    killed_models: Iterable[str],
    killed_providers: Iterable[str],
    policies: Iterable[Mapping[str, Any]],
    budgets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything in the body except `config_version` and `published_at`. `capture` is the
    project's capture (apps.ingest.selectors.Capture.as_dict); `budgets` (the budget state the SDK
    must act on, apps.spend) is present only while some scope is exhausted."""
    doc = {
        "schema_version": SCHEMA_VERSION,
        "project": project,
        "capture": dict(capture),
        "kill_switch": {"models": sorted(set(killed_models)), "providers": sorted(set(killed_providers))},
        "policies": sorted((dict(p) for p in policies), key=lambda p: p["endpoint"]),
    }
    if budgets and budgets.get("exhausted"):
        doc["budgets"] = dict(budgets)
    return doc


def content_hash(doc: Mapping[str, Any]) -> str:
    return hashlib.sha256(encode(doc)).hexdigest()


def document(doc: Mapping[str, Any], *, config_version: int, published_at: datetime) -> dict[str, Any]:
    if published_at.tzinfo is None or published_at.utcoffset():
        raise ValueError("published_at must be an aware UTC datetime")
    stamp = published_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {**doc, "config_version": config_version, "published_at": stamp}
