from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import ApiKey, Membership, Role
from tests.factories import PASSWORD, ProjectFactory
from tests.tenancy import Tenant, add_member

pytestmark = pytest.mark.django_db


def test_signup_logs_in_and_lands_on_project_start() -> None:
    client = Client()
    response = client.post(
        reverse("accounts:signup"),
        {"email": "grace@example.com", "password": "a-long-passphrase-1", "organization": "Grace Co"},
        follow=True,
    )
    assert response.status_code == 200
    assert b"Send your first LLM call" in response.content and b"Grace Co" in response.content


def test_signup_shows_errors_not_500() -> None:
    response = Client().post(reverse("accounts:signup"), {"email": "x", "password": "1", "organization": ""})
    assert response.status_code == 200 and b"Enter a valid email" in response.content


def test_login_and_logout(tenant: Tenant) -> None:
    client = Client()
    response = client.post(reverse("accounts:login"), {"email": tenant.user.email, "password": PASSWORD})
    assert response.status_code == 302
    home = client.get(reverse("dashboard:start"))
    assert home.status_code == 200
    assert f"<h1>{tenant.project.name}</h1>".encode() in home.content and b"Send your first LLM call" in home.content
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("dashboard:start")).status_code == 302


def test_login_failures_are_rate_limited(tenant: Tenant) -> None:
    client = Client()
    for _ in range(5):
        assert (
            client.post(
                reverse("accounts:login"), {"email": tenant.user.email, "password": "wrong"}
            ).status_code
            == 400
        )
    locked = client.post(reverse("accounts:login"), {"email": tenant.user.email, "password": PASSWORD})
    assert locked.status_code == 429 and b"Too many failed log-ins" in locked.content


def test_open_redirect_is_refused(tenant: Tenant) -> None:
    response = Client().post(
        reverse("accounts:login") + "?next=//evil.example/",
        {"email": tenant.user.email, "password": PASSWORD},
    )
    assert response["Location"] == "/"


def test_key_page_shows_secret_once_then_revokes(tenant: Tenant) -> None:
    client = tenant.web()
    url = reverse("accounts:project-keys", args=[tenant.project.pk])
    create = reverse("accounts:project-key-create", args=[tenant.project.pk])
    page = client.post(create, {"kind": "ingest", "name": "web"}).content.decode()
    secret = re.search(r"sy_ingest_[a-z0-9]+_[A-Za-z0-9_-]+", page)
    assert secret is not None
    listed = client.get(url).content.decode()
    key = ApiKey.objects.get(name="web")
    revoke = reverse("accounts:project-key-revoke", args=[tenant.project.pk, key.pk])
    assert secret.group(0) not in listed and f'action="{revoke}"' in listed
    revoked = client.post(revoke, follow=True)
    assert f"Key {key.display_prefix} revoked".encode() in revoked.content
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_viewer_sees_keys_but_cannot_create(tenant: Tenant) -> None:
    viewer = add_member(tenant, Role.VIEWER, "v")
    client = Client()
    client.force_login(viewer)
    url = reverse("accounts:project-keys", args=[tenant.project.pk])
    assert b"Only admins and owners" in client.get(url).content
    response = client.post(reverse("accounts:project-key-create", args=[tenant.project.pk]), {"kind": "ingest"})
    assert b"needs the admin role" in response.content
    assert tenant.project.api_keys.count() == 2


def test_switch_project_and_invite_member(tenant: Tenant) -> None:
    client = tenant.web()
    response = client.post(reverse("accounts:projects"), {"name": "Second"}, follow=True)
    assert b"Project Second created" in response.content
    invite = client.post(reverse("accounts:member-invite"), {"email": "bob@example.com", "role": "member"})
    link = re.search(r"/accounts/invitations/[^/<\s]+/", invite.content.decode())
    assert link is not None
    bob = add_member(tenant, Role.VIEWER, "tmp")  # an unrelated member; bob must be a new person
    Membership.objects.filter(user=bob).delete()
    bob.email = "bob@example.com"
    bob.save()
    bob_client = Client()
    bob_client.force_login(bob)
    assert bob_client.post(link.group(0)).status_code == 302
    assert Membership.objects.get(user=bob, organization=tenant.organization).role == Role.MEMBER


def test_unknown_page_is_a_friendly_404(tenant: Tenant) -> None:
    response = tenant.web().get(reverse("accounts:project-keys", args=[999999]))
    assert response.status_code == 404 and b"Project not found" in response.content


def test_a_duplicate_project_name_is_refused_under_the_field(tenant: Tenant) -> None:
    client = tenant.web()
    response = client.post(reverse("accounts:projects"), {"name": "  ACME project "})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-field="name"' in page and "already has a project named" in page
    assert 'value="  ACME project "' in page or 'value="ACME project"' in page  # what was typed stays
    assert tenant.organization.projects.count() == 1


def test_an_invitation_refused_by_the_service_keeps_what_was_typed(tenant: Tenant) -> None:
    client = tenant.web()
    response = client.post(reverse("accounts:member-invite"), {"email": tenant.user.email, "role": "admin"})
    page = response.content.decode()
    assert response.status_code == 400 and "is already a member" in page
    assert f'value="{tenant.user.email}"' in page and '<option value="admin" selected>' in page


@pytest.mark.parametrize(
    ("page", "args", "expected"),
    [
        ("dashboard:calls", (), "dashboard:calls"),
        ("dashboard:models", (), "dashboard:models"),
        ("policies:settings", (), "policies:settings"),
        ("replay:jobs", (), "replay:jobs"),
        ("ingest-settings", (), "ingest-settings"),
        ("dashboard:endpoint", ("support-reply",), "dashboard:overview"),  # the other project's own
        ("replay:job", (12345,), "replay:jobs"),
    ],
)
def test_switching_project_keeps_the_page(tenant: Tenant, page: str, args: tuple, expected: str) -> None:
    client = tenant.web()
    other = ProjectFactory(organization=tenant.organization, name="Second app", slug="second-app")
    here = reverse(page, args=[tenant.project.pk, *args])
    response = client.post(reverse("accounts:switch"), {"project": other.pk, "next": here + "?range=24h"})
    assert response.status_code == 302
    assert response["Location"].split("?")[0] == reverse(expected, args=[other.pk])


def test_an_admin_changes_a_members_role_on_the_members_page(tenant: Tenant) -> None:
    viewer = add_member(tenant, Role.VIEWER, "vera")
    membership = Membership.objects.get(user=viewer, organization=tenant.organization)
    client = tenant.web()
    role_url = reverse("accounts:member-role", args=[membership.pk])
    page = client.get(reverse("accounts:members")).content.decode()
    assert viewer.email in page and f'action="{role_url}"' in page
    changed = client.post(role_url, {"role": "member"}, follow=True)
    assert changed.redirect_chain == [(reverse("accounts:members"), 302)] and b"is now member" in changed.content
    membership.refresh_from_db()
    assert membership.role == Role.MEMBER
    refused = client.post(role_url, {"role": "emperor"}, follow=True)
    assert b"Choose a valid role" in refused.content
    assert client.post(reverse("accounts:member-role", args=[999_999]), {"role": "admin"}).status_code == 404
