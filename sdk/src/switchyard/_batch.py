"""``switchyard.record_batch``: the results of a Batch API job, recorded as calls served at the batch tier.

A batch's requests never pass through a wrapped client: they are uploaded in a file and their
answers come back in another. The results carry everything an event needs (model, usage), and the
protocol's ``service_tier`` = ``batch`` prices them at the batch price.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from ._client import current_client
from ._context import current_scope, merge_scope
from ._integrations._anthropic import MESSAGES_USAGE
from ._integrations._core import get, read_usage
from ._integrations._openai import CHAT_USAGE, RESPONSES_USAGE
from ._log import log_once
from ._recorder import base_event, now_ms

_NAMESPACE = uuid.UUID("0b6f7a7e-3c1d-4f55-9a4e-5d2a1c8e9b30")


def _items(results: Any) -> Iterable[Any]:
    """OpenAI's output file (bytes or text, one JSON object a line) or an iterable of results."""
    if isinstance(results, bytes | bytearray):
        results = results.decode("utf-8")
    if isinstance(results, str):
        return (json.loads(line) for line in results.splitlines() if line.strip())
    content = getattr(results, "content", None)  # openai's HttpxBinaryResponseContent
    if isinstance(content, bytes | bytearray):
        return _items(content)
    return results  # type: ignore[no-any-return]


def _openai(item: Any) -> tuple[str, dict[str, Any]] | None:
    response = get(item, "response")
    if response is None or get(response, "status_code") != 200:
        return None
    body = get(response, "body")
    if not isinstance(body, Mapping):
        return None
    fields: dict[str, Any] = {"response_model": body.get("model")}
    usage = body.get("usage")
    if isinstance(usage, Mapping):
        responses_api = body.get("object") == "response"
        read_usage(fields, usage, RESPONSES_USAGE if responses_api else CHAT_USAGE, True)
    created = body.get("created") or body.get("created_at")
    if isinstance(created, int) and created > 0:
        fields["ts"] = created * 1000
    return str(body.get("id") or get(item, "id") or ""), fields


def _anthropic(item: Any) -> tuple[str, dict[str, Any]] | None:
    result = get(item, "result")
    if get(result, "type") != "succeeded":
        return None
    message = get(result, "message")
    usage = get(message, "usage")
    fields: dict[str, Any] = {"response_model": get(message, "model")}
    if usage is not None:
        read_usage(fields, usage, MESSAGES_USAGE, False)
    return str(get(message, "id") or ""), fields


def record_batch(
    results: Any,
    *,
    provider: str | None = None,
    endpoint: str | None = None,
    model: str | None = None,
) -> int:
    """Record each succeeded result of an OpenAI or Anthropic Batch API job as one call at the batch tier.

    ``results`` is OpenAI's output file (``client.files.content(batch.output_file_id)``, its bytes
    or text, or its parsed lines) or Anthropic's ``client.messages.batches.results(batch_id)``
    (or its items as dicts). Failed, errored, cancelled and expired results are skipped. Each
    event's id is derived from the result's ``custom_id`` and response id, so recording the same
    results twice stores them once. Returns how many calls were recorded. Never raises.

    Example::

        content = openai_client.files.content(batch.output_file_id)
        switchyard.record_batch(content, endpoint="nightly-summaries")
    """
    client = current_client()
    if client is None:
        return 0
    scope = merge_scope(current_scope(), endpoint=endpoint)
    recorded = 0
    try:
        for item in _items(results):
            is_openai = get(item, "response") is not None or get(item, "error") is not None
            found = _openai(item) if is_openai else _anthropic(item)
            if found is None:
                continue
            response_id, fields = found
            answered = fields.get("response_model")
            name = model or (answered if isinstance(answered, str) else "") or "unknown"
            custom_id = str(get(item, "custom_id") or "")
            event_id = str(uuid.uuid5(_NAMESPACE, f"{custom_id}:{response_id}"))
            event = base_event(
                client,
                scope,
                event_id=event_id,
                provider=provider or ("openai" if is_openai else "anthropic"),
                model=name,
                ts_ms=fields.pop("ts", None) or now_ms(),
            )
            if not isinstance(answered, str):
                fields.pop("response_model", None)
            event.update(fields)
            event["service_tier"] = "batch"
            event["status"] = "ok"
            if custom_id:
                event.setdefault("metadata", {})["batch.custom_id"] = custom_id[:2048]
            client.record(event)
            recorded += 1
    except Exception as exc:
        log_once("record-batch", "switchyard: record_batch stopped after an internal error: %r", exc)
    return recorded
