"""Health, readiness, metrics and request ids."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from apps.warehouse import client as warehouse
from tests.ingest.events import event, post_batch
from tests.tenancy import Tenant


def test_healthz_is_up_without_dependencies() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_and_clickhouse(settings) -> None:
    ok = Client().get("/readyz")
    assert ok.status_code == 200 and ok.json()["checks"] == {
        "database": True,
        "clickhouse": True,
        "broker": True,
    }
    settings.CLICKHOUSE_URL = "http://default:@127.0.0.1:1/switchyard"
    warehouse.reset_clients()
    try:
        down = Client().get("/readyz")
    finally:
        warehouse.reset_clients()
    assert down.status_code == 503 and down.json()["checks"]["clickhouse"] is False


@pytest.mark.django_db(transaction=True)
def test_metrics_count_ingest(tenant: Tenant) -> None:
    post_batch(tenant.api("ingest"), [event(), event(input_tokens=-1)])
    text = Client().get("/metrics").content.decode()
    assert 'switchyard_ingest_events_total{outcome="accepted"}' in text
    assert 'switchyard_ingest_rejects_total{reason="invalid_field"}' in text
    assert "switchyard_ingest_writer_flush_seconds_bucket" in text
    assert 'switchyard_ingest_requests_total{status="200"}' in text


def test_metrics_token(settings) -> None:
    settings.METRICS_TOKEN = "s3cret-token"
    assert Client().get("/metrics").status_code == 401
    assert Client(HTTP_AUTHORIZATION="Bearer s3cret-token").get("/metrics").status_code == 200


def test_request_id_is_echoed() -> None:
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="req-123")
    assert response["X-Request-Id"] == "req-123"
    generated = Client().get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces")["X-Request-Id"]
    assert len(generated) == 32 and " " not in generated


def test_json_log_lines_carry_the_request_id() -> None:
    import structlog

    from apps.core.logs import json_formatter

    structlog.contextvars.bind_contextvars(request_id="req-789")
    try:
        record = logging.LogRecord("apps.test", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
        line = json_formatter().format(record)
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    import json

    data = json.loads(line)
    assert data["event"] == "hello world" and data["request_id"] == "req-789" and data["level"] == "warning"


@pytest.mark.django_db
def test_nul_characters_in_query_strings_are_a_clear_400(tenant: Tenant) -> None:
    api = tenant.api("ingest").get("/v1/prices?model=gpt%00x")
    assert api.status_code == 400 and api.json()["error"]["code"] == "invalid"
    page = tenant.web().get("/pricing/?q=a%00b")
    assert page.status_code == 400 and b"NUL character" in page.content


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("get", "/v1/ingest", "POST"),
        ("get", "/v1/feedback", "POST"),
        ("get", "/v1/otlp/v1/traces", "POST"),
        ("delete", "/v1/ingest", "POST"),
        ("post", "/v1/config", "GET"),
        ("get", "/billing/stripe/webhook", "POST"),
    ],
)
def test_a_wrong_method_on_a_json_api_gets_the_json_error_shape(method: str, path: str, allowed: str) -> None:
    response = getattr(Client(), method)(path)
    assert response.status_code == 405 and response["Allow"] == allowed
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "method_not_allowed" and allowed in error["message"]


def test_the_favicon_is_served_and_every_page_names_it(tenant: Tenant) -> None:
    response = Client().get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content).startswith(b"\x00\x00\x01\x00")  # an ICO header
    page = tenant.web().get("/accounts/start/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
