"""Tenancy: organisations own projects; people are members with a role; keys belong to projects."""

from __future__ import annotations

from typing import Any, TypeAlias

from django.conf import settings
from django.db import models

from apps.core.models import TimeStampedModel

# A logged-in person (the configured user model). Views pass request.user after login_required.
Person: TypeAlias = Any


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


ROLE_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Organization(TimeStampedModel):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=64, unique=True)

    def __str__(self) -> str:
        return self.name


class Membership(TimeStampedModel):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="uniq_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class Project(TimeStampedModel):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=64)
    retention_days = models.PositiveSmallIntegerField(default=30)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "slug"], name="uniq_project_slug")]

    def __str__(self) -> str:
        return self.name


class Environment(TimeStampedModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="environments")
    name = models.SlugField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="uniq_environment")]

    def __str__(self) -> str:
        return self.name


class KeyKind(models.TextChoices):
    INGEST = "ingest", "Ingest (write telemetry)"
    SDK = "sdk", "SDK (read config)"


class ApiKey(TimeStampedModel):
    """A project key. Only `key_id` and a SHA-256 of the secret are stored; the key is shown once."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_keys")
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="api_keys")
    kind = models.CharField(max_length=8, choices=KeyKind.choices)
    name = models.CharField(max_length=120, blank=True)
    key_id = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    @property
    def display_prefix(self) -> str:
        return f"sy_{self.kind}_{self.key_id}_…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def __str__(self) -> str:
        return self.display_prefix


class Invitation(TimeStampedModel):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    accepted_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=models.Q(accepted_at__isnull=True),
                name="uniq_open_invitation",
            )
        ]
