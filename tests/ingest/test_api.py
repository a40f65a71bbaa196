"""POST /v1/ingest and /v1/feedback through the real view, writer and embedded ClickHouse."""

from __future__ import annotations

import gzip
import json
import threading
import uuid
from collections.abc import Iterator

import pytest
from django.test import Client

from apps.ingest import limits
from apps.ingest.models import CaptureMode, IngestSettings
from apps.ingest.selectors import ingest_config_forget
from apps.warehouse import client as warehouse
from apps.warehouse.client import ProjectScope
from tests.ingest.events import event, post_batch, raw_row_count, rollup_calls, stored_call, stored_count
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    limits.reset()
    yield
    limits.reset()


def _settings(tenant: Tenant, **values: object) -> None:
    IngestSettings.objects.update_or_create(project=tenant.project, defaults=values)
    ingest_config_forget(tenant.project.pk)


def test_valid_batch_is_stored_with_cost_and_rollups(tenant: Tenant, gpt_4o_mini_price) -> None:  # type: ignore[no-untyped-def]
    events = [event(cached_input_tokens=200), event(endpoint="summarise", model="gpt-4o")]
    response = post_batch(tenant.api("ingest"), events)
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    assert stored_count(tenant.project.pk) == 2
    assert rollup_calls(tenant.project.pk) == (2, 2)
    row = stored_call(tenant.project.pk, events[0]["event_id"])
    assert (
        row["endpoint"] == "support-reply"
        and row["input_tokens"] == 1200
        and row["environment"] == "production"
    )
    # 1,000 fresh input × $0.15/M + 200 cached × $0.075/M + 300 output × $0.60/M, in nano-USD:
    assert row["cost_nano_usd"] == 150_000 + 15_000 + 180_000 and row["price_id"] == gpt_4o_mini_price.pk
    assert json.loads(row["cost_breakdown"])["output"] == 180_000
    unpriced = stored_call(tenant.project.pk, events[1]["event_id"])
    assert unpriced["cost_nano_usd"] is None  # gpt-4o has no price in this test's catalogue


def test_partial_rejection_names_index_and_reason_and_keeps_the_good(tenant: Tenant) -> None:
    events = [
        event(),
        event(input_tokens=-5),
        event(event_id="not-a-uuid"),
        event(ts="yesterday"),
        event(status="exploded"),
        event(endpoint="x" * 129),
        event(),
    ]
    del events[6]["model"]
    response = post_batch(tenant.api("ingest"), events)
    body = response.json()
    assert response.status_code == 200 and body["accepted"] == 1
    reasons = {r["index"]: r["message"] for r in body["rejected"]}
    assert sorted(reasons) == [1, 2, 3, 4, 5, 6]
    assert "input_tokens" in reasons[1] and ">= 0" in reasons[1]
    assert "event_id" in reasons[2] and "ts" in reasons[3] and "status" in reasons[4]
    assert "endpoint" in reasons[5] and "model" in reasons[6]
    assert stored_count(tenant.project.pk) == 1


def test_malformed_json_is_400_naming_the_position(tenant: Tenant) -> None:
    response = tenant.api("ingest").post(
        "/v1/ingest", data=b'{"events": [{"a": 1,}]}', content_type="application/json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert (
        error["code"] == "malformed_json"
        and "trailing comma" in error["message"]
        and "byte 20" in error["message"]
    )


def test_gzip_and_zstd_bodies(tenant: Tenant) -> None:
    for encoding in ("gzip", "zstd"):
        assert post_batch(tenant.api("ingest"), [event()], encoding=encoding).json()["accepted"] == 1
    assert stored_count(tenant.project.pk) == 2
    bad = tenant.api("ingest").post(
        "/v1/ingest", data=b"xx", content_type="application/json", HTTP_CONTENT_ENCODING="br"
    )
    assert bad.status_code == 415 and bad.json()["error"]["code"] == "unsupported_encoding"


def test_limits_answer_413_naming_the_limit(tenant: Tenant, settings) -> None:
    settings.INGEST_MAX_BODY_BYTES = 2_000
    big = post_batch(tenant.api("ingest"), [event(response={"content": "x" * 5000})])
    assert big.status_code == 413 and "the 2,000 bytes limit" in big.json()["error"]["message"]
    settings.INGEST_MAX_BODY_BYTES = 10_000_000
    settings.INGEST_MAX_DECOMPRESSED_BYTES = 100_000
    bomb = gzip.compress(b'{"events": [' + b" " * 5_000_000 + b"]}")
    assert len(bomb) < 10_000
    response = tenant.api("ingest").post(
        "/v1/ingest", data=bomb, content_type="application/json", HTTP_CONTENT_ENCODING="gzip"
    )
    assert response.status_code == 413 and "Decompressed body" in response.json()["error"]["message"]
    settings.INGEST_MAX_EVENTS_PER_BATCH = 3
    many = post_batch(tenant.api("ingest"), [event() for _ in range(4)])
    assert many.status_code == 413 and "at most 3 events" in many.json()["error"]["message"]
    settings.INGEST_MAX_EVENT_BYTES = 3_000
    mixed = post_batch(tenant.api("ingest"), [event(), event(response={"content": "y" * 4000})]).json()
    assert mixed["accepted"] == 1 and mixed["rejected"][0]["code"] == "event_too_large"


def test_keys_are_checked(tenant: Tenant) -> None:
    assert post_batch(Client(), [event()]).status_code == 401
    assert (
        post_batch(Client(HTTP_AUTHORIZATION="Bearer sy_ingest_zzzzzzzz_" + "a" * 40), [event()]).status_code
        == 401
    )
    wrong_kind = post_batch(tenant.api("sdk"), [event()])
    assert wrong_kind.status_code == 403 and wrong_kind.json()["error"]["code"] == "forbidden"
    assert stored_count(tenant.project.pk) == 0


def test_retried_batch_is_not_counted_twice(tenant: Tenant) -> None:
    events = [event() for _ in range(20)]
    first = post_batch(tenant.api("ingest"), events).json()
    again = post_batch(tenant.api("ingest"), [*events, event()]).json()
    assert first == {"accepted": 20, "duplicates": 0, "rejected": []}
    assert again == {"accepted": 1, "duplicates": 20, "rejected": []}
    assert raw_row_count(tenant.project.pk) == 21 and rollup_calls(tenant.project.pk) == (21, 21)


def test_duplicates_inside_one_batch_are_stored_once(tenant: Tenant) -> None:
    one = event()
    body = post_batch(tenant.api("ingest"), [one, dict(one), dict(one)]).json()
    assert body == {"accepted": 1, "duplicates": 2, "rejected": []}
    assert raw_row_count(tenant.project.pk) == 1


def test_retry_racing_the_original_is_stored_once(tenant: Tenant) -> None:
    events = [event() for _ in range(200)]
    results: list[dict] = []
    start = threading.Barrier(4)

    def send() -> None:
        start.wait()
        results.append(post_batch(tenant.api("ingest"), events).json())

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["accepted"] for r in results) == 200
    assert sum(r["duplicates"] for r in results) == 600
    assert raw_row_count(tenant.project.pk) == 200 and rollup_calls(tenant.project.pk) == (200, 200)


def test_clickhouse_down_gives_503_then_exact_counts_after_recovery(tenant: Tenant) -> None:
    events = [event() for _ in range(50)]
    warehouse.system_command("RENAME TABLE llm_calls TO llm_calls_offline", feature="test")
    try:
        down = post_batch(tenant.api("ingest"), events)
        assert down.status_code == 503 and down["Retry-After"] == "5"
        assert down.json()["error"]["code"] == "warehouse_unavailable"
    finally:
        warehouse.system_command("RENAME TABLE llm_calls_offline TO llm_calls", feature="test")
    back = post_batch(tenant.api("ingest"), events)
    assert back.status_code == 200 and back.json()["accepted"] == 50
    assert post_batch(tenant.api("ingest"), events).json()["duplicates"] == 50
    assert raw_row_count(tenant.project.pk) == 50 and rollup_calls(tenant.project.pk) == (50, 50)


def test_rate_limit_is_429_with_retry_after(tenant: Tenant) -> None:
    _settings(tenant, rate_limit_events_per_s=5)
    assert post_batch(tenant.api("ingest"), [event() for _ in range(10)]).status_code == 200
    limited = post_batch(tenant.api("ingest"), [event() for _ in range(10)])
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert "Rate limit of 5 events/s" in limited.json()["error"]["message"]
    assert stored_count(tenant.project.pk) == 10


def test_monthly_quota_is_429_naming_the_quota(tenant: Tenant) -> None:
    _settings(tenant, monthly_event_quota=3)
    assert post_batch(tenant.api("ingest"), [event(), event()]).status_code == 200
    over = post_batch(tenant.api("ingest"), [event(), event()])
    assert over.status_code == 429 and "Monthly quota of 3 events" in over.json()["error"]["message"]
    assert int(over["Retry-After"]) >= 60 and stored_count(tenant.project.pk) == 2


@pytest.mark.parametrize(
    ("mode", "rate", "expect_some", "expect_all"),
    [
        (CaptureMode.NONE, 0.0, False, False),
        (CaptureMode.SAMPLED, 0.5, True, False),
        (CaptureMode.ALWAYS, 0.0, True, True),
    ],
)
def test_capture_policy(tenant: Tenant, mode: str, rate: float, expect_some: bool, expect_all: bool) -> None:
    _settings(tenant, capture_mode=mode, capture_sample_rate=rate)
    post_batch(tenant.api("ingest"), [event() for _ in range(100)])
    sql = "SELECT countIf(request != ''), countIf(payload_captured = 1) FROM llm_calls WHERE project_id = {project_id:UInt64}"
    with_payload, flagged = ProjectScope(tenant.project.pk).query(sql, feature="test").rows[0]
    assert with_payload == flagged
    assert (with_payload > 0) is expect_some and (with_payload == 100) is expect_all


def test_payloads_are_redacted_before_storage(tenant: Tenant) -> None:
    one = event(
        request={"messages": [{"role": "user", "content": "I am ann@example.com, card 4111-1111-1111-1111"}]}
    )
    post_batch(tenant.api("ingest"), [one])
    row = stored_call(tenant.project.pk, one["event_id"])
    assert "ann@example.com" not in row["request"] and "4111" not in row["request"]
    assert sorted(row["redactions"]) == ["card", "email"]
    assert json.loads(row["request"])["messages"][0]["content"].startswith("I am [REDACTED:email]")


def test_unknown_model_is_stored_with_unknown_cost(tenant: Tenant) -> None:
    one = event(provider="acme", model="acme-llm-9000")
    post_batch(tenant.api("ingest"), [one])
    row = stored_call(tenant.project.pk, one["event_id"])
    assert row["cost_nano_usd"] is None and row["price_id"] == 0
    sql = "SELECT sum(unpriced_calls) FROM llm_calls_1h WHERE project_id = {project_id:UInt64}"
    assert ProjectScope(tenant.project.pk).query(sql, feature="test").scalar() == 1


def test_another_tenants_key_writes_only_to_its_own_project(tenant: Tenant, other_tenant: Tenant) -> None:
    shared_id = str(uuid.uuid4())
    post_batch(tenant.api("ingest"), [event(event_id=shared_id)])
    response = post_batch(other_tenant.api("ingest"), [event(event_id=shared_id, endpoint="intruder")])
    assert response.json()["accepted"] == 1  # same id in another project is another call
    assert stored_count(tenant.project.pk) == 1 and stored_count(other_tenant.project.pk) == 1
    assert stored_call(tenant.project.pk, shared_id)["endpoint"] == "support-reply"


def test_feedback_is_stored_and_validated(tenant: Tenant) -> None:
    one = event()
    post_batch(tenant.api("ingest"), [one])
    body = json.dumps(
        {
            "feedback": [
                {"event_id": one["event_id"], "score": 1, "kind": "thumbs"},
                {"event_id": "nope", "score": 1},
            ]
        }
    )
    response = tenant.api("ingest").post("/v1/feedback", data=body, content_type="application/json")
    assert (
        response.status_code == 200
        and response.json()["accepted"] == 1
        and response.json()["rejected"][0]["index"] == 1
    )
    tenant.api("ingest").post("/v1/feedback", data=body, content_type="application/json")
    sql = "SELECT count() FROM llm_feedback FINAL WHERE project_id = {project_id:UInt64}"
    assert ProjectScope(tenant.project.pk).query(sql, feature="test").scalar() == 1
