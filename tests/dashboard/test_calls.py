"""The call explorer: keyset pages, filters, one call, and the streamed CSV export."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from apps.core.errors import NotFound
from apps.dashboard.calls import call_get, calls_page, export_csv_chunks
from apps.dashboard.filters import parse_call_filters
from tests.dashboard.data import CallSet, recompute, store_calls, ts_text
from tests.ingest.events import event, post_batch
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db
ENDPOINTS = ["summarise", "support-reply", "tagger"]
MODELS = ["claude-haiku-4-5", "gpt-4o-mini", "house-llm-7b"]


def filters(calls: CallSet, **params: str) -> Any:
    return parse_call_filters({"range": "7d", **params}, now=calls.now, endpoints=ENDPOINTS, models=MODELS)


def newest_first(events: list[dict[str, Any]]) -> list[str]:
    return [e["event_id"] for e in sorted(events, key=lambda e: (e["ts"], e["event_id"]), reverse=True)]


def test_keyset_pages_walk_every_call_once(tenant: Tenant, calls: CallSet) -> None:
    seen: list[str] = []
    current = filters(calls)
    pages = 0
    while True:
        page = calls_page(project_id=tenant.project.pk, filters=current, limit=10)
        seen += [str(r.event_id) for r in page.rows]
        pages += 1
        if page.next_cursor is None:
            break
        current = current.with_cursor(page.next_cursor)
    assert pages == 4 and seen == newest_first(calls.events)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"endpoint": "summarise"}, lambda e: e["endpoint"] == "summarise"),
        (
            {"model": "gpt-4o-mini", "status": "error"},
            lambda e: e["model"] == "gpt-4o-mini" and e["status"] == "error",
        ),
        ({"tag": "tier:pro"}, lambda e: "tier:pro" in e["tags"]),
        ({"user": "user-1"}, lambda e: e["user_id"] == "user-1"),
        ({"conversation": "conv-3"}, lambda e: e["conversation_id"] == "conv-3"),
        (
            {"min_cost": "0.0001", "max_cost": "0.001"},
            lambda e: 100_000 <= (CallSet.cost(e) or -1) <= 1_000_000,
        ),
    ],
)
def test_filters(tenant: Tenant, calls: CallSet, params: dict[str, str], match: Any) -> None:
    page = calls_page(project_id=tenant.project.pk, filters=filters(calls, **params), limit=100)
    expected = newest_first([e for e in calls.events if match(e)])
    assert expected and [str(r.event_id) for r in page.rows] == expected


def test_a_recomputed_call_is_listed_once_at_its_latest_cost(tenant: Tenant, calls: CallSet) -> None:
    target = calls.by(endpoint="support-reply")[3]
    recompute(tenant.project.pk, target["event_id"], 777)
    rows = calls_page(project_id=tenant.project.pk, filters=filters(calls), limit=100).rows
    mine = [r for r in rows if str(r.event_id) == target["event_id"]]
    assert len(rows) == 36 and len(mine) == 1 and mine[0].cost_nano_usd == 777
    detail = call_get(project_id=tenant.project.pk, event_id=uuid.UUID(target["event_id"]))
    assert detail.data["revision"] == 1 and detail.data["prev_cost_nano_usd"] == CallSet.cost(target)


def test_call_detail(tenant: Tenant, calls: CallSet) -> None:
    target = calls.by(endpoint="summarise")[0]
    feedback = {
        "feedback": [{"event_id": target["event_id"], "kind": "thumbs", "score": 1, "comment": "great"}]
    }
    response = tenant.api("ingest").post("/v1/feedback", feedback, content_type="application/json")
    assert response.status_code == 200, response.content
    detail = call_get(project_id=tenant.project.pk, event_id=uuid.UUID(target["event_id"]))
    assert sum(nano for _, nano in detail.breakdown) == detail.data["cost_nano_usd"] == CallSet.cost(target)
    assert dict(detail.breakdown) == {
        "Input": target["input_tokens"] * 1000,
        "Output": target["output_tokens"] * 5000,
    }
    assert "jane" not in detail.request and "Question" in detail.request and "Answer" in detail.response
    assert detail.data["tags"] == target["tags"] and detail.data["metadata"] == {"region": "eu"}
    assert [(f.kind, f.score, f.comment) for f in detail.feedback] == [("thumbs", 1.0, "great")]


def test_another_projects_call_is_not_found(tenant: Tenant, other_tenant: Tenant, calls: CallSet) -> None:
    with pytest.raises(NotFound):
        call_get(project_id=other_tenant.project.pk, event_id=uuid.UUID(calls.events[0]["event_id"]))
    response = other_tenant.web().get(
        reverse("dashboard:call", args=[other_tenant.project.pk, calls.events[0]["event_id"]])
    )
    assert response.status_code == 404


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_export_comes_in_bounded_chunks(tenant: Tenant, calls: CallSet) -> None:
    chunks = list(export_csv_chunks(project_id=tenant.project.pk, filters=filters(calls), chunk=7))
    assert len(chunks) == 1 + 6  # the header, then 36 calls 7 at a time
    rows = read_csv("".join(chunks))
    assert [r["event_id"] for r in rows] == newest_first(calls.events)
    by_id = {e["event_id"]: e for e in calls.events}
    for row in rows:
        cost = CallSet.cost(by_id[row["event_id"]])
        assert row["cost_usd"] == ("" if cost is None else format(Decimal(cost).scaleb(-9), "f"))


def test_export_view_streams_the_filtered_calls(tenant: Tenant, calls: CallSet) -> None:
    hostile = event(
        ts=ts_text(calls.now), endpoint="support-reply", user_id='=HYPERLINK("http://x")', tags=["+1"]
    )
    assert post_batch(tenant.api("ingest"), [hostile]).status_code == 200
    url = reverse("dashboard:calls-export", args=[tenant.project.pk])
    response = tenant.web().get(url + "?range=7d&endpoint=support-reply")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="switchyard-acme-project-calls-')
    rows = read_csv(b"".join(response.streaming_content).decode())
    assert len(rows) == 19 and {r["endpoint"] for r in rows} == {"support-reply"}
    mine = next(r for r in rows if r["event_id"] == hostile["event_id"])
    assert mine["user_id"] == '\'=HYPERLINK("http://x")' and mine["tags"] == "'+1"  # not run as formulas


def test_export_with_a_bad_filter_says_why(tenant: Tenant, calls: CallSet) -> None:
    url = reverse("dashboard:calls-export", args=[tenant.project.pk])
    response = tenant.web().get(url + "?endpoint=nope")
    assert response.status_code == 400 and b"no calls from an endpoint named" in response.content


def test_pages_reach_back_past_the_first_window(tenant: Tenant, calls: CallSet, now: datetime) -> None:
    sparse = filters(calls, user="user-2", endpoint="tagger")
    rows = calls_page(project_id=tenant.project.pk, filters=sparse).rows
    expected = [e for e in calls.events if e["user_id"] == "user-2" and e["endpoint"] == "tagger"]
    assert [str(r.event_id) for r in rows] == newest_first(expected)
    assert min(r.ts for r in rows) < now.replace(tzinfo=rows[0].ts.tzinfo) - (now - now.replace(hour=0))


def test_other_projects_calls_never_show(
    tenant: Tenant, other_tenant: Tenant, calls: CallSet, prices: Any
) -> None:
    store_calls(other_tenant, now=calls.now, seed=2)
    rows = calls_page(project_id=tenant.project.pk, filters=filters(calls), limit=100).rows
    assert {str(r.event_id) for r in rows} == {e["event_id"] for e in calls.events}
