"""The demo's traffic has waste of every kind, and the detectors find it (make demo shows these)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.demo.traffic import demo_traffic_store
from apps.opportunities.models import Opportunity, Status
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_finding_of_every_kind(
    tenant: Tenant, catalogue: None, capsys: pytest.CaptureFixture[str]
) -> None:
    demo_traffic_store(project=tenant.project, now=timezone.now(), days=8, scale=0.6)
    call_command("demo_opportunities", project=tenant.project.slug)
    found = {
        (o.endpoint, o.kind) for o in Opportunity.objects.filter(project=tenant.project, status=Status.OPEN)
    }
    assert {
        ("kb-search", "caching"),
        ("nightly-enrichment", "tier"),
        ("product-descriptions", "output"),
        ("support-chat", "context"),
        ("draft-email", "model"),
    } <= found
    assert not {e for e, _ in found} & {
        "classify-ticket",
        "faq-answer",
        "extract-invoice",
        "complex-analysis",
    }
    out = capsys.readouterr().out
    assert "open findings" in out and "kb-search" in out
