"""The Opportunities page, a finding's page, the endpoint page's card, the overview's savings card
(routing and opportunities without a dollar twice) and GET /v1/opportunities."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role
from apps.dashboard.templatetags.humanize_money import usd_text
from apps.opportunities.models import Opportunity, Status
from apps.opportunities.services import detect_project
from apps.policies.models import Recommendation
from tests.opportunities.conftest import only
from tests.opportunities.plants import Plant
from tests.tenancy import Tenant, add_member

pytestmark = pytest.mark.django_db
Planted = tuple[list[dict[str, Any]], dict[str, Plant]]
Ingest = Callable[[list[dict[str, Any]]], None]


def text(response: Any) -> str:
    assert response.status_code == 200, response.content[:400]
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def found(tenant: Tenant, ingest: Ingest, planted: Planted, now: datetime) -> dict[str, Opportunity]:
    events, _ = planted
    ingest(only(events, "kb-answer", "legacy-summary", "clean-faq"))
    detect_project(project=tenant.project, now=now)
    return {o.endpoint: o for o in Opportunity.objects.filter(project=tenant.project)}


def _recommend(tenant: Tenant, endpoint: str, monthly_nano: int) -> Recommendation:
    return Recommendation.objects.create(
        project=tenant.project, endpoint=endpoint, strategy="override", target="openai/gpt-4.1-mini", summary="x",
        evidence_job_id=1, evidence_finished_at=timezone.now(), evaluator="judge", samples=200, quality_bar=0.95,
        baseline_provider="openai", baseline_model="gpt-4o", retention=0.97, monthly_savings_nano=monthly_nano,
        monthly_savings_low_nano=monthly_nano // 2, monthly_savings_high_nano=monthly_nano, fingerprint="f",
    )  # fmt: skip


def test_the_page_ranks_findings_by_dollars_with_interval_evidence_and_change(
    tenant: Tenant, found: dict[str, Opportunity]
) -> None:
    body = text(tenant.web().get(reverse("opportunities:home", args=[tenant.project.pk])))
    caching, model = found["kb-answer"], found["legacy-summary"]
    assert body.index(f'id="finding-{caching.pk}"') < body.index(
        f'id="finding-{model.pk}"'
    )  # $236 before $17
    assert (
        "$236" in body
        and "95% $" in body
        and "Cache the stable prefix with a cache_control breakpoint" in body
    )
    assert "Prompt tokens a call that repeat" in body and "Queue a replay of openai/gpt-4.1" in body
    call = reverse("dashboard:call", args=[tenant.project.pk, caching.examples[0]])
    assert call in body  # evidence links to the call explorer
    assert "Open findings together, a month" in body and "Last run" in body and "clean-faq" not in body


def test_dismiss_mark_done_and_reopen_from_the_page(tenant: Tenant, found: dict[str, Opportunity]) -> None:
    client = tenant.web()
    args = [tenant.project.pk, found["kb-answer"].pk]
    url = reverse("opportunities:detail", args=args)
    page = text(client.get(url))
    for action in ("done", "dismiss"):
        assert f'action="{reverse(f"opportunities:{action}", args=args)}"' in page
    response = client.post(reverse("opportunities:done", args=args), {"note": "added cache_control"})
    assert response.status_code == 302
    done = Opportunity.objects.get(pk=found["kb-answer"].pk)
    assert done.status == Status.DONE and done.decided_by == tenant.user
    detail = text(client.get(url))
    assert "Measuring: the realised saving needs a whole day" in detail and "added cache_control" in detail
    home = reverse("opportunities:home", args=[tenant.project.pk])
    assert f'id="finding-{done.pk}"' in text(client.get(home + "?status=done"))
    assert f'id="finding-{done.pk}"' not in text(client.get(home))
    client.post(reverse("opportunities:reopen", args=args))
    client.post(reverse("opportunities:dismiss", args=args), {"reason": "not now"})
    assert Opportunity.objects.get(pk=done.pk).status == Status.DISMISSED
    detail = text(client.get(url))
    assert "not now" in detail and "How this is counted" in detail


def test_a_viewer_sees_findings_but_cannot_decide(tenant: Tenant, found: dict[str, Opportunity]) -> None:
    viewer = add_member(tenant, Role.VIEWER, "viewer")
    from django.test import Client

    client = Client()
    client.force_login(viewer)
    url = reverse("opportunities:detail", args=[tenant.project.pk, found["kb-answer"].pk])
    assert "Cache the stable prefix" in text(client.get(url))
    done = reverse("opportunities:done", args=[tenant.project.pk, found["kb-answer"].pk])
    assert client.post(done).status_code == 403
    assert Opportunity.objects.get(pk=found["kb-answer"].pk).status == Status.OPEN


def test_empty_states_say_what_to_do(
    tenant: Tenant, catalogue: None, django_capture_on_commit_callbacks: Any
) -> None:
    client = tenant.web()
    url = reverse("opportunities:home", args=[tenant.project.pk])
    body = text(client.get(url))
    assert "the detectors have not run" in body and "Run the detectors now" in body
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("opportunities:run", args=[tenant.project.pk]))
    assert response.status_code == 302 and len(callbacks) == 1  # the run is queued once the request commits
    detect_project(project=tenant.project)
    assert "No waste found in the last 7 days" in text(client.get(url))
    assert "No dismissed findings" in text(client.get(url + "?status=dismissed"))
    latency = reverse("opportunities:latency", args=[tenant.project.pk])
    client.post(latency, {"endpoint": "nightly-enrich", "latency": "background"})
    assert "nightly-enrich: background" in text(client.get(url))
    refused = client.post(latency, {"endpoint": "x", "latency": "sometimes"})
    assert refused.status_code == 302 and refused["Location"] == url  # the refusal is a message on the page


def test_the_endpoint_page_has_a_card_and_the_overview_adds_routing_without_double_counting(
    tenant: Tenant, found: dict[str, Opportunity]
) -> None:
    client = tenant.web()
    endpoint = text(client.get(reverse("dashboard:endpoint", args=[tenant.project.pk, "kb-answer"])))
    card = endpoint[endpoint.index('id="opportunities"') :]
    assert "Opportunities beyond routing" in card and found["kb-answer"].title[:30] in card
    clean = text(client.get(reverse("dashboard:endpoint", args=[tenant.project.pk, "clean-faq"])))
    assert "No waste found on this endpoint" in clean
    caching, model = found["kb-answer"].monthly_nano, found["legacy-summary"].monthly_nano
    overview = reverse("dashboard:overview", args=[tenant.project.pk])
    box = text(client.get(overview))
    box = box[box.index('id="savings-opportunities"') :]
    assert usd_text(caching + model) in box  # two endpoints, no overlap between them
    # Routing's open recommendation on legacy-summary saves 20 % of its spend a month: the
    # successor's saving counts only on the 80 % left, and the together line adds both once.
    spend = found["legacy-summary"].endpoint_monthly_nano
    _recommend(tenant, "legacy-summary", int(spend * 0.2))
    box = text(client.get(overview))
    opportunities = caching + round(model * (spend - int(spend * 0.2)) / spend)
    assert usd_text(opportunities) in box[box.index('id="savings-opportunities"') :]
    together = box[box.index('id="savings-together"') :]
    assert usd_text(opportunities + int(spend * 0.2)) in together


def test_api_lists_findings_for_an_sdk_key_or_a_person(tenant: Tenant, found: dict[str, Opportunity]) -> None:
    body = tenant.api("sdk").get("/v1/opportunities").json()
    assert body["project_id"] == tenant.project.pk and [o["endpoint"] for o in body["opportunities"]] == [
        "kb-answer", "legacy-summary"]  # fmt: skip
    first = body["opportunities"][0]
    assert (
        first["kind"] == "caching"
        and first["monthly_low_usd"] <= first["monthly_usd"] <= first["monthly_high_usd"]
    )
    assert first["change"]["steps"] and first["examples"][0]["url"].startswith(
        f"/projects/{tenant.project.pk}/calls/"
    )
    assert body["totals"]["monthly_usd"] == pytest.approx(
        sum(o["monthly_usd"] for o in body["opportunities"]), abs=0.01
    )
    person = tenant.api().get(f"/v1/opportunities?project={tenant.project.pk}&kind=model").json()
    assert [o["endpoint"] for o in person["opportunities"]] == ["legacy-summary"]
    refused = tenant.api("ingest").get("/v1/opportunities")
    assert refused.status_code == 403 and set(refused.json()["error"]) >= {"code", "message"}
    bad = tenant.api("sdk").get("/v1/opportunities?status=later")
    assert bad.status_code == 400 and "status must be one of" in bad.json()["error"]["message"]


def test_the_api_is_in_the_openapi_schema(tenant: Tenant) -> None:
    schema = tenant.web().get("/api/schema/?format=json").json()
    operation = schema["paths"]["/v1/opportunities"]["get"]
    assert operation["operationId"] == "opportunities_list"
    assert {p["name"] for p in operation["parameters"]} >= {"project", "status", "endpoint", "kind"}
