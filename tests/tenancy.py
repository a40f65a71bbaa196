"""Tenant isolation: call any endpoint as another tenant and expect to be refused.

`Tenant` bundles an organisation with its owner, a project and both kinds of key. `CASES` maps
every URL name in the URL conf to how to call it for tenant A; `tests/reliability/test_isolation.py` runs each
case with tenant B's user or key and fails when a URL has no case (so new URLs must add one).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.test import Client

from apps.accounts.models import Organization, Project, Role
from apps.accounts.services import api_key_create
from tests.factories import MembershipFactory, ProjectFactory, UserFactory


@dataclass
class Tenant:
    user: Any
    organization: Organization
    project: Project
    ingest_key: str
    sdk_key: str
    extra: dict[str, Any] = field(default_factory=dict)

    def web(self) -> Client:
        client = Client()
        client.force_login(self.user)
        return client

    def api(self, kind: str = "session") -> Client:
        if kind == "session":
            return self.web()
        key = {"ingest": self.ingest_key, "sdk": self.sdk_key}[kind]
        return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def make_tenant(label: str, role: Role = Role.OWNER) -> Tenant:
    user = UserFactory(email=f"{label}@{label}.example")
    membership = MembershipFactory(
        user=user, role=role, organization__name=f"{label} org", organization__slug=label
    )
    project = ProjectFactory(
        organization=membership.organization, name=f"{label} project", slug=f"{label}-project"
    )
    _, ingest = api_key_create(project=project, kind="ingest", actor=None)
    _, sdk = api_key_create(project=project, kind="sdk", actor=None)
    return Tenant(user, membership.organization, project, ingest, sdk)


def add_member(tenant: Tenant, role: Role, label: str) -> Any:
    user = UserFactory(email=f"{label}@{tenant.organization.slug}.example")
    MembershipFactory(user=user, organization=tenant.organization, role=role)
    return user


@dataclass(frozen=True)
class Case:
    """How to call one URL for the owner tenant; the intruder must get one of `expect`."""

    url: Callable[[Tenant], str]
    method: str = "get"
    auth: str = "session"  # session | ingest | sdk
    body: Callable[[Tenant], dict[str, Any]] | None = None  # sent as JSON
    form: Callable[[Tenant], dict[str, Any]] | None = None  # sent form-encoded
    expect: tuple[int, ...] = (404,)
    # For key-scoped endpoints whose object comes from the key itself: a check that the
    # intruder's call could not touch the owner's data. Gets (owner, intruder, response).
    verify: Callable[[Tenant, Tenant, Any], None] | None = None


CASES: dict[str, list[Case]] = {}
PUBLIC: dict[str, str] = {}


def register(url_name: str, *cases: Case) -> None:
    CASES.setdefault(url_name, []).extend(cases)


def public(url_name: str, why: str) -> None:
    PUBLIC[url_name] = why


def call_as(case: Case, owner: Tenant, intruder: Tenant) -> Any:
    client = intruder.api(case.auth)
    url = case.url(owner)
    kwargs: dict[str, Any] = {}
    if case.body is not None:
        kwargs = {"data": json.dumps(case.body(owner)), "content_type": "application/json"}
    elif case.form is not None:
        kwargs = {"data": case.form(owner)}
    return getattr(client, case.method)(url, **kwargs)


def assert_isolated(case: Case, owner: Tenant, intruder: Tenant) -> None:
    response = call_as(case, owner, intruder)
    if case.verify is not None:
        case.verify(owner, intruder, response)
        return
    assert response.status_code in case.expect, (
        f"{case.method.upper()} {case.url(owner)} as another tenant gave {response.status_code}, "
        f"expected {case.expect}"
    )
    if response.get("Content-Type", "").startswith("application/json"):
        body = response.json()
        assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
