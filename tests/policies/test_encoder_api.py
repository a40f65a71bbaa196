"""`GET /v1/encoders/<sha256>/<file>`: the exported encoder, served to SDK keys (apps/policies/encoder_api.py)."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from apps.routing import encoder
from tests.tenancy import Tenant

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(not encoder.available(), reason="needs the encoder extra")]


def _body(response: object) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_any_sdk_key_gets_the_same_bytes_the_config_names(tenant: Tenant, other_tenant: Tenant) -> None:
    spec = encoder.ensure().spec()
    for name, f in spec["files"].items():
        bodies = []
        for who in (tenant, other_tenant):
            response = who.api("sdk").get(f["url"])
            assert response.status_code == 200, response
            assert response["ETag"] == f'"{f["sha256"]}"' and "immutable" in response["Cache-Control"]
            bodies.append(_body(response))
        assert bodies[0] == bodies[1] and hashlib.sha256(bodies[0]).hexdigest() == f["sha256"], name
        assert len(bodies[0]) == f["bytes"]
        again = tenant.api("sdk").get(f["url"], HTTP_IF_NONE_MATCH=f'"{f["sha256"]}"')
        assert again.status_code == 304


def test_other_keys_and_unknown_files_are_refused_in_the_one_error_shape(tenant: Tenant) -> None:
    spec = encoder.ensure().spec()
    url = spec["files"]["model.onnx"]["url"]
    cases = [
        (Client().get(url), 401, "invalid_key"),
        (tenant.api("ingest").get(url), 403, "forbidden"),
        (tenant.api("sdk").get(url.replace("model.onnx", "encoder.json")), 404, "not_found"),
        (tenant.api("sdk").get(url.replace(spec["sha256"], "f" * 64)), 404, "not_found"),
        (tenant.api("sdk").get("/v1/encoders/..%2F..%2Fsecrets/model.onnx"), 404, "not_found"),
        (tenant.api("sdk").post(url), 405, "method_not_allowed"),
    ]
    for response, status, code in cases:
        assert response.status_code == status
        assert response.json()["error"]["code"] == code and response.json()["error"]["message"]
