"""Isolation: every URL in the URL conf is either public (with a reason) or refuses another tenant."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

import tests.tenancy_cases  # noqa: F401 - fills the registry
from tests.reliability.conftest import Tally
from tests.tenancy import CASES, PUBLIC, Tenant, assert_isolated

IGNORED_NAMESPACES = {"admin"}  # Django's admin: staff-only, not a tenant surface


def _url_names(resolver: URLResolver | None = None, namespace: str = "") -> set[str]:
    """Every URL name; an unnamed pattern appears as "<unnamed …>" so it can never go unchecked."""
    names: set[str] = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or ""
            if ns in IGNORED_NAMESPACES:
                continue
            names |= _url_names(pattern, f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(pattern, URLPattern):
            names.add(f"{namespace}{pattern.name}" if pattern.name else f"<unnamed {pattern.pattern}>")
    return names


@pytest.mark.reliability("isolation")
def test_every_url_has_a_tenancy_case_or_is_public(tally: Tally) -> None:
    tally.attempts += 1
    missing = sorted(_url_names() - set(CASES) - set(PUBLIC))
    assert not missing, f"URLs without a tenant-isolation case in tests/tenancy_cases.py: {missing}"
    stale = sorted((set(CASES) | set(PUBLIC)) - _url_names())
    assert not stale, f"tenancy cases for URLs that no longer exist: {stale}"


@pytest.mark.reliability("isolation")
@pytest.mark.parametrize(
    ("url_name", "index"), [(name, i) for name, cases in sorted(CASES.items()) for i in range(len(cases))]
)
def test_other_tenant_is_refused(
    url_name: str, index: int, tenant: Tenant, other_tenant: Tenant, invitation_token: str, tally: Tally
) -> None:
    tally.attempts += 1
    assert_isolated(CASES[url_name][index], owner=tenant, intruder=other_tenant)
