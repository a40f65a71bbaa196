"""OTLP spans are costed as the invoice is: the GenAI conventions' meanings, their provider names.

Spans come from the real OpenTelemetry SDK and its OTLP/HTTP exporter; prices are the seed file's
(USD per 1M tokens, quoted beside each hand computation, in nano-USD).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from apps.pricing.catalogue import seed_prices_load
from apps.pricing.selectors import price_book_invalidate
from apps.warehouse.client import ProjectScope
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _seed(db: None) -> Iterator[None]:
    seed_prices_load()
    price_book_invalidate()
    yield
    price_book_invalidate()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def export(live_server: Any, key: str, spans: list[dict[str, Any]]) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    exporter = OTLPSpanExporter(
        endpoint=f"{live_server.url}/v1/otlp/v1/traces",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    for attributes in spans:
        with tracer.start_as_current_span("chat") as span:
            for name, value in attributes.items():
                span.set_attribute(name, value)
    provider.shutdown()


def costs(project_id: int) -> dict[str, Any]:
    """Cost per span, keyed by its switchyard.endpoint."""
    sql = "SELECT endpoint, cost_nano_usd FROM llm_calls FINAL WHERE project_id = {project_id:UInt64}"
    return dict(ProjectScope(project_id).query(sql, feature="test").rows)


def test_current_conventions_count_cache_in_input_and_reasoning_in_output(
    live_server, tenant: Tenant
) -> None:  # type: ignore[no-untyped-def]
    export(
        live_server,
        tenant.ingest_key,
        [
            {  # input_tokens = 50 uncached + 10,000 cache reads + 3,000 cache writes
                "switchyard.endpoint": "anthropic",
                "gen_ai.provider.name": "anthropic",
                "gen_ai.request.model": "claude-sonnet-4-5",
                "gen_ai.usage.input_tokens": 13_050,
                "gen_ai.usage.cache_read.input_tokens": 10_000,
                "gen_ai.usage.cache_creation.input_tokens": 3_000,
                "gen_ai.usage.output_tokens": 400,
            },
            {  # output_tokens = 600 answer + 1,200 thinking
                "switchyard.endpoint": "gemini",
                "gen_ai.provider.name": "gcp.gemini",
                "gen_ai.request.model": "gemini-2.5-flash",
                "gen_ai.usage.input_tokens": 1_000,
                "gen_ai.usage.output_tokens": 1_800,
                "gen_ai.usage.reasoning.output_tokens": 1_200,
            },
        ],
    )
    found = costs(tenant.project.pk)
    # Claude Sonnet 4.5 ($3 in, $0.30 read, $3.75 write, $15 out): 50 x 3 = 150,000; 10,000 x 0.30 =
    # 3,000,000; 3,000 x 3.75 = 11,250,000; 400 x 15 = 6,000,000.
    assert found["anthropic"] == 20_400_000
    # Gemini 2.5 Flash ($0.30 in, $2.50 out): 1,000 x 0.30 = 300,000; 1,800 x 2.50 = 4,500,000.
    assert found["gemini"] == 4_800_000


@pytest.mark.parametrize(
    ("name", "model", "expected"),
    [
        # 1,000 in + 1,000 out at each model's seed price
        ("gcp.gemini", "gemini-2.5-flash", 300_000 + 2_500_000),
        ("gcp.gen_ai", "gemini-2.5-flash", 300_000 + 2_500_000),
        ("gcp.vertex_ai", "gemini-2.5-pro", 1_250_000 + 10_000_000),
        ("aws.bedrock", "anthropic.claude-instant-v1", 800_000 + 2_400_000),
        ("azure.ai.openai", "gpt-4o", 2_500_000 + 10_000_000),
        ("mistral_ai", "mistral-large-latest", 500_000 + 1_500_000),
        ("x_ai", "grok-4.20", 1_250_000 + 2_500_000),
    ],
)
def test_every_standard_provider_name_is_priced(
    live_server, tenant: Tenant, name: str, model: str, expected: int
) -> None:  # type: ignore[no-untyped-def]
    export(
        live_server,
        tenant.ingest_key,
        [
            {
                "switchyard.endpoint": name,
                "gen_ai.provider.name": name,
                "gen_ai.request.model": model,
                "gen_ai.usage.input_tokens": 1_000,
                "gen_ai.usage.output_tokens": 1_000,
            }
        ],
    )
    assert costs(tenant.project.pk) == {name: expected}
