"""OTLP/HTTP from real OpenTelemetry clients (the SDK's OTLP exporter and the OpenAI instrumentation)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from django.test import Client
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from apps.warehouse.client import ProjectScope
from tests.fakes.openai_server import fake_openai
from tests.ingest.events import stored_count
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db(transaction=True)


def _provider(live_server, key: str, endpoint: str = "") -> TracerProvider:  # type: ignore[no-untyped-def]
    attributes = {"service.name": "checkout"}
    if endpoint:
        attributes["switchyard.endpoint"] = endpoint
    provider = TracerProvider(resource=Resource.create(attributes))
    exporter = OTLPSpanExporter(
        endpoint=f"{live_server.url}/v1/otlp/v1/traces",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def _calls(project_id: int) -> list[dict]:
    sql = """SELECT endpoint, provider, model, response_model, input_tokens, output_tokens, cached_input_tokens,
                    status, latency_ms, request, response
             FROM llm_calls FINAL WHERE project_id = {project_id:UInt64} ORDER BY ts"""
    return ProjectScope(project_id).query(sql, feature="test").dicts()


def test_otel_sdk_exporter_spans_become_calls(live_server, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    provider = _provider(live_server, tenant.ingest_key, endpoint="faq-answers")
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("chat gpt-4o") as span:
        span.set_attribute("gen_ai.operation.name", "chat")
        span.set_attribute("gen_ai.provider.name", "openai")
        span.set_attribute("gen_ai.request.model", "gpt-4o")
        span.set_attribute("gen_ai.response.model", "gpt-4o-2024-08-06")
        span.set_attribute("gen_ai.usage.input_tokens", 1000)
        span.set_attribute("gen_ai.usage.output_tokens", 200)
        span.set_attribute("gen_ai.usage.cache_read.input_tokens", 400)
        time.sleep(0.01)
    with tracer.start_as_current_span("legacy") as span:
        span.set_attribute("gen_ai.system", "anthropic")
        span.set_attribute("gen_ai.request.model", "claude-3-5-haiku-latest")
        span.set_attribute("gen_ai.usage.prompt_tokens", 30)
        span.set_attribute("gen_ai.usage.completion_tokens", 5)
        span.set_attribute("switchyard.endpoint", "classify")
        span.set_status(Status(StatusCode.ERROR))
    with tracer.start_as_current_span("db query"):
        pass
    provider.shutdown()
    calls = _calls(tenant.project.pk)
    assert len(calls) == 2
    first, second = calls
    assert first["endpoint"] == "faq-answers" and first["provider"] == "openai" and first["model"] == "gpt-4o"
    assert first["response_model"] == "gpt-4o-2024-08-06" and first["input_tokens"] == 1000
    assert first["output_tokens"] == 200 and first["cached_input_tokens"] == 400 and first["latency_ms"] >= 10
    assert (
        second["endpoint"] == "classify" and second["provider"] == "anthropic" and second["status"] == "error"
    )
    assert (second["input_tokens"], second["output_tokens"]) == (30, 5)


def test_openai_instrumentation_through_a_fake_openai_server(
    live_server, tenant: Tenant, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import openai
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor

    monkeypatch.setenv("TRACELOOP_TRACE_CONTENT", "true")
    provider = _provider(live_server, tenant.ingest_key, endpoint="support-reply")
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        with fake_openai() as server:
            client = openai.OpenAI(base_url=server.base_url, api_key="sk-test")
            reply = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello there"}]
            )
            assert reply.choices[0].message.content == "answer from gpt-4o-mini"
    finally:
        instrumentor.uninstrument()
        provider.shutdown()
    calls = _calls(tenant.project.pk)
    assert len(calls) == 1
    call = calls[0]
    assert (
        call["endpoint"] == "support-reply"
        and call["provider"] == "openai"
        and call["model"] == "gpt-4o-mini"
    )
    assert (call["input_tokens"], call["output_tokens"]) == (42, 7)


def test_otlp_json_and_reexport_dedup(tenant: Tenant) -> None:
    span = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": "chat",
        "startTimeUnixNano": str(time.time_ns() - 2_000_000_000),
        "endTimeUnixNano": str(time.time_ns()),
        "attributes": [
            {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "11"}},
        ],
    }
    body = json.dumps(
        {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [span]}]}]}
    )
    client = tenant.api("ingest")
    for _ in range(2):
        response = client.post("/v1/otlp/v1/traces", data=body, content_type="application/json")
        assert response.status_code == 200, response.content
    assert stored_count(tenant.project.pk) == 1
    call = _calls(tenant.project.pk)[0]
    assert call["input_tokens"] == 11 and call["latency_ms"] >= 1900 and call["endpoint"] == "default"


def test_otlp_rejects_garbage_with_the_error_shape(tenant: Tenant) -> None:
    client: Client = tenant.api("ingest")
    bad = client.post("/v1/otlp/v1/traces", data=b"\xff\x00garbage", content_type="application/x-protobuf")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "malformed_request"
    wrong = client.post("/v1/otlp/v1/traces", data=b"x", content_type="text/plain")
    assert wrong.status_code == 415


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    yield
