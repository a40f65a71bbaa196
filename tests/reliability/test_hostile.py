"""Hostile input: schemathesis over every operation in the OpenAPI schema, plus the classics that
schema-driven fuzzing does not reach: malformed UTF-8, deeply nested JSON, SQL-ish strings."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings

from tests.reliability.conftest import Tally
from tests.tenancy import Tenant, make_tenant

SCHEMA = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
KEY_PATHS = ("/v1/ingest", "/v1/feedback", "/v1/whoami", "/v1/prices")


@pytest.fixture
def fuzz_tenant(transactional_db: None) -> Tenant:
    return make_tenant("fuzz")


def _error_shape_ok(body: bytes) -> bool:
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and set(data) == {"error"} and {"code", "message"} <= set(data["error"])


@pytest.mark.reliability("hostile")
@SCHEMA.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_survives_generated_input(
    case: Any, live_server: Any, fuzz_tenant: Tenant, tally: Tally
) -> None:
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    if case.path.startswith(KEY_PATHS):
        headers["Authorization"] = f"Bearer {fuzz_tenant.ingest_key}"
    else:
        web = fuzz_tenant.web()
        cookies["sessionid"] = web.cookies["sessionid"].value
    response = case.call(base_url=live_server.url, headers=headers, cookies=cookies)
    tally.attempts += 1
    if response.status_code >= 500:
        tally.failures += 1
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    )
    if response.status_code >= 400 and response.headers.get("Content-Type", "").startswith(
        "application/json"
    ):
        assert _error_shape_ok(response.content), response.text[:300]


def _post(url: str, key: str, body: bytes, encoding: str = "") -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    if encoding:
        headers["Content-Encoding"] = encoding
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


HOSTILE_BODIES = {
    "malformed_utf8": b'{"events": [{"event_id": "00000000-0000-4000-8000-000000000001", "ts": 1, "model": "\xff\xfe"}]}',
    "utf8_in_payload": (
        b'{"events": [{"event_id": "00000000-0000-4000-8000-000000000002", "ts": "2026-11-22T00:00:00Z",'
        b' "model": "m", "request": {"x": "\xc3\x28"}}]}'
    ),
    "deep_nesting": b'{"events": [{"event_id": "00000000-0000-4000-8000-000000000003", "ts": 1, "model": "m", "request": '
    + b'{"a": ' * 5000
    + b"1"
    + b"}" * 5000
    + b"}]}",
    "deep_array": b"[" * 100_000 + b"]" * 100_000,
    "not_json": b"\x00\x01\x02 definitely not json",
    "empty": b"",
    "events_not_list": b'{"events": {"a": 1}}',
    "huge_number": b'{"events": [{"event_id": "00000000-0000-4000-8000-000000000004", "ts": 1e400, "model": "m"}]}',
    "sql_strings": json.dumps(
        {
            "events": [
                {
                    "event_id": "00000000-0000-4000-8000-000000000005",
                    "ts": "2026-11-22T00:00:00Z",
                    "model": "gpt-4o'); DROP TABLE llm_calls; --",
                    "endpoint": "x' OR '1'='1",
                    "provider": "\\'; SELECT 1",
                    "tags": ["'; DELETE FROM llm_calls WHERE 1=1; --"],
                    "metadata": {"k": "{project_id:UInt64}"},
                }
            ]
        }
    ).encode(),
}


@pytest.mark.reliability("hostile")
@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
def test_hostile_bodies_get_a_clear_error_or_are_stored_safely(
    name: str, live_server: Any, fuzz_tenant: Tenant, tally: Tally
) -> None:
    status, body = _post(f"{live_server.url}/v1/ingest", fuzz_tenant.ingest_key, HOSTILE_BODIES[name])
    tally.attempts += 1
    assert status < 500, (status, body[:300])
    if status >= 400:
        assert _error_shape_ok(body), body[:300]
    else:
        result = json.loads(body)
        assert set(result) == {"accepted", "duplicates", "rejected"}


@pytest.mark.reliability("hostile")
def test_sql_ish_strings_are_stored_verbatim_and_tables_survive(
    live_server: Any, fuzz_tenant: Tenant, tally: Tally
) -> None:
    from tests.ingest.events import stored_call

    status, body = _post(
        f"{live_server.url}/v1/ingest", fuzz_tenant.ingest_key, HOSTILE_BODIES["sql_strings"]
    )
    tally.attempts += 1
    assert status == 200 and json.loads(body)["accepted"] == 1, body
    row = stored_call(fuzz_tenant.project.pk, "00000000-0000-4000-8000-000000000005")
    assert row["model"] == "gpt-4o'); DROP TABLE llm_calls; --" and row["endpoint"] == "x' OR '1'='1"


@pytest.mark.reliability("hostile")
def test_compressed_bomb_and_oversized_bodies(live_server: Any, fuzz_tenant: Tenant, tally: Tally) -> None:
    bomb = gzip.compress(b'{"events": [' + b" " * 200_000_000 + b"]}", compresslevel=9)
    status, body = _post(f"{live_server.url}/v1/ingest", fuzz_tenant.ingest_key, bomb, encoding="gzip")
    tally.attempts += 1
    assert status == 413 and b"Decompressed body" in body
    status, body = _post(f"{live_server.url}/v1/ingest", fuzz_tenant.ingest_key, b"x" * 10_000_001)
    tally.attempts += 1
    assert status == 413 and _error_shape_ok(body)
