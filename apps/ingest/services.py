"""Ingest: validate a batch, price and redact each event, hand rows to the group-commit writer."""

from __future__ import annotations

import hashlib
import uuid
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
from django.conf import settings

from apps.accounts.selectors import KeyPrincipal
from apps.core.errors import ApplicationError
from apps.ingest import limits, schema
from apps.ingest.models import CaptureMode
from apps.ingest.redaction import redact
from apps.ingest.selectors import IngestConfig, ingest_config
from apps.ingest.writer import CALL_COLUMNS, get_writer
from apps.pricing.cost import Usage
from apps.pricing.selectors import price_book
from apps.warehouse import client as warehouse
from apps.warehouse.client import WarehouseUnavailable

assert len(CALL_COLUMNS) == 36  # the row tuple below follows CALL_COLUMNS exactly


@dataclass
class Rejection:
    index: int
    code: str
    message: str


@dataclass
class IngestOutcome:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [{"index": r.index, "code": r.code, "message": r.message} for r in self.rejected],
        }


def decode_json(body: bytes, decoder: msgspec.json.Decoder[Any]) -> Any:
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise ApplicationError(f"Request body does not match the schema: {exc}", code="invalid_body") from exc
    except msgspec.DecodeError as exc:
        raise ApplicationError(f"Malformed JSON: {exc}", code="malformed_json") from exc


def _captured(config: IngestConfig, event_id: uuid.UUID) -> bool:
    if config.capture_mode == CaptureMode.ALWAYS:
        return True
    if config.capture_mode == CaptureMode.NONE:
        return False
    # Deterministic per event, so a retried event makes the same choice.
    return (event_id.int % 10_000) < config.capture_sample_rate * 10_000


def _has(raw: msgspec.Raw) -> bool:
    return len(raw) > 0 and bytes(raw) != b"null"


def _payload(raw: msgspec.Raw, config: IngestConfig, found: set[str]) -> str:
    if not _has(raw):
        return ""
    text = bytes(raw).decode("utf-8")
    if config.redact_payloads:
        text, kinds = redact(text)
        found |= kinds
    return text


def build_row(
    event: schema.EventV1, *, config: IngestConfig, principal: KeyPrincipal, book: Any, now: datetime
) -> tuple:
    ts = schema.parse_ts(event.ts, now=now)
    usage = Usage(
        input_tokens=event.input_tokens,
        output_tokens=event.output_tokens,
        cached_input_tokens=event.cached_input_tokens,
        cache_write_tokens=event.cache_write_tokens,
        cache_write_1h_tokens=event.cache_write_1h_tokens,
        reasoning_tokens=event.reasoning_tokens,
        input_includes_cached=event.input_includes_cached,
    )
    cost = book.cost(provider=event.provider, model=event.model, ts=ts, usage=usage)
    found: set[str] = set()
    captured = _captured(config, event.event_id) and (_has(event.request) or _has(event.response))
    request = _payload(event.request, config, found) if captured else ""
    response = _payload(event.response, config, found) if captured else ""
    routing = event.routing or _NO_ROUTING
    return (
        principal.project_id,
        event.environment or principal.environment,
        event.endpoint,
        ts,
        event.event_id,
        event.provider,
        event.model,
        event.response_model,
        event.input_tokens,
        event.output_tokens,
        event.cached_input_tokens,
        event.cache_write_tokens,
        event.cache_write_1h_tokens,
        event.reasoning_tokens,
        -1 if event.input_includes_cached is None else int(event.input_includes_cached),
        event.latency_ms,
        event.ttft_ms,
        event.status,
        event.error_type,
        cost.nano_usd if cost is not None else None,
        round(event.cost_usd * 1e9) if event.cost_usd is not None else None,
        cost.price_id if cost is not None else 0,
        _breakdown_json(cost.breakdown) if cost is not None else "",
        routing.policy_version,
        routing.arm,
        routing.target,
        routing.reason,
        event.conversation_id,
        event.user_id,
        event.tags,
        event.metadata,
        1 if captured else 0,
        sorted(found),
        request,
        response,
        config.retention_days,
    )


_NO_ROUTING = schema.Routing()
_encode = msgspec.json.Encoder().encode


def _breakdown_json(breakdown: dict[str, int]) -> str:
    return _encode(breakdown).decode()


def ingest_batch(*, principal: KeyPrincipal, body: bytes) -> IngestOutcome:
    batch: schema.Batch = decode_json(body, schema.batch_decoder)
    if batch.schema_version not in schema.SCHEMA_VERSIONS:
        raise ApplicationError(
            f"schema_version {batch.schema_version} is not supported; this server accepts "
            f"{', '.join(map(str, schema.SCHEMA_VERSIONS))}",
            code="unsupported_schema_version",
        )
    if len(batch.events) > settings.INGEST_MAX_EVENTS_PER_BATCH:
        raise ApplicationError(
            f"A batch may hold at most {settings.INGEST_MAX_EVENTS_PER_BATCH:,} events; got {len(batch.events):,}",
            code="payload_too_large",
            status=413,
        )
    return store_events(principal=principal, raws=batch.events)


def store_events(*, principal: KeyPrincipal, raws: list[msgspec.Raw] | list[bytes]) -> IngestOutcome:
    """Validate, price and redact each event; commit the valid ones; report the rest by index."""
    outcome = IngestOutcome()
    if not raws:
        return outcome
    config = ingest_config(project_id=principal.project_id)
    limits.check_rate(config, len(raws))
    limits.check_quota(config, len(raws))
    book = price_book(organization_id=principal.organization_id)
    now = datetime.now(UTC)
    max_event = settings.INGEST_MAX_EVENT_BYTES
    rows = []
    for index, raw in enumerate(raws):
        if len(raw) > max_event:
            outcome.rejected.append(
                Rejection(
                    index, "event_too_large", f"event is {len(raw):,} bytes; the limit is {max_event:,}"
                )
            )
            continue
        try:
            event = schema.decode_event(raw)
            rows.append(build_row(event, config=config, principal=principal, book=book, now=now))
        except schema.InvalidEvent as exc:
            outcome.rejected.append(Rejection(index, exc.code, exc.message))
        except UnicodeDecodeError:
            outcome.rejected.append(Rejection(index, "invalid_field", "payload is not valid UTF-8"))
    if rows:
        future = get_writer().submit(rows)
        try:
            result = future.result(timeout=settings.INGEST_COMMIT_TIMEOUT_S)
        except FutureTimeout as exc:
            raise WarehouseUnavailable("Timed out committing events; retry the same batch") from exc
        except WarehouseUnavailable:
            raise
        except Exception as exc:
            raise WarehouseUnavailable(f"Storing events failed: {exc}") from exc
        outcome.accepted = result.stored
        outcome.duplicates = result.duplicates
        limits.record_accepted(principal.project_id, result.stored)
    return outcome


FEEDBACK_COLUMNS = ("project_id", "event_id", "feedback_id", "ts", "kind", "score", "comment")


def feedback_record(*, principal: KeyPrincipal, body: bytes) -> IngestOutcome:
    """Scores and thumbs attached to an event. Retries collapse on feedback_id."""
    batch: schema.FeedbackBatch = decode_json(body, schema.feedback_batch_decoder)
    if len(batch.feedback) > settings.INGEST_MAX_EVENTS_PER_BATCH:
        raise ApplicationError("Too many feedback items in one request", code="payload_too_large", status=413)
    outcome = IngestOutcome()
    now = datetime.now(UTC)
    rows = []
    for index, raw in enumerate(batch.feedback):
        try:
            item = schema.feedback_decoder.decode(raw)
            ts = schema.parse_ts(item.ts, now=now) if item.ts is not None else now
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            outcome.rejected.append(Rejection(index, "invalid_field", str(exc)))
            continue
        except schema.InvalidEvent as exc:
            outcome.rejected.append(Rejection(index, exc.code, exc.message))
            continue
        feedback_id = item.feedback_id or uuid.UUID(
            bytes=hashlib.sha256(f"{item.event_id}:{item.kind}:{item.score}:{item.ts}".encode()).digest()[:16]
        )
        rows.append(
            (principal.project_id, item.event_id, feedback_id, ts, item.kind, float(item.score), item.comment)
        )
    if rows:
        warehouse.system_insert("llm_feedback", rows, FEEDBACK_COLUMNS, feature="feedback")
    outcome.accepted = len(rows)
    return outcome


def ingest_settings_update(
    *,
    project: Any,
    actor: Any,
    capture_mode: str,
    capture_sample_rate: float,
    redact_payloads: bool,
    rate_limit_events_per_s: int,
    monthly_event_quota: int,
) -> Any:
    """Change what a project captures and its limits (admins and owners)."""
    from apps.accounts.models import Role
    from apps.accounts.services import require_role
    from apps.ingest.models import IngestSettings
    from apps.ingest.selectors import ingest_config_forget

    require_role(user=actor, organization=project.organization, at_least=Role.ADMIN)
    if capture_mode not in CaptureMode.values:
        raise ApplicationError(
            f"capture_mode must be one of {', '.join(CaptureMode.values)}", field="capture_mode"
        )
    if not 0.0 <= capture_sample_rate <= 1.0:
        raise ApplicationError("capture_sample_rate must be between 0 and 1", field="capture_sample_rate")
    if rate_limit_events_per_s < 0 or monthly_event_quota < 0:
        raise ApplicationError("Limits cannot be negative (0 means the default / no quota)", field="limits")
    row, _ = IngestSettings.objects.update_or_create(
        project=project,
        defaults={
            "capture_mode": capture_mode,
            "capture_sample_rate": capture_sample_rate,
            "redact_payloads": redact_payloads,
            "rate_limit_events_per_s": rate_limit_events_per_s,
            "monthly_event_quota": monthly_event_quota,
        },
    )
    ingest_config_forget(project.pk)
    return row
