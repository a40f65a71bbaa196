"""A refused replay lists every reason calls were left out, with counts and links to example calls
in the call explorer; the preview of a replayable endpoint does the same; the links are tenant-safe."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse

from apps.core.errors import ApplicationError
from apps.replay import sampling
from apps.replay.models import ReplayJob
from tests.replay.factories import call, ingest
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC)


def _calls(n: int, endpoint: str = "help", **fields: Any) -> list[dict[str, Any]]:
    return [
        call(f"Question {uuid.uuid4().hex[:6]}?", "Go to Billing.", endpoint=endpoint,
             ts=NOW - timedelta(hours=i + 1), **fields)
        for i in range(n)
    ]  # fmt: skip


def _no_payload(n: int) -> list[dict[str, Any]]:
    return [{**e, "request": None, "response": None} for e in _calls(n)]


def _redacted(n: int) -> list[dict[str, Any]]:
    events = _calls(n)
    for e in events:
        e["response"]["choices"][0]["message"]["content"] = "Write to ann@example.com for a refund."
    return events


def _unreplayable_traffic(tenant: Tenant) -> dict[str, int]:
    """Calls of "help" none of which can be replayed, and how many each reason should count."""
    ingest(
        tenant,
        _calls(3, status="error", error_type="RateLimitError")
        + _no_payload(2)
        + _redacted(4)
        + _calls(1, model="gpt-4o-mini"),
    )
    return {"redacted": 4, "baseline_error": 3, "no_payload": 2, "other_model": 1}


def _form(**extra: Any) -> dict[str, Any]:
    form = {
        "endpoint": "help", "candidates": ["sim:openai/gpt-4o-mini"], "evaluator": "auto",
        "similarity_metric": "lexical", "confidence": "0.95", "margin": "0.05", "sample_size": "",
        "spend_cap_usd": "1", "action": "preview",
    }  # fmt: skip
    form.update(extra)
    return form


def _links(page: str, section: str) -> dict[str, tuple[int, str]]:
    """reason → (count, link) of each exclusion listed in the element with id `section`."""
    block = page.split(f'id="{section}"', 1)[1].split("</ul>", 1)[0]
    found = re.findall(
        r'data-reason="(\w+)"><strong>(\d+)</strong>.*?(?:<a href="([^"]+)">|</span>)', block, flags=re.S
    )
    return {reason: (int(n), html.unescape(url)) for reason, n, url in found}


def _listed_calls(page: str) -> int:
    return page.count('class="call-link"')


def test_the_refusal_lists_every_reason_with_its_count_and_a_link_to_those_calls(
    tenant: Tenant, catalogue: Any
) -> None:
    expected = _unreplayable_traffic(tenant)
    client = tenant.web()
    page = client.post(reverse("replay:new", args=[tenant.project.pk]), _form()).content.decode()
    assert "can be replayed" in page and not ReplayJob.objects.exists()
    links = _links(page, "refusal-exclusions")
    assert {reason: n for reason, (n, _) in links.items()} == expected
    assert "were redacted in ways that change their meaning" in page and "failed for the app itself" in page
    for reason, (count, url) in links.items():
        assert url.startswith(reverse("dashboard:calls", args=[tenant.project.pk]) + "?")
        explorer = client.get(url)
        assert explorer.status_code == 200, (reason, url)
        body = explorer.content.decode()
        assert 'id="replay-exclusion-filter"' in body and _listed_calls(body) == count, reason


def test_the_links_are_404_for_another_tenant(tenant: Tenant, other_tenant: Tenant, catalogue: Any) -> None:
    _unreplayable_traffic(tenant)
    page = tenant.web().post(reverse("replay:new", args=[tenant.project.pk]), _form()).content.decode()
    links = _links(page, "refusal-exclusions")
    assert links
    for _, url in links.values():
        assert other_tenant.web().get(url).status_code == 404


def test_the_refusal_carries_its_exclusions_as_data(tenant: Tenant, catalogue: Any) -> None:
    expected = _unreplayable_traffic(tenant)
    with pytest.raises(ApplicationError) as refused:
        sampling.population(project_id=tenant.project.pk, endpoint="help")
    detail = refused.value.detail
    assert refused.value.code == "nothing_to_replay" and detail is not None
    assert detail["excluded"] == expected and detail["baseline"] == "openai/gpt-4o"


def test_the_preview_of_a_replayable_endpoint_links_what_it_leaves_out(
    tenant: Tenant, catalogue: Any
) -> None:
    ingest(tenant, _calls(6) + _calls(2, status="error", error_type="Timeout") + _redacted(1))
    client = tenant.web()
    page = client.post(reverse("replay:new", args=[tenant.project.pk]), _form()).content.decode()
    assert "Before it starts" in page
    links = _links(page, "preview")
    assert {reason: n for reason, (n, _) in links.items()} == {"baseline_error": 2, "redacted": 1}
    errors = client.get(links["baseline_error"][1]).content.decode()
    assert _listed_calls(errors) == 2 and "Timeout" in errors


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"endpoint": "help", "replay_exclusion": "bogus", "baseline": "openai/gpt-4o"},
            "Unknown replay exclusion",
        ),
        ({"endpoint": "help", "replay_exclusion": "redacted"}, "needs the endpoint and its baseline"),
        (
            {"replay_exclusion": "redacted", "baseline": "openai/gpt-4o"},
            "needs the endpoint and its baseline",
        ),
    ],
)
def test_a_bad_exclusion_filter_says_what_to_change(
    tenant: Tenant, query: dict[str, str], message: str
) -> None:
    ingest(tenant, _calls(1))
    page = tenant.web().get(reverse("dashboard:calls", args=[tenant.project.pk]), query)
    assert page.status_code == 400 and message in page.content.decode()  # a message, never a 500
