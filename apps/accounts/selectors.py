"""Reads for tenancy. Everything a person can see is reached through their memberships."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.db.models import QuerySet

from apps.accounts import keys
from apps.accounts.models import ApiKey, Invitation, Membership, Organization, Person, Project, Role
from apps.core.errors import NotFound


def role_of(*, user: Person, organization: Organization) -> Role | None:
    if not user.is_authenticated:
        return None
    role = (
        Membership.objects.filter(organization=organization, user_id=user.pk)
        .values_list("role", flat=True)
        .first()
    )
    return Role(role) if role else None


def organizations_for_user(*, user: Person) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user_id=user.pk).order_by("name")


def projects_for_user(*, user: Person, organization: Organization | None = None) -> QuerySet[Project]:
    qs = Project.objects.filter(organization__memberships__user_id=user.pk).select_related("organization")
    if organization is not None:
        qs = qs.filter(organization=organization)
    return qs.order_by("organization__name", "name")


def project_get_for_user(*, user: Person, project_id: int) -> Project:
    """A project the user may see, or NotFound (never 'forbidden': existence is not leaked)."""
    project = projects_for_user(user=user).filter(pk=project_id).first()
    if project is None:
        raise NotFound("Project not found")
    return project


def api_keys_for_project(*, project: Project) -> QuerySet[ApiKey]:
    return project.api_keys.select_related("environment", "created_by").order_by("-created_at")


def api_key_get_for_user(*, user: Person, key_pk: int) -> ApiKey:
    key = (
        ApiKey.objects.filter(pk=key_pk, project__organization__memberships__user_id=user.pk)
        .select_related("project__organization")
        .first()
    )
    if key is None:
        raise NotFound("Key not found")
    return key


def api_key_get_for_project(*, project: Project, key_pk: int) -> ApiKey:
    key = ApiKey.objects.filter(pk=key_pk, project=project).select_related("project__organization").first()
    if key is None:
        raise NotFound("Key not found")
    return key


def memberships_of(*, organization: Organization) -> QuerySet[Membership]:
    return organization.memberships.select_related("user").order_by("user__email")


def membership_get(*, organization: Organization, membership_id: int) -> Membership:
    found = (
        Membership.objects.filter(organization=organization, pk=membership_id).select_related("user").first()
    )
    if found is None:
        raise NotFound("Member not found")
    return found


def invitations_open(*, organization: Organization) -> QuerySet[Invitation]:
    return organization.invitations.filter(accepted_at__isnull=True).order_by("-created_at")


@dataclass(frozen=True)
class KeyPrincipal:
    """Who an API call is, when it came with a project key."""

    key_pk: int
    key_id: str
    kind: str
    project_id: int
    organization_id: int
    environment: str
    is_authenticated: bool = True
    is_anonymous: bool = False

    @property
    def pk(self) -> str:
        return f"key:{self.key_id}"


# Key lookups sit on the ingest hot path: keep verified keys for a few seconds per process.
# Revocation clears this process's entry at once and other processes' within KEY_CACHE_TTL_S.
KEY_CACHE_TTL_S = 5.0
_key_cache: dict[str, tuple[float, str, KeyPrincipal | None]] = {}
_key_cache_lock = threading.Lock()


def key_cache_forget(key_id: str) -> None:
    with _key_cache_lock:
        _key_cache.pop(key_id, None)


def api_key_verify(raw: str) -> KeyPrincipal | None:
    """The principal for a presented key, or None if it is malformed, unknown or revoked."""
    parsed = keys.parse(raw)
    if parsed is None:
        return None
    now = time.monotonic()
    with _key_cache_lock:
        cached = _key_cache.get(parsed.key_id)
    if cached is not None and now - cached[0] < KEY_CACHE_TTL_S:
        _, secret_hash, principal = cached
    else:
        row = (
            ApiKey.objects.filter(key_id=parsed.key_id)
            .values(
                "pk",
                "kind",
                "secret_hash",
                "revoked_at",
                "project_id",
                "project__organization_id",
                "environment__name",
            )
            .first()
        )
        if row is None:
            secret_hash, principal = "0" * 64, None
        else:
            secret_hash = row["secret_hash"]
            principal = (
                None
                if row["revoked_at"] is not None
                else KeyPrincipal(
                    key_pk=row["pk"],
                    key_id=parsed.key_id,
                    kind=row["kind"],
                    project_id=row["project_id"],
                    organization_id=row["project__organization_id"],
                    environment=row["environment__name"],
                )
            )
        with _key_cache_lock:
            _key_cache[parsed.key_id] = (now, secret_hash, principal)
    # Always compare, even for unknown ids, so timing does not tell which ids exist.
    ok = keys.matches(parsed.secret, secret_hash)
    if not ok or principal is None or principal.kind != parsed.kind:
        return None
    return principal
