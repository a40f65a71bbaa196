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
from django.db import transaction

from apps.accounts.models import Person, Project, Role
from apps.accounts.selectors import KeyPrincipal
from apps.accounts.services import require_role
from apps.core import background
from apps.core.errors import ApplicationError
from apps.core.metrics import INGEST_EVENTS, INGEST_REJECTS
from apps.ingest import limits, schema
from apps.ingest.models import CaptureMode, IngestSettings
from apps.ingest.redaction import redact_bytes
from apps.ingest.selectors import (
    IngestRules,
    capture_of,
    ingest_config,
    ingest_config_forget,
    ingest_settings_get,
)
from apps.ingest.shape import read_shape
from apps.ingest.writer import EncodedRows, get_writer
from apps.pricing.cost import Usage
from apps.pricing.selectors import price_book
from apps.pricing.usage import TIER_NAMES, normalize_tier
from apps.spend import customer_key
from apps.warehouse import client as warehouse
from apps.warehouse.calls import CallRow, encode_call, encode_flag
from apps.warehouse.client import WarehouseUnavailable


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
    except RecursionError as exc:
        raise ApplicationError("JSON is nested too deeply", code="malformed_json") from exc


def _captured(config: IngestRules, event_id: uuid.UUID) -> bool:
    # Deterministic per event, so a retried event makes the same choice.
    return (event_id.int % 10_000) < config.capture.per_10k


def _payload(raw: msgspec.Raw, config: IngestRules, found: set[str]) -> bytes:
    """The payload's JSON as stored: bytes, redacted when the project asks for it."""
    data = bytes(raw)
    if data == b"null":
        return b""
    if config.redact_payloads:
        data, kinds = redact_bytes(data)
        found |= kinds
    if _invalid_utf8(data):
        raise UnicodeDecodeError("utf-8", data, 0, 1, "payload is not valid UTF-8")
    return data


def _invalid_utf8(data: bytes) -> bool:
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _usage(event: schema.EventV1) -> Usage:
    return Usage(
        input_tokens=event.input_tokens,
        output_tokens=event.output_tokens,
        cached_input_tokens=event.cached_input_tokens,
        cache_write_tokens=event.cache_write_tokens,
        cache_write_1h_tokens=event.cache_write_1h_tokens,
        reasoning_tokens=event.reasoning_tokens,
        input_includes_cached=event.input_includes_cached,
        output_includes_reasoning=event.output_includes_reasoning,
        service_tier=_tier(event.service_tier),
    )


def _payloads(event: schema.EventV1, config: IngestRules) -> tuple[bytes, bytes, set[str]]:
    """The request and response as stored (empty when this call is not captured), and the kinds
    of value redaction replaced in them."""
    found: set[str] = set()
    if not _captured(config, event.event_id):
        return b"", b"", found
    return _payload(event.request, config, found), _payload(event.response, config, found), found


def build_row(
    event: schema.EventV1, *, config: IngestRules, principal: KeyPrincipal, book: Any, now_ms: int
) -> tuple[int, CallRow]:
    """(ts in epoch ms, the call as llm_calls stores it)."""
    ts_ms = schema.parse_ts_ms(event.ts, now=now_ms)
    ts = schema.ms_to_datetime(ts_ms)
    usage = _usage(event)
    cost = book.cost(provider=event.provider, model=event.model, ts=ts, usage=usage)
    # Read before the capture decision: a call's prompt prefix and output limits count whether or
    # not its payloads are stored (only hashes and numbers are kept).
    shape = read_shape(
        event.request,
        event.response,
        max_tokens=event.max_tokens,
        stream=event.stream,
        finish_reason=event.finish_reason,
        has_ttft=event.ttft_ms is not None,
    )
    request, response, found = _payloads(event, config)
    captured = bool(request or response)
    routing = event.routing or _NO_ROUTING
    return ts_ms, CallRow(
        project_id=principal.project_id,
        environment=event.environment or principal.environment,
        endpoint=event.endpoint,
        ts=schema.ms_to_text(ts_ms),
        event_id=event.event_id,
        provider=event.provider,
        model=event.model,
        response_model=event.response_model,
        input_tokens=event.input_tokens,
        output_tokens=event.output_tokens,
        cached_input_tokens=event.cached_input_tokens,
        cache_write_tokens=event.cache_write_tokens,
        cache_write_1h_tokens=event.cache_write_1h_tokens,
        reasoning_tokens=event.reasoning_tokens,
        input_includes_cached=encode_flag(event.input_includes_cached),
        output_includes_reasoning=encode_flag(event.output_includes_reasoning),
        service_tier=usage.service_tier,
        latency_ms=event.latency_ms,
        ttft_ms=event.ttft_ms,
        status=event.status,
        error_type=event.error_type,
        cost_nano_usd=cost.nano_usd if cost is not None else None,
        client_cost_nano_usd=round(event.cost_usd * 1e9) if event.cost_usd is not None else None,
        price_id=cost.price_id if cost is not None else 0,
        cost_breakdown=msgspec.Raw(_encode(cost.breakdown)) if cost is not None else "",
        routing_policy_version=routing.policy_version,
        routing_arm=routing.arm,
        routing_target=routing.target,
        routing_reason=routing.reason,
        conversation_id=event.conversation_id,
        user_id=event.user_id,
        customer_id=customer_key.resolve(
            config.customer_key, customer_id=event.customer_id, metadata=event.metadata, tags=event.tags
        ),
        tags=event.tags,
        metadata=event.metadata,
        payload_captured=1 if captured else 0,
        redactions=sorted(found),
        request=msgspec.Raw(request) if request else "",
        response=msgspec.Raw(response) if response else "",
        retention_days=config.retention_days,
        max_tokens=shape.max_tokens,
        streamed=shape.streamed,
        finish_reason=shape.finish_reason,
        prompt_bytes=shape.prompt_bytes,
        prefix_points=shape.prefix_points,
    )


_NO_ROUTING = schema.Routing()
_encode = msgspec.json.Encoder().encode


def _tier(value: str) -> str:
    """The event's service tier as standard / batch / flex / priority (providers' names accepted)."""
    tier = TIER_NAMES.get(value)
    if tier is None:
        tier = normalize_tier(value)
        if tier is None:
            raise schema.InvalidEvent(
                "invalid_field",
                f"service_tier: must be standard, batch, flex or priority, got {value[:32]!r}",
            )
    return tier


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
    now = schema.now_ms()
    max_event = settings.INGEST_MAX_EVENT_BYTES
    rows = EncodedRows()
    project_id = principal.project_id
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
            ts_ms, row = build_row(event, config=config, principal=principal, book=book, now_ms=now)
            rows.add(project_id, event.event_id, ts_ms, encode_call(row))
        except schema.InvalidEvent as exc:
            outcome.rejected.append(Rejection(index, exc.code, exc.message))
        except UnicodeDecodeError:
            outcome.rejected.append(Rejection(index, "invalid_field", "payload is not valid UTF-8"))
    if len(rows):
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
        limits.record_accepted(principal.project_id, result.stored, principal.organization_id)
    _count(outcome)
    return outcome


def _count(outcome: IngestOutcome) -> None:
    INGEST_EVENTS.labels("accepted").inc(outcome.accepted)
    INGEST_EVENTS.labels("duplicate").inc(outcome.duplicates)
    INGEST_EVENTS.labels("rejected").inc(len(outcome.rejected))
    for rejection in outcome.rejected:
        INGEST_REJECTS.labels(rejection.code).inc()


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
            ts = (
                schema.ms_to_datetime(schema.parse_ts_ms(item.ts, now=schema.now_ms()))
                if item.ts is not None
                else now
            )
        except (msgspec.ValidationError, msgspec.DecodeError, RecursionError) as exc:
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
    project: Project,
    actor: Person,
    capture_mode: str,
    capture_sample_rate: float,
    redact_payloads: bool,
    rate_limit_events_per_s: int,
    monthly_event_quota: int,
) -> IngestSettings:
    """Change what a project captures and its limits (admins and owners).

    A change of capture reaches the SDKs: once it commits, the task `policies.publish_config`
    (queued by name: ingest sits below policies) publishes the project's config again.
    """
    require_role(user=actor, organization=project.organization, at_least=Role.ADMIN)
    if capture_mode not in CaptureMode.values:
        raise ApplicationError(
            f"capture_mode must be one of {', '.join(CaptureMode.values)}", field="capture_mode"
        )
    if not 0.0 <= capture_sample_rate <= 1.0:
        raise ApplicationError("capture_sample_rate must be between 0 and 1", field="capture_sample_rate")
    if rate_limit_events_per_s < 0 or monthly_event_quota < 0:
        raise ApplicationError("Limits cannot be negative (0 means the default / no quota)", field="limits")
    before = capture_of(ingest_settings_get(project=project))
    with transaction.atomic():
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
        if capture_of(row) != before:
            background.enqueue("policies.publish_config", project.pk, "capture settings changed")
    ingest_config_forget(project.pk)
    return row
