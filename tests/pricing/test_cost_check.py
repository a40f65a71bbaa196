"""manage.py cost_check: stored costs against a fresh computation, the calls that differ listed."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.pricing.models import LlmModel
from apps.warehouse import client as warehouse
from tests.ingest.events import event, post_batch, stored_call
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db


def _tamper(tenant: Tenant, event_id: str, cost: int) -> None:
    """A later revision of a stored call carrying a wrong cost (what a lost recompute leaves)."""
    row = stored_call(tenant.project.pk, event_id)
    row.update(revision=row["revision"] + 1, prev_cost_nano_usd=row["cost_nano_usd"], cost_nano_usd=cost)
    warehouse.system_insert("llm_calls", [list(row.values())], list(row), feature="test")


def test_lists_the_calls_whose_stored_cost_differs(
    tenant: Tenant, other_tenant: Tenant, catalogue: dict[str, LlmModel]
) -> None:
    sent = [event(model="gpt-4o", input_tokens=1_000_000, output_tokens=0) for _ in range(3)]
    post_batch(tenant.api("ingest"), sent)
    post_batch(other_tenant.api("ingest"), [event(model="gpt-4o", input_tokens=5, output_tokens=0)])
    _tamper(tenant, sent[1]["event_id"], 123)
    out = StringIO()
    with pytest.raises(CommandError, match="1 call"):
        call_command("cost_check", "--project", str(tenant.project.pk), "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert (report["calls"], report["differing"]) == (3, 1)
    (diff,) = report["differences"]
    # 1M input tokens of gpt-4o at $2.50/M = 2,500,000,000 nano; the stored revision says 123.
    assert (diff["event_id"], diff["stored_nano_usd"], diff["fresh_nano_usd"]) == (
        sent[1]["event_id"],
        123,
        2_500_000_000,
    )
    clean = StringIO()
    call_command("cost_check", "--project", str(other_tenant.project.pk), stdout=clean)
    assert "1 calls from" in clean.getvalue() and "0 differ" in clean.getvalue()


def test_refuses_a_reversed_range(tenant: Tenant) -> None:
    with pytest.raises(CommandError, match="--since must be before --until"):
        call_command("cost_check", "--since", "2026-02-01", "--until", "2026-01-01")
