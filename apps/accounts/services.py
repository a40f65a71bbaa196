"""Writes for tenancy: sign-up, organisations, projects, members, invitations and keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.text import slugify

from apps.accounts import keys
from apps.accounts.models import (
    ROLE_RANK,
    ApiKey,
    Environment,
    Invitation,
    Membership,
    Organization,
    Person,
    Project,
    Role,
)
from apps.accounts.selectors import key_cache_forget, role_of
from apps.core.errors import ApplicationError, NotFound, PermissionDenied

User = get_user_model()
INVITATION_TTL = timedelta(days=7)


def _unique_slug(base: str, taken: set[str]) -> str:
    slug = slugify(base)[:48] or "org"
    candidate, n = slug, 2
    while candidate in taken:
        candidate, n = f"{slug}-{n}", n + 1
    return candidate


def require_role(*, user: Person, organization: Organization, at_least: Role) -> Role:
    role = role_of(user=user, organization=organization)
    if role is None:
        raise NotFound("Organisation not found")
    if ROLE_RANK[role] < ROLE_RANK[at_least]:
        raise PermissionDenied(
            f"This needs the {at_least.label.lower()} role or higher; you are {role.label.lower()}"
        )
    return role


@transaction.atomic
def organization_create(*, name: str, owner: Person) -> Organization:
    name = name.strip()
    if not name:
        raise ApplicationError("Organisation name is required", field="name")
    taken = set(
        Organization.objects.filter(slug__startswith=slugify(name)[:48]).values_list("slug", flat=True)
    )
    org = Organization.objects.create(name=name[:120], slug=_unique_slug(name, taken))
    Membership.objects.create(organization=org, user=owner, role=Role.OWNER)
    return org


@transaction.atomic
def project_create(
    *,
    organization: Organization,
    name: str,
    actor: Person | None,
    environments: tuple[str, ...] = ("production",),
) -> Project:
    if actor is not None:
        require_role(user=actor, organization=organization, at_least=Role.ADMIN)
    name = name.strip()
    if not name:
        raise ApplicationError("Project name is required", field="name")
    if organization.projects.filter(name__iexact=name[:120]).exists():
        raise ApplicationError(
            f"{organization.name} already has a project named {name[:120]}: choose another name",
            code="duplicate_project_name",
            field="name",
        )
    taken = set(organization.projects.values_list("slug", flat=True))
    project = Project.objects.create(
        organization=organization,
        name=name[:120],
        slug=_unique_slug(name, taken),
        retention_days=import_string(settings.ACCOUNTS_RETENTION_DAYS)(organization_id=organization.pk),
    )
    for env in environments:
        Environment.objects.create(project=project, name=slugify(env) or "production")
    return project


@transaction.atomic
def user_signup(*, email: str, password: str, organization_name: str) -> tuple[Person, Organization, Project]:
    """A new person with their own organisation and a first project."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ApplicationError("Enter a valid e-mail address", field="email") from exc
    if User.objects.filter(username__iexact=email).exists():
        raise ApplicationError("An account with this e-mail already exists; log in instead", field="email")
    user = User(username=email, email=email)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages), field="password") from exc
    user.set_password(password)
    user.save()
    org = organization_create(name=organization_name or email.split("@")[0], owner=user)
    project = project_create(organization=org, name="My first project", actor=user)
    return user, org, project


@transaction.atomic
def api_key_create(
    *,
    project: Project,
    kind: str,
    actor: Person | None,
    name: str = "",
    environment: Environment | None = None,
) -> tuple[ApiKey, str]:
    """Make a key. The plaintext is returned once and never stored."""
    if actor is not None:
        require_role(user=actor, organization=project.organization, at_least=Role.ADMIN)
    if kind not in keys.KINDS:
        raise ApplicationError(f"Key kind must be one of {', '.join(keys.KINDS)}", field="kind")
    if environment is None:
        environment = project.environments.order_by("id").first()
        if environment is None:
            environment = Environment.objects.create(project=project, name="production")
    elif environment.project_id != project.id:
        raise NotFound("Environment not found")
    plaintext, key_id, secret_hash = keys.generate(kind)
    key = ApiKey.objects.create(
        project=project,
        environment=environment,
        kind=kind,
        name=name.strip()[:120],
        key_id=key_id,
        secret_hash=secret_hash,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    return key, plaintext


def api_key_revoke(*, key: ApiKey, actor: Person) -> ApiKey:
    require_role(user=actor, organization=key.project.organization, at_least=Role.ADMIN)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at", "updated_at"])
    key_cache_forget(key.key_id)
    return key


def api_key_touch(*, key_pk: int) -> None:
    ApiKey.objects.filter(pk=key_pk).update(last_used_at=timezone.now())


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_create(
    *, organization: Organization, email: str, role: Role, actor: Person
) -> tuple[Invitation, str]:
    require_role(user=actor, organization=organization, at_least=Role.ADMIN)
    if role == Role.OWNER:
        require_role(user=actor, organization=organization, at_least=Role.OWNER)
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ApplicationError("Enter a valid e-mail address", field="email") from exc
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise ApplicationError(f"{email} is already a member", field="email")
    import_string(settings.ACCOUNTS_SEAT_CHECK)(organization_id=organization.pk)  # the plan's seats
    token = secrets.token_urlsafe(24)
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                organization=organization,
                email=email,
                role=role,
                token_hash=_token_hash(token),
                invited_by=actor,
                expires_at=timezone.now() + INVITATION_TTL,
            )
    except IntegrityError as exc:
        raise ApplicationError(f"{email} already has an open invitation", field="email") from exc
    return invitation, token


@transaction.atomic
def invitation_accept(*, token: str, user: Person) -> Membership:
    invitation = (
        Invitation.objects.select_for_update()
        .filter(token_hash=_token_hash(token), accepted_at__isnull=True)
        .select_related("organization")
        .first()
    )
    if invitation is None or invitation.expires_at < timezone.now():
        raise ApplicationError(
            "This invitation is invalid or has expired; ask for a new one", code="invalid_invitation"
        )
    if (getattr(user, "email", "") or "").lower() != invitation.email:
        raise PermissionDenied(
            "This invitation was sent to another e-mail address; log in as that person to accept it"
        )
    membership, _ = Membership.objects.get_or_create(
        organization=invitation.organization, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at", "updated_at"])
    return membership


def membership_set_role(*, membership: Membership, role: Role, actor: Person) -> Membership:
    require_role(user=actor, organization=membership.organization, at_least=Role.ADMIN)
    if Role.OWNER in (role, membership.role):
        require_role(user=actor, organization=membership.organization, at_least=Role.OWNER)
    if membership.role == Role.OWNER and role != Role.OWNER:
        owners = Membership.objects.filter(organization=membership.organization, role=Role.OWNER).count()
        if owners <= 1:
            raise ApplicationError("An organisation needs at least one owner", code="last_owner")
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    return membership
