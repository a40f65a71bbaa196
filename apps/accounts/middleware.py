"""`request.tenant`: the organisation and project a logged-in person is looking at.

Kept in the session, checked against memberships on every request, resolved lazily so the API
hot paths (which authenticate with keys) never pay for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from apps.accounts.models import Organization, Project, Role
from apps.accounts.selectors import organizations_for_user, projects_for_user, role_of

SESSION_ORG = "tenant_org_id"
SESSION_PROJECT = "tenant_project_id"


@dataclass
class Tenant:
    organization: Organization | None
    project: Project | None
    role: Role | None
    organizations: list[Organization]
    projects: list[Project]

    @property
    def is_admin(self) -> bool:
        return self.role in (Role.ADMIN, Role.OWNER)


def resolve_tenant(request: HttpRequest) -> Tenant:
    user = request.user
    if not user.is_authenticated:
        return Tenant(None, None, None, [], [])
    orgs = list(organizations_for_user(user=user))
    org = next((o for o in orgs if o.pk == request.session.get(SESSION_ORG)), orgs[0] if orgs else None)
    projects = list(projects_for_user(user=user, organization=org)) if org else []
    project = next(
        (p for p in projects if p.pk == request.session.get(SESSION_PROJECT)),
        projects[0] if projects else None,
    )
    return Tenant(org, project, role_of(user=user, organization=org) if org else None, orgs, projects)


def remember_tenant(request: HttpRequest, *, organization: Organization, project: Project | None) -> None:
    request.session[SESSION_ORG] = organization.pk
    request.session[SESSION_PROJECT] = project.pk if project else None


class CurrentTenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.tenant = SimpleLazyObject(lambda: resolve_tenant(request))  # type: ignore[attr-defined]
        return self.get_response(request)
