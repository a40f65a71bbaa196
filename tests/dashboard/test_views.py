"""The dashboard pages, through Django's test client, on calls stored via the real ingest path."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from apps.dashboard.filters import PRESET_LABELS
from tests.dashboard.data import CallSet
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db


def url(name: str, tenant: Tenant, *args: object) -> str:
    return reverse(f"dashboard:{name}", args=[tenant.project.pk, *args])


def text(response: object) -> str:
    return re.sub(r"\s+", " ", response.content.decode())  # type: ignore[attr-defined]


def test_home_lands_on_the_overview(tenant: Tenant) -> None:
    response = tenant.web().get("/")
    assert response.status_code == 302 and response["Location"] == url("overview", tenant)


def test_home_without_a_project_goes_to_start(db: None) -> None:
    from tests.factories import MembershipFactory

    membership = MembershipFactory()
    client = Client()
    client.force_login(membership.user)
    assert client.get("/")["Location"] == reverse("dashboard:start")


def test_overview_of_an_empty_project_says_how_to_install(tenant: Tenant) -> None:
    response = tenant.web().get(url("overview", tenant))
    body = text(response)
    assert response.status_code == 200
    assert "No calls yet in acme project" in body
    key_prefix = tenant.project.api_keys.get(kind="ingest").display_prefix
    assert key_prefix in body and "http://testserver" in body
    assert reverse("dashboard:start") in body


def test_overview_shows_spend_endpoints_and_models(tenant: Tenant, calls: CallSet) -> None:
    response = tenant.web().get(url("overview", tenant) + "?range=7d&tz=Europe/Paris")
    body = text(response)
    assert response.status_code == 200, body[:2000]
    for endpoint in ("support-reply", "summarise", "tagger"):
        assert url("endpoint", tenant, endpoint) in body
    assert "gpt-4o-mini" in body and "claude-haiku-4-5" in body
    assert 'id="fig-spend-by-endpoint"' in body and 'id="fig-spend-by-model"' in body
    assert "No routing policy active yet: run a replay to find savings" in body
    assert "Month-end forecast" in body
    assert "vendor/plotly.min.js" in body
    assert "unpriced" in body  # the custom model's calls have no price


@pytest.mark.parametrize("name", ["overview", "models", "calls"])
@pytest.mark.parametrize("preset", ["24h", "7d", "30d"])
def test_pages_render_for_each_range(tenant: Tenant, calls: CallSet, name: str, preset: str) -> None:
    response = tenant.web().get(url(name, tenant) + f"?range={preset}")
    assert response.status_code == 200
    body = text(response)
    assert f'<option value="{preset}" selected>' in body and PRESET_LABELS[preset] in body
    # calls every two hours: every range holds each endpoint and model
    shown = {"overview": ["support-reply", "summarise", "tagger"], "models": ["gpt-4o-mini", "claude-haiku-4-5"],
             "calls": ["support-reply", "summarise", "tagger"]}[name]  # fmt: skip
    assert all(thing in body for thing in shown), name


def test_endpoint_page(tenant: Tenant, calls: CallSet) -> None:
    response = tenant.web().get(url("endpoint", tenant, "support-reply") + "?range=7d")
    body = text(response)
    assert response.status_code == 200, body[:3000]
    for section in (
        "fig-volume",
        "fig-cost",
        "fig-latency",
        "fig-model-mix",
        "fig-input-tokens",
        "fig-output-tokens",
        "fig-cost-per-call",
        'id="replay-results"',
        'id="pareto"',
        'id="policy-history"',
        'id="failures"',
    ):
        assert section in body, section
    assert "RateLimitError" in body


def test_model_page_shows_the_price_in_force(tenant: Tenant, calls: CallSet) -> None:
    response = tenant.web().get(url("model", tenant, "openai", "gpt-4o-mini") + "?range=7d")
    body = text(response)
    assert response.status_code == 200, body[:3000]
    assert "$0.15" in body and "$0.6" in body and "fig-price-history" in body
    unpriced = tenant.web().get(url("model", tenant, "vllm", "house-llm-7b"))
    assert unpriced.status_code == 200 and "No price is known for vllm/house-llm-7b" in text(unpriced)


def test_calls_page_and_detail(tenant: Tenant, calls: CallSet) -> None:
    response = tenant.web().get(url("calls", tenant) + "?range=7d&endpoint=summarise")
    body = text(response)
    assert response.status_code == 200, body[:3000]
    first = calls.by(endpoint="summarise")[0]
    assert url("call", tenant, first["event_id"]) in body
    detail = tenant.web().get(url("call", tenant, first["event_id"]))
    body = text(detail)
    assert detail.status_code == 200, body[:3000]
    assert "Cost breakdown" in body and "claude-haiku-4-5" in body
    assert "jane0@example.com" not in body  # redacted at ingest


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("range=fortnight", "Unknown range &#x27;fortnight&#x27;"),
        ("from=2026-13-45", "Could not read &#x27;from&#x27;"),
        ("from=2026-03-05&to=2026-03-01", "the range is reversed"),
        ("tz=Nowhere/Land", "Unknown time zone"),
    ],
)
def test_bad_ranges_show_a_message_and_the_default_range(
    tenant: Tenant, calls: CallSet, query: str, message: str
) -> None:
    for name in ("overview", "models"):
        response = tenant.web().get(url(name, tenant) + "?" + query)
        body = text(response)
        assert response.status_code == 400 and message in body, body[:1500]
        assert ("Showing last 7 days instead" in body and 'id="kpi-spend"' in body) or name == "models"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "endpoint=no-such-endpoint",
            "This project has no calls from an endpoint named &#x27;no-such-endpoint&#x27;",
        ),
        ("model=gpt-9", "no calls to a model named"),
        ("status=sideways", "Status must be one of"),
        ("min_cost=lots", "must be an amount in USD"),
        ("min_cost=2&max_cost=1", "The cost range is reversed"),
        ("after=%%%garbage", "page link is invalid"),
        ("from=2026-03-05&to=2026-03-01", "the range is reversed"),
    ],
)
def test_bad_explorer_filters_show_a_message(
    tenant: Tenant, calls: CallSet, query: str, message: str
) -> None:
    response = tenant.web().get(url("calls", tenant) + "?" + query)
    body = text(response)
    assert response.status_code == 400 and message in body, body[:1500]
    assert 'id="call-filters"' in body and 'id="calls-table"' not in body


def test_unknown_endpoint_model_and_call_are_404(tenant: Tenant, calls: CallSet) -> None:
    client = tenant.web()
    assert client.get(url("endpoint", tenant, "no-such-endpoint")).status_code == 404
    assert client.get(url("model", tenant, "openai", "gpt-9")).status_code == 404
    assert client.get(url("call", tenant, "00000000-0000-4000-8000-000000000000")).status_code == 404
    assert client.get(f"/projects/{tenant.project.pk}/calls/not-a-uuid/").status_code == 404


def test_another_tenants_pages_are_404(tenant: Tenant, other_tenant: Tenant, calls: CallSet) -> None:
    intruder = other_tenant.web()
    for path in (
        url("overview", tenant),
        url("endpoint", tenant, "support-reply"),
        url("call", tenant, calls.events[0]["event_id"]),
        url("calls-export", tenant),
    ):
        response = intruder.get(path)
        assert response.status_code == 404 and tenant.project.name not in response.content.decode()


def test_endpoint_names_with_slashes_and_spaces(tenant: Tenant, prices: object, now: object) -> None:
    from tests.dashboard.data import ts_text
    from tests.ingest.events import event, post_batch

    name = "billing/refund reply?"
    assert post_batch(tenant.api("ingest"), [event(endpoint=name, ts=ts_text(now))]).status_code == 200  # type: ignore[arg-type]
    overview = text(tenant.web().get(url("overview", tenant)))
    link = url("endpoint", tenant, name)
    assert "%3F" in link and link in overview
    page = tenant.web().get(link)
    assert page.status_code == 200
    body = text(page)
    assert f"</a> / {name}" in body and f"<title>{name} · {tenant.project.name}" in body
    assert "Browse this endpoint's calls" in body and "Models used" in body


def test_viewing_a_project_makes_it_the_current_one(tenant: Tenant) -> None:
    from tests.factories import ProjectFactory

    second = ProjectFactory(organization=tenant.organization, name="second project", slug="second")
    client = tenant.web()
    response = client.get(reverse("dashboard:overview", args=[second.pk]))
    assert response.status_code == 200
    assert f'<option value="{second.pk}" selected>' in response.content.decode()
    assert client.get("/")["Location"] == reverse("dashboard:overview", args=[second.pk])


def test_plotly_is_served_locally(tenant: Tenant) -> None:
    from django.contrib.staticfiles import finders

    found = finders.find("vendor/plotly.min.js")
    assert found and found.endswith("plotly/package_data/plotly.min.js")
    assert "vendor/plotly.min.js" in text(tenant.web().get(url("overview", tenant)))
