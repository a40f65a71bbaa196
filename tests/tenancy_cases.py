"""Every URL name in the URL conf, and how another tenant is kept out of it.

Add a case here with every new URL: tests/test_tenancy.py fails for a URL that has none.
"""

from __future__ import annotations

from django.urls import reverse

from tests.tenancy import Case, public, register

public("home", "redirects to log in or to the person's own project")
public("healthz", "process liveness, no data")
public("readyz", "dependency readiness, no tenant data")
public("api-schema", "the OpenAPI document")
public("api-docs", "the API reference page")
public("accounts:signup", "creates a new tenant")
public("accounts:login", "authentication")
public("accounts:logout", "ends the caller's own session")
public("accounts:project-home", "shows the caller's current project only (from their memberships)")
public("accounts:projects", "lists the caller's own organisation's projects")
public("accounts:members", "lists the caller's own organisation's members")
public("api-projects", "lists only projects the caller is a member of")
public("api-whoami", "describes the caller's own key")

register(
    "accounts:switch",
    Case(lambda t: reverse("accounts:switch"), "post", form=lambda t: {"project": t.project.pk}),
    Case(lambda t: reverse("accounts:switch"), "post", form=lambda t: {"organization": t.organization.pk}),
)
register(
    "accounts:project-keys",
    Case(lambda t: reverse("accounts:project-keys", args=[t.project.pk])),
    Case(lambda t: reverse("accounts:project-keys", args=[t.project.pk]), "post"),
)
register(
    "accounts:invitation",
    Case(lambda t: reverse("accounts:invitation", args=[t.extra["invitation_token"]]), "post", expect=(403,)),
)
register(
    "api-project",
    Case(lambda t: reverse("api-project", args=[t.project.pk])),
    Case(lambda t: reverse("api-project", args=[t.project.pk]), auth="ingest", expect=(403,)),
)
register(
    "api-project-keys",
    Case(lambda t: reverse("api-project-keys", args=[t.project.pk])),
    Case(
        lambda t: reverse("api-project-keys", args=[t.project.pk]), "post", body=lambda t: {"kind": "ingest"}
    ),
)
register(
    "api-key",
    Case(lambda t: reverse("api-key", args=[t.project.api_keys.first().pk]), "delete"),
)
