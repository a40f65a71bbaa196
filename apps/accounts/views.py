"""Account pages: sign-up, log-in, switching tenant, projects, keys, members, invitations."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts import throttle
from apps.accounts.forms import InviteForm, KeyForm, LoginForm, ProjectForm, RoleForm, SignupForm
from apps.accounts.middleware import remember_tenant
from apps.accounts.models import Organization, Project, Role
from apps.accounts.navigation import same_page_in
from apps.accounts.selectors import (
    api_key_get_for_project,
    api_keys_for_project,
    invitations_open,
    membership_get,
    memberships_of,
    organizations_for_user,
    project_get_for_user,
)
from apps.accounts.services import (
    api_key_create,
    api_key_revoke,
    invitation_accept,
    invitation_create,
    membership_set_role,
    project_create,
    require_role,
    user_signup,
)
from apps.core.errors import ApplicationError, NotFound
from apps.core.forms import form_refusal
from apps.core.page_decorators import page_action, page_errors


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if throttle.is_locked("signup", request, ""):
            form.add_error(None, "Too many sign-up attempts from here; wait a few minutes and try again.")
        else:
            try:
                user, org, project = user_signup(
                    email=email,
                    password=form.cleaned_data["password"],
                    organization_name=form.cleaned_data["organization"],
                )
            except ApplicationError as exc:
                throttle.record_failure("signup", request, "")
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                remember_tenant(request, organization=org, project=project)
                messages.success(
                    request, f"Welcome to Switchyard. {org.name} is ready: create a key to start."
                )
                return redirect("dashboard:start")
    return render(request, "accounts/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        if throttle.is_locked("login", request, email):
            form.add_error(None, "Too many failed log-ins. Wait 15 minutes, then try again.")
            status = 429
        else:
            user = authenticate(request, username=email, password=form.cleaned_data["password"])
            if user is None:
                throttle.record_failure("login", request, email)
                form.add_error(None, "E-mail or password is wrong.")
                status = 400
            else:
                throttle.clear("login", request, email)
                login(request, user)
                next_url = request.GET.get("next", "")
                if next_url.startswith("/") and not next_url.startswith("//"):
                    return redirect(next_url)
                return redirect("home")
    return render(request, "accounts/login.html", {"form": form}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("accounts:login")


@login_required
@require_POST
@page_errors
def switch(request: HttpRequest) -> HttpResponse:
    """Switch organisation or project; only to ones the person belongs to."""
    project_id = request.POST.get("project")
    org_id = request.POST.get("organization")
    project: Project | None
    if project_id and project_id.isdigit():
        project = project_get_for_user(user=request.user, project_id=int(project_id))
        remember_tenant(request, organization=project.organization, project=project)
    elif org_id and org_id.isdigit():
        org = organizations_for_user(user=request.user).filter(pk=int(org_id)).first()
        if org is None:
            raise NotFound("Organisation not found")
        project = org.projects.order_by("name").first()
        remember_tenant(request, organization=org, project=project)
    else:
        raise ApplicationError("Choose a project or an organisation")
    return redirect(same_page_in(request.POST.get("next", ""), project_id=project.pk if project else None))


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def projects(request: HttpRequest) -> HttpResponse:
    tenant: Any = request.tenant  # type: ignore[attr-defined]
    if tenant.organization is None:
        raise NotFound("You are not a member of any organisation")
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = project_create(
                organization=tenant.organization, name=form.cleaned_data["name"], actor=request.user
            )
        except ApplicationError as exc:
            form_refusal(form, exc)
        else:
            remember_tenant(request, organization=tenant.organization, project=project)
            messages.success(request, f"Project {project.name} created.")
            return redirect("accounts:project-keys", project_id=project.pk)
    status = 400 if form.errors else 200
    return render(
        request, "accounts/projects.html", {"form": form, "projects": tenant.projects}, status=status
    )


def _keys_page(
    request: HttpRequest, project: Project, form: KeyForm | None = None, new_secret: str | None = None
) -> HttpResponse:
    """The project's keys; a new key's secret is shown this once."""
    require_role(user=request.user, organization=project.organization, at_least=Role.VIEWER)
    form = form or KeyForm()
    context = {
        "project": project,
        "keys": api_keys_for_project(project=project),
        "form": form,
        "new_secret": new_secret,
    }
    return render(request, "accounts/keys.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET"])
@page_errors
def project_keys(request: HttpRequest, project_id: int) -> HttpResponse:
    return _keys_page(request, project_get_for_user(user=request.user, project_id=project_id))


@login_required
@page_action("accounts:project-keys", "project_id")
def project_key_create(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_user(user=request.user, project_id=project_id)
    form = KeyForm(request.POST)
    if form.is_valid():
        try:
            _, new_secret = api_key_create(
                project=project,
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
                actor=request.user,
            )
        except ApplicationError as exc:
            form_refusal(form, exc)
        else:
            return _keys_page(request, project, new_secret=new_secret)
    return _keys_page(request, project, form)


@login_required
@page_action("accounts:project-keys", "project_id")
def project_key_revoke(request: HttpRequest, project_id: int, key_id: int) -> HttpResponse:
    project = project_get_for_user(user=request.user, project_id=project_id)
    key = api_key_get_for_project(project=project, key_pk=key_id)
    api_key_revoke(key=key, actor=request.user)
    messages.success(request, f"Key {key.display_prefix} revoked. Calls using it now get 401.")
    return redirect("accounts:project-keys", project_id=project.pk)


def _organization(request: HttpRequest) -> Organization:
    tenant: Any = request.tenant  # type: ignore[attr-defined]
    if tenant.organization is None:
        raise NotFound("You are not a member of any organisation")
    return tenant.organization


def _members_page(
    request: HttpRequest,
    org: Organization,
    invite_form: InviteForm | None = None,
    invite_link: str | None = None,
) -> HttpResponse:
    invite_form = invite_form or InviteForm()
    context = {
        "organization": org,
        "memberships": memberships_of(organization=org),
        "invitations": invitations_open(organization=org),
        "invite_form": invite_form,
        "invite_link": invite_link,
        "roles": Role.choices,
    }
    return render(request, "accounts/members.html", context, status=400 if invite_form.errors else 200)


@login_required
@require_http_methods(["GET"])
@page_errors
def members(request: HttpRequest) -> HttpResponse:
    return _members_page(request, _organization(request))


@login_required
@page_action("accounts:members")
def member_invite(request: HttpRequest) -> HttpResponse:
    """An invitation link for someone to join the organisation (shown once, on the page)."""
    org = _organization(request)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation, token = invitation_create(
                organization=org,
                email=form.cleaned_data["email"],
                role=Role(form.cleaned_data["role"]),
                actor=request.user,
            )
        except ApplicationError as exc:
            form_refusal(form, exc)
        else:
            link = request.build_absolute_uri(reverse("accounts:invitation", args=[token]))
            messages.success(request, f"Invitation for {invitation.email} created. Send them the link below.")
            return _members_page(request, org, invite_link=link)
    return _members_page(request, org, form)


@login_required
@page_action("accounts:members")
def member_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = membership_get(organization=_organization(request), membership_id=membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        raise ApplicationError("Choose a valid role")
    membership_set_role(membership=membership, role=Role(form.cleaned_data["role"]), actor=request.user)
    messages.success(request, f"{membership.user} is now {membership.role}.")
    return redirect("accounts:members")


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        membership = invitation_accept(token=token, user=request.user)
        remember_tenant(
            request, organization=membership.organization, project=membership.organization.projects.first()
        )
        messages.success(request, f"You joined {membership.organization.name} as {membership.role}.")
        return redirect("home")
    return render(request, "accounts/invitation.html", {"token": token})
