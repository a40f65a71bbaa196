"""`manage.py demo_recommend`: recommendations for the demo project from its replay evidence,
idempotent, and a hint when there is none yet."""

from __future__ import annotations

from io import StringIO

from django.conf import settings
from django.core.management import call_command

from apps.policies.models import Recommendation
from tests.policies.factories import simulated_replay
from tests.tenancy import Tenant


def test_the_demo_command_recommends_from_a_finished_replay(tenant: Tenant) -> None:
    simulated_replay(tenant)
    out = StringIO()
    call_command("demo_recommend", project=tenant.project.slug, stdout=out)
    call_command("demo_recommend", project=tenant.project.slug, stdout=out)
    assert Recommendation.objects.filter(project=tenant.project).count() == 1  # idempotent
    text = out.getvalue()
    assert "Recommendations ready: 1 endpoints." in text and "help" in text
    assert (settings.VAR_DIR / "demo-config-public-keys.txt").read_text().strip() in text


def test_demo_command_without_evidence_says_what_to_run(tenant: Tenant) -> None:
    out = StringIO()
    call_command("demo_recommend", project=tenant.project.slug, stdout=out)
    assert "No replay evidence yet: run `manage.py demo_replay`" in out.getvalue()
