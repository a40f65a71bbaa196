"""OTLP/HTTP traces → Switchyard events.

Spans that carry OpenTelemetry GenAI attributes become LLM call events; other spans are ignored.

Endpoint attribution, first match wins: span attribute `switchyard.endpoint`, resource attribute
`switchyard.endpoint`, span attribute `gen_ai.operation.name` prefixed by the service name is
NOT used (it would mix features); otherwise `"default"`. Conversation and user ids come from
`switchyard.conversation_id` / `gen_ai.conversation.id` and `switchyard.user_id` / `user.id`.
The event id is derived from the trace and span ids, so a re-exported span is stored once.

Usage is read by apps.pricing.usage.from_otel under the current GenAI conventions (input counts the
whole prompt, cache included; output counts reasoning), the older ones and OpenLLMetry's names;
the provider name (`gen_ai.provider.name`, else `gen_ai.system`) is stored as the catalogue's slug
(`gcp.gemini` → `google`, `aws.bedrock` → `bedrock`, …); the service tier comes from
`openai.response.service_tier` / `gen_ai.openai.response.service_tier`; the output limit from
`gen_ai.request.max_tokens` and how the answer ended from the first of `gen_ai.response.finish_reasons`.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import msgspec
from django.http import HttpRequest, HttpResponse, JsonResponse
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from apps.accounts.selectors import KeyPrincipal
from apps.core.errors import ApplicationError
from apps.ingest.body import read_body
from apps.ingest.services import IngestOutcome, store_events
from apps.pricing.book import WELL_KNOWN_PROVIDERS
from apps.pricing.usage import from_otel

_NAMESPACE = uuid.UUID("6f1c2a8e-9d7b-4c3e-8a51-2b0d9e4f7a10")
_PROTOBUF = "application/x-protobuf"


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in any_value.kvlist_value.values}
    return getattr(any_value, kind)


def _attrs(key_values: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in key_values}


def _first(attrs: dict[str, Any], *names: str) -> str:
    for name in names:
        value = attrs.get(name)
        if value not in (None, ""):
            return str(value)
    return ""


def _messages(attrs: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for key, value in attrs.items():
        if key.startswith(prefix):
            index, _, field = key[len(prefix) :].partition(".")
            if index.isdigit() and field in ("role", "content", "finish_reason"):
                out.setdefault(int(index), {})[field] = value
    return [out[i] for i in sorted(out)]


def span_to_event(span: Any, resource: dict[str, Any]) -> dict[str, Any] | None:
    attrs = _attrs(span.attributes)
    model = _first(attrs, "gen_ai.request.model", "gen_ai.response.model")
    if not model and not any(k.startswith("gen_ai.") for k in attrs):
        return None
    trace_id, span_id = span.trace_id.hex(), span.span_id.hex()
    start, end = span.start_time_unix_nano, span.end_time_unix_nano
    usage = from_otel(attrs)  # the conventions' meanings, as the cost engine's one usage record
    reported = _first(attrs, "gen_ai.provider.name", "gen_ai.system").lower()
    provider = WELL_KNOWN_PROVIDERS.get(reported, reported)
    status = "error" if span.status.code == 2 else "ok"
    event: dict[str, Any] = {
        "event_id": str(uuid.uuid5(_NAMESPACE, f"{trace_id}:{span_id}")),
        "ts": start // 1_000_000,
        "endpoint": _first(attrs, "switchyard.endpoint")
        or _first(resource, "switchyard.endpoint")
        or "default",
        "provider": provider,
        "model": model or "unknown",
        "response_model": _first(attrs, "gen_ai.response.model"),
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cached_input_tokens": usage.cached_input_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "input_includes_cached": usage.input_includes_cached,
        "output_includes_reasoning": usage.output_includes_reasoning,
        "service_tier": usage.service_tier,
        "latency_ms": max(0, (end - start) // 1_000_000) if end and start else 0,
        "status": status,
        "error_type": _first(attrs, "error.type") if status == "error" else "",
        "conversation_id": _first(attrs, "switchyard.conversation_id", "gen_ai.conversation.id"),
        "user_id": _first(attrs, "switchyard.user_id", "user.id", "enduser.id"),
        "customer_id": _first(attrs, "switchyard.customer_id"),
        "metadata": {"otel.trace_id": trace_id, "otel.span_id": span_id, "otel.span_name": span.name[:200]},
    }
    max_tokens = attrs.get("gen_ai.request.max_tokens")
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens >= 0:
        event["max_tokens"] = max_tokens
    reasons = attrs.get("gen_ai.response.finish_reasons")
    if isinstance(reasons, list) and reasons and isinstance(reasons[0], str):
        event["finish_reason"] = reasons[0][:64]
    operation = _first(attrs, "gen_ai.operation.name")
    if operation:
        event["tags"] = [f"operation:{operation}"[:128]]
    prompts = _messages(attrs, "gen_ai.prompt.")
    completions = _messages(attrs, "gen_ai.completion.")
    if prompts:
        event["request"] = {"messages": prompts}
    if completions:
        event["response"] = {"choices": completions}
    return event


def _parse(request: HttpRequest, body: bytes) -> ExportTraceServiceRequest:
    message = ExportTraceServiceRequest()
    content_type = request.content_type or _PROTOBUF
    try:
        if content_type == "application/json":
            data = json.loads(body)
            # OTLP/JSON writes trace and span ids in hex; protobuf's JSON mapping expects base64.
            for rs in data.get("resourceSpans", []):
                for ss in rs.get("scopeSpans", []):
                    for span in ss.get("spans", []):
                        for key in ("traceId", "spanId", "parentSpanId"):
                            if span.get(key):
                                span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
            json_format.ParseDict(data, message, ignore_unknown_fields=True)
        elif content_type == _PROTOBUF:
            message.ParseFromString(body)
        else:
            raise ApplicationError(
                f"Content-Type {content_type!r} is not OTLP; use application/x-protobuf or application/json",
                code="unsupported_media_type",
                status=415,
            )
    except (DecodeError, ValueError, RecursionError, json_format.ParseError) as exc:
        raise ApplicationError(
            f"Not a valid OTLP ExportTraceServiceRequest: {exc}", code="malformed_request"
        ) from exc
    return message


def handle(principal: KeyPrincipal, request: HttpRequest) -> HttpResponse:
    message = _parse(request, read_body(request))
    raws: list[bytes] = []
    for resource_spans in message.resource_spans:
        resource = _attrs(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                event = span_to_event(span, resource)
                if event is not None:
                    raws.append(msgspec.json.encode(event))
    outcome: IngestOutcome = store_events(principal=principal, raws=raws)
    response = ExportTraceServiceResponse()
    if outcome.rejected:
        response.partial_success.rejected_spans = len(outcome.rejected)
        response.partial_success.error_message = "; ".join(
            f"{r.code}: {r.message}" for r in outcome.rejected[:5]
        )
    if request.content_type == "application/json":
        return JsonResponse(json_format.MessageToDict(response))
    return HttpResponse(response.SerializeToString(), content_type=_PROTOBUF)
