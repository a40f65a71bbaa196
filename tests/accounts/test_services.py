from __future__ import annotations

import pytest
from django.utils import timezone

from apps.accounts import keys
from apps.accounts.models import ApiKey, Membership, Role
from apps.accounts.selectors import api_key_verify
from apps.accounts.services import (
    api_key_create,
    api_key_revoke,
    invitation_accept,
    invitation_create,
    membership_set_role,
    project_create,
    user_signup,
)
from apps.core.errors import ApplicationError, PermissionDenied
from tests.factories import UserFactory
from tests.tenancy import Tenant, add_member

pytestmark = pytest.mark.django_db


def test_signup_creates_owner_org_and_project() -> None:
    user, org, project = user_signup(
        email="Ada@Example.com", password="a-long-passphrase-1", organization_name="Ada Labs"
    )
    assert user.email == "ada@example.com"
    assert Membership.objects.get(user=user, organization=org).role == Role.OWNER
    assert project.organization == org and project.environments.filter(name="production").exists()


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [
        ("not-an-email", "a-long-passphrase-1", "email"),
        ("x@example.com", "short", "password"),
        ("x@example.com", "1234567890", "password"),
    ],
)
def test_signup_rejects_bad_input_naming_the_field(email: str, password: str, field: str) -> None:
    with pytest.raises(ApplicationError) as err:
        user_signup(email=email, password=password, organization_name="X")
    assert err.value.field == field


def test_signup_refuses_duplicate_email() -> None:
    user_signup(email="a@example.com", password="a-long-passphrase-1", organization_name="A")
    with pytest.raises(ApplicationError, match="already exists"):
        user_signup(email="A@example.com", password="a-long-passphrase-1", organization_name="B")


def test_key_is_shown_once_stored_hashed_and_verifies(tenant: Tenant) -> None:
    key, plaintext = api_key_create(project=tenant.project, kind="ingest", actor=tenant.user)
    assert plaintext.startswith("sy_ingest_")
    stored = ApiKey.objects.get(pk=key.pk)
    assert plaintext.split("_", 3)[3] not in stored.secret_hash
    assert stored.secret_hash == keys.hash_secret(plaintext.split("_", 3)[3])
    principal = api_key_verify(plaintext)
    assert principal is not None and principal.project_id == tenant.project.pk and principal.kind == "ingest"


def test_tampered_unknown_and_wrong_kind_keys_fail(tenant: Tenant) -> None:
    _, plaintext = api_key_create(project=tenant.project, kind="sdk", actor=tenant.user)
    assert api_key_verify(plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")) is None
    assert api_key_verify(plaintext.replace("sy_sdk_", "sy_ingest_")) is None
    assert api_key_verify("sy_sdk_zzzzzzzzzzzz_" + "x" * 43) is None
    assert api_key_verify("garbage") is None


def test_revoked_key_stops_working_at_once(tenant: Tenant) -> None:
    key, plaintext = api_key_create(project=tenant.project, kind="ingest", actor=tenant.user)
    assert api_key_verify(plaintext) is not None
    api_key_revoke(key=key, actor=tenant.user)
    assert api_key_verify(plaintext) is None
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_members_and_viewers_cannot_create_keys_or_projects(tenant: Tenant, role: Role) -> None:
    user = add_member(tenant, role, f"r-{role}")
    with pytest.raises(PermissionDenied):
        api_key_create(project=tenant.project, kind="ingest", actor=user)
    with pytest.raises(PermissionDenied):
        project_create(organization=tenant.organization, name="P", actor=user)


def test_invitation_flow_and_email_binding(tenant: Tenant) -> None:
    invitation, token = invitation_create(
        organization=tenant.organization, email="New@Example.com", role=Role.ADMIN, actor=tenant.user
    )
    stranger = UserFactory(email="stranger@example.com")
    with pytest.raises(PermissionDenied):
        invitation_accept(token=token, user=stranger)
    invitee = UserFactory(email="new@example.com")
    membership = invitation_accept(token=token, user=invitee)
    assert membership.role == Role.ADMIN and membership.organization == tenant.organization
    with pytest.raises(ApplicationError, match="invalid or has expired"):
        invitation_accept(token=token, user=invitee)
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None and invitation.accepted_at <= timezone.now()


def test_last_owner_cannot_be_demoted(tenant: Tenant) -> None:
    membership = Membership.objects.get(user=tenant.user, organization=tenant.organization)
    with pytest.raises(ApplicationError, match="at least one owner"):
        membership_set_role(membership=membership, role=Role.ADMIN, actor=tenant.user)


def test_admin_cannot_make_owners(tenant: Tenant) -> None:
    admin = add_member(tenant, Role.ADMIN, "adm")
    member = add_member(tenant, Role.MEMBER, "mem")
    membership = Membership.objects.get(user=member)
    with pytest.raises(PermissionDenied):
        membership_set_role(membership=membership, role=Role.OWNER, actor=admin)
    assert membership_set_role(membership=membership, role=Role.VIEWER, actor=admin).role == Role.VIEWER
