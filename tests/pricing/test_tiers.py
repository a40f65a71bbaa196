"""Service tiers end to end on the server: the event's tier, OTLP's, the estimate's, a recompute's.

Prices: the small catalogue (gpt-4o $2.50 / $10 standard, $1.25 / $5 batch) plus the flex and
batch prices added below; hand computations in nano-USD.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from apps.pricing.models import LlmModel
from apps.pricing.recompute import recompute_job_run, recompute_plan
from apps.pricing.selectors import price_book_invalidate
from apps.pricing.services import price_create
from apps.warehouse.client import ProjectScope
from tests.ingest.events import event, post_batch, stored_call
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiers(catalogue: dict[str, LlmModel]) -> dict[str, LlmModel]:
    price_create(
        model=catalogue["gpt-4o"],
        organization=None,
        actor=None,
        effective_from="2024-10-02",
        tier="flex",
        prices={"input": "1.25", "cached_input": "0.625", "output": "5"},
        per_exp=6,
    )
    price_create(
        model=catalogue["claude-sonnet-4-5"],
        organization=None,
        actor=None,
        effective_from="2025-09-29",
        tier="batch",
        prices={"input": "1.5", "cached_input": "0.15", "cache_write": "1.875", "output": "7.5"},
        per_exp=6,
    )
    price_book_invalidate()
    return catalogue


def test_an_events_tier_prices_it_and_is_stored(tenant: Tenant, tiers: dict[str, LlmModel]) -> None:
    sent = [
        event(model="gpt-4o", input_tokens=1_000_000, output_tokens=0, service_tier="batch"),
        event(model="gpt-4o", input_tokens=1_000_000, output_tokens=0, service_tier="flex"),
        event(
            model="gpt-4o", input_tokens=1_000_000, output_tokens=0, service_tier="default"
        ),  # OpenAI's name
        event(model="gpt-4o", input_tokens=1_000_000, output_tokens=0, service_tier="priority"),  # no price
        event(model="gpt-4o", input_tokens=1_000_000, output_tokens=0, service_tier="turbo"),
    ]
    body = post_batch(tenant.api("ingest"), sent).json()
    assert body["accepted"] == 4
    assert body["rejected"][0]["index"] == 4 and "service_tier" in body["rejected"][0]["message"]
    stored = [stored_call(tenant.project.pk, e["event_id"]) for e in sent[:4]]
    # 1M input tokens: batch $1.25 = 1,250,000,000; flex $1.25 = 1,250,000,000; standard $2.50 =
    # 2,500,000,000; priority has no price for gpt-4o here, so the standard price.
    assert [(s["service_tier"], s["cost_nano_usd"]) for s in stored] == [
        ("batch", 1_250_000_000),
        ("flex", 1_250_000_000),
        ("standard", 2_500_000_000),
        ("priority", 2_500_000_000),
    ]


def test_the_estimate_reads_the_tier_from_anthropic_usage(tenant: Tenant, tiers: dict[str, LlmModel]) -> None:
    usage = {"input_tokens": 1000, "output_tokens": 1000, "service_tier": "batch"}
    response = tenant.web().post(
        "/v1/prices/estimate",
        data=json.dumps({"model": "claude-sonnet-4-5", "usage_format": "anthropic", "usage": usage}),
        content_type="application/json",
    )
    body = response.json()
    # batch: 1000 x $1.50/M = 1,500,000; 1000 x $7.50/M = 7,500,000
    assert (body["tier"], body["priced_tier"], body["total_nano_usd"]) == ("batch", "batch", 9_000_000)


@pytest.mark.django_db(transaction=True)
def test_otlp_service_tier_attributes(live_server: Any, tenant: Tenant, tiers: dict[str, LlmModel]) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(
        SimpleSpanProcessor(
            OTLPSpanExporter(
                endpoint=f"{live_server.url}/v1/otlp/v1/traces",
                headers={"Authorization": f"Bearer {tenant.ingest_key}"},
            )
        )
    )
    tracer = provider.get_tracer("test")
    for endpoint, name in (
        ("current", "openai.response.service_tier"),
        ("older", "gen_ai.openai.response.service_tier"),
    ):
        with tracer.start_as_current_span("chat gpt-4o") as span:
            span.set_attribute("switchyard.endpoint", endpoint)
            span.set_attribute("gen_ai.provider.name", "openai")
            span.set_attribute("gen_ai.request.model", "gpt-4o")
            span.set_attribute("gen_ai.usage.input_tokens", 1_000_000)
            span.set_attribute(name, "flex")
    provider.shutdown()
    rows = (
        ProjectScope(tenant.project.pk)
        .query(
            "SELECT endpoint, service_tier, cost_nano_usd FROM llm_calls FINAL "
            "WHERE project_id = {project_id:UInt64} ORDER BY endpoint",
            feature="test",
        )
        .rows
    )
    # flex: 1M x $1.25 = 1,250,000,000
    assert rows == [("current", "flex", 1_250_000_000), ("older", "flex", 1_250_000_000)]


def test_a_recompute_keeps_each_calls_tier(tenant: Tenant, tiers: dict[str, LlmModel]) -> None:
    sent = event(model="gpt-4o", input_tokens=1_000_000, output_tokens=0, service_tier="flex")
    post_batch(tenant.api("ingest"), [sent])
    price_create(
        model=tiers["gpt-4o"],
        organization=None,
        actor=None,
        effective_from="2024-10-02T00:00:01Z",
        tier="flex",
        prices={"input": "1", "output": "4"},
        per_exp=6,
    )
    price_book_invalidate()
    since = datetime(2024, 10, 2, tzinfo=UTC)
    for job in recompute_plan(
        organization_id=None, since=since, reason="test", model_ids=[tiers["gpt-4o"].pk]
    ):
        recompute_job_run(job_id=job.pk, max_batches=None)
    stored = stored_call(tenant.project.pk, sent["event_id"])
    # the new flex price: 1M x $1 = 1,000,000,000
    assert (stored["service_tier"], stored["cost_nano_usd"]) == ("flex", 1_000_000_000)


def test_the_overview_splits_spend_by_tier(tenant: Tenant, tiers: dict[str, LlmModel]) -> None:
    post_batch(
        tenant.api("ingest"),
        [
            event(model="gpt-4o", input_tokens=1_000_000, output_tokens=0, service_tier="batch"),
            event(model="gpt-4o", input_tokens=1_000_000, output_tokens=0),
            event(model="gpt-4o", input_tokens=1_000_000, output_tokens=0),
        ],
    )
    page = tenant.web().get(f"/projects/{tenant.project.pk}/overview/", {"range": "24h"})
    assert page.status_code == 200
    html = page.content.decode()
    section = html[html.index('id="spend-by-tier"') :]
    section = section[: section.index("</section>")]
    rows = [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in section.split("<tr>")[2:]]
    # standard: 2 calls x $2.50 = $5.00 (80 %); batch: 1 call x $1.25 (20 %)
    assert rows == [["Standard", "2", "$5.00", "80.0 %"], ["Batch", "1", "$1.25", "20.0 %"]]
