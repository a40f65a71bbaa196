from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Role
from tests.tenancy import Tenant, add_member

pytestmark = pytest.mark.django_db


def _assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"]


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer sy_ingest_nope", "Bearer sy_ingest_abcdefgh12_" + "x" * 43, "Basic dXNlcjpwYXNz"],
)
def test_unknown_or_malformed_key_is_401_with_error_shape(header: str) -> None:
    client = Client(HTTP_AUTHORIZATION=header) if header else Client()
    response = client.get(reverse("api-whoami"))
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message"}


def test_revoked_key_is_401(tenant: Tenant) -> None:
    key = tenant.project.api_keys.get(kind="ingest")
    owner = tenant.web()
    assert owner.delete(reverse("api-key", args=[key.pk])).status_code == 200
    _assert_error(tenant.api("ingest").get(reverse("api-whoami")), 401, "invalid_key")


def test_whoami_with_key(tenant: Tenant) -> None:
    response = tenant.api("sdk").get(reverse("api-whoami"))
    assert response.json() == {"kind": "sdk", "project_id": tenant.project.pk, "environment": "production"}


def test_project_apis_for_owner(tenant: Tenant, other_tenant: Tenant) -> None:
    client = tenant.web()
    listed = client.get(reverse("api-projects")).json()
    assert [p["id"] for p in listed] == [tenant.project.pk]
    assert client.get(reverse("api-project", args=[tenant.project.pk])).json()["slug"] == tenant.project.slug


def test_create_key_returns_secret_once_and_lists_prefix_only(tenant: Tenant) -> None:
    client = tenant.web()
    created = client.post(
        reverse("api-project-keys", args=[tenant.project.pk]),
        {"kind": "sdk", "name": "ci"},
        content_type="application/json",
    )
    assert created.status_code == 201
    secret = created.json()["secret"]
    listing = client.get(reverse("api-project-keys", args=[tenant.project.pk])).content.decode()
    assert secret.split("_", 3)[3] not in listing and created.json()["key"]["prefix"] in listing


def test_member_gets_403_creating_keys(tenant: Tenant) -> None:
    member = add_member(tenant, Role.MEMBER, "m")
    client = Client()
    client.force_login(member)
    response = client.post(
        reverse("api-project-keys", args=[tenant.project.pk]),
        {"kind": "ingest"},
        content_type="application/json",
    )
    _assert_error(response, 403, "forbidden")


def test_validation_error_names_the_field(tenant: Tenant) -> None:
    response = tenant.web().post(
        reverse("api-project-keys", args=[tenant.project.pk]),
        {"kind": "root"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid" and "kind" in response.json()["error"]["message"]


def test_ingest_key_cannot_use_person_apis(tenant: Tenant) -> None:
    _assert_error(tenant.api("ingest").get(reverse("api-projects")), 403, "forbidden")


def test_unknown_api_url_is_json_404() -> None:
    response = Client().get("/v1/does-not-exist")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_openapi_schema_and_docs_render() -> None:
    schema = Client().get(reverse("api-schema"), HTTP_ACCEPT="application/json")
    assert schema.status_code == 200 and "/v1/projects" in schema.json()["paths"]
    docs = Client().get(reverse("api-docs"))
    assert docs.status_code == 200 and reverse("api-schema") in docs.content.decode()  # Redoc reads the schema
