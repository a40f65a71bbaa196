"""The routing pages as people use them: review, approve or refuse, history, rollback, kill switch."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from apps.policies.models import KillSwitch, PolicyVersion, PublishedConfig, RecommendationStatus
from apps.policies.services.recommend import recommendation_refresh
from tests.policies.factories import HAIKU, MINI, synthetic_evidence
from tests.replay.factories import call, ingest
from tests.tenancy import Tenant


def _rec(tenant: Tenant, job_id: int = 1) -> Any:
    evidence = synthetic_evidence(
        project_id=tenant.project.pk, job_id=job_id, candidates={MINI: {}, HAIKU: {"cost": 4_000}}
    )
    return recommendation_refresh(project=tenant.project, evidence=evidence)


def _as(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_inbox_review_and_approve_in_the_browser_flow(tenant: Tenant, catalogue: dict[str, Any]) -> None:
    rec = _rec(tenant)
    web = tenant.web()
    inbox = web.get(reverse("policies:inbox", args=[tenant.project.pk]))
    assert inbox.status_code == 200
    assert b"support-reply" in inbox.content and b"$2.70" in inbox.content
    page = web.get(reverse("policies:recommendation", args=[tenant.project.pk, rec.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Approve and publish" in text and f"override:{HAIKU}" in text  # another option to pick
    assert "+++ proposed" in text and "gpt-4o-mini" in text  # the diff against what is in force
    response = web.post(
        reverse("policies:recommendation-approve", args=[tenant.project.pk, rec.pk]),
        {"rollout_percent": "20", "sticky_on": "conversation_id", "note": "go"},
        follow=True,
    )
    assert response.status_code == 200
    assert b"Published support-reply v1 at 20% of traffic" in response.content
    version = PolicyVersion.objects.get(project=tenant.project)
    assert version.spec["rollout"] == {
        **version.spec["rollout"],
        "percent": 20.0,
        "sticky_on": "conversation_id",
    }
    assert b"Roll back" not in response.content  # nothing earlier to roll back to yet
    assert b"Approved recommendation #" in response.content  # the history says why


def test_a_member_can_review_but_not_approve(tenant: Tenant, catalogue: dict[str, Any], member: Any) -> None:
    rec = _rec(tenant)
    web = _as(member)
    page = web.get(reverse("policies:recommendation", args=[tenant.project.pk, rec.pk]))
    assert page.status_code == 200 and b"Only admins and owners can approve or reject" in page.content
    refused = web.post(
        reverse("policies:recommendation-approve", args=[tenant.project.pk, rec.pk]),
        {"sticky_on": "event"},
    )
    assert refused.status_code == 403
    assert b"Only admins and owners can approve routing policies; you are a member." in refused.content
    assert not PolicyVersion.objects.exists() and not PublishedConfig.objects.exists()


def test_refusals_are_shown_on_the_page(tenant: Tenant, catalogue: dict[str, Any]) -> None:
    rec = _rec(tenant)
    web = tenant.web()
    url = reverse("policies:recommendation-approve", args=[tenant.project.pk, rec.pk])
    bad = web.post(url, {"rollout_percent": "150", "sticky_on": "event"}, follow=True)
    assert b"Rollout percentage must be between 0 and 100, got 150" in bad.content
    newer = _rec(tenant, job_id=2)
    stale = web.post(url, {"sticky_on": "event"}, follow=True)
    assert f"superseded by #{newer.pk}; nothing was published".encode() in stale.content
    assert not PolicyVersion.objects.exists()


def test_history_rollback_and_kill_switch_pages(tenant: Tenant, catalogue: dict[str, Any]) -> None:
    web = tenant.web()
    rec = _rec(tenant)
    approve = reverse("policies:recommendation-approve", args=[tenant.project.pk, rec.pk])
    web.post(approve, {"sticky_on": "event"})
    args = [tenant.project.pk, "support-reply"]
    endpoint = reverse("policies:endpoint", args=args)
    web.post(reverse("policies:endpoint-rollout", args=args), {"percent": "60"})
    web.post(reverse("policies:endpoint-rollback", args=args), {"version": "1"})
    page = web.get(endpoint)
    text = page.content.decode()
    assert page.status_code == 200
    assert [v.action for v in PolicyVersion.objects.order_by("version")] == ["approve", "rollout", "rollback"]
    assert "Rolled back to v1." in text and "Rollout set to 60% by hand" in text and tenant.user.email in text
    config = web.get(reverse("policies:config", args=[tenant.project.pk]))
    assert config.status_code == 200 and b"&quot;policy_version&quot;: 3" in config.content
    kills = reverse("policies:kill-switch")
    web.post(reverse("policies:kill-switch-add"), {"kind": "model", "value": MINI, "reason": "incident 42"})
    lift = reverse("policies:kill-switch-lift", args=[KillSwitch.objects.get().pk])
    listed = web.get(kills).content.decode()
    assert "incident 42" in listed and f'action="{lift}"' in listed
    latest = PublishedConfig.objects.filter(project=tenant.project).order_by("-config_version").first()
    assert latest is not None and MINI.encode() in bytes(latest.body) and b"kill_switch" in bytes(latest.body)
    rec.refresh_from_db()
    assert rec.status == RecommendationStatus.APPROVED
    settings_page = web.post(
        reverse("policies:settings", args=[tenant.project.pk]),
        {"quality_bar": "90", "canary_percent": "5", "rollout_steps": "20,100", "guard_window": "30m",
         "guard_min_calls": "10", "max_error_rate": "0.05", "notify_email": "on", "webhook_url": ""},
        follow=True,
    )  # fmt: skip
    assert b"Routing settings saved." in settings_page.content


def test_thin_evidence_says_how_many_samples_to_replay(
    tenant: Tenant, catalogue: dict[str, Any], other_tenant: Tenant
) -> None:
    """98 % of the cheap model's answers are as good as the app's, on 120 samples: no promise yet,
    and the page says how large a replay would settle it, with a link that starts one that size."""
    spec = {MINI: {"quality": lambda i: 0.0 if i % 50 == 7 else 1.0}}
    evidence = synthetic_evidence(project_id=tenant.project.pk, n=120, candidates=spec)
    same = [type(s)(**{**s.__dict__, "prompt_text": "the same question"}) for s in evidence.samples]
    rec = recommendation_refresh(
        project=tenant.project, evidence=type(evidence)(**{**evidence.__dict__, "samples": same})
    )
    assert rec.strategy == "none" and rec.samples_needed and rec.samples_needed > 120
    url = reverse("policies:recommendation", args=[tenant.project.pk, rec.pk])
    text = tenant.web().get(url).content.decode()
    assert (
        "Not enough evidence yet:" in text and f"about <strong>{rec.samples_needed}</strong> samples" in text
    )
    start = f"/projects/{tenant.project.pk}/replay/new/?endpoint=support-reply&amp;sample_size={rec.samples_needed}"
    assert start in text
    assert "99% CI" in text and "the other two thirds" in text
    ingest(tenant, [call("is my parcel lost?", "no", endpoint="support-reply")])
    form = tenant.web().get(start.replace("&amp;", "&")).content.decode()
    assert f'name="sample_size" value="{rec.samples_needed}"' in form
    assert other_tenant.web().get(url).status_code == 404


def test_each_endpoint_action_has_its_own_url_and_a_refusal_comes_back_to_the_page(
    tenant: Tenant, catalogue: dict[str, Any]
) -> None:
    web = tenant.web()
    rec = _rec(tenant)
    web.post(
        reverse("policies:recommendation-approve", args=[tenant.project.pk, rec.pk]),
        {"sticky_on": "event"},
    )
    args = [tenant.project.pk, "support-reply"]
    page_url = reverse("policies:endpoint", args=args)
    page = web.get(page_url).content.decode()
    for action in ("rollout", "quality-bar", "stop"):
        assert f'action="{reverse(f"policies:endpoint-{action}", args=args)}"' in page
    assert web.post(page_url, {"percent": "10"}).status_code == 405  # the page only shows
    no_version = web.post(reverse("policies:endpoint-rollback", args=args), {}, follow=True)
    assert no_version.redirect_chain == [(page_url, 302)]
    assert b"Choose a version to roll back to" in no_version.content
    stopped = web.post(reverse("policies:endpoint-stop", args=args), follow=True)
    assert b"Routing stopped (v2)." in stopped.content
    assert [v.action for v in PolicyVersion.objects.order_by("version")] == ["approve", "stop"]
    unknown = web.post(reverse("policies:endpoint-stop", args=[tenant.project.pk, "no-such-endpoint"]))
    assert unknown.status_code == 404


def test_refresh_and_lift_post_to_their_own_urls(
    tenant: Tenant, catalogue: dict[str, Any], member: Any
) -> None:
    web = tenant.web()
    inbox = reverse("policies:inbox", args=[tenant.project.pk])
    refresh = reverse("policies:recommendations-refresh", args=[tenant.project.pk])
    assert f'action="{refresh}"' in web.get(inbox).content.decode()
    assert _as(member).post(refresh).status_code == 403  # only admins ask for recommendations
    refreshed = web.post(refresh, follow=True)
    assert refreshed.redirect_chain == [(inbox, 302)] and b"being made again" in refreshed.content
    web.post(reverse("policies:kill-switch-add"), {"kind": "model", "value": MINI, "reason": "incident 7"})
    kill = KillSwitch.objects.get()
    lifted = web.post(reverse("policies:kill-switch-lift", args=[kill.pk]), follow=True)
    assert f"{MINI} may be routed to again".encode() in lifted.content
    kill.refresh_from_db()
    assert kill.lifted_at is not None
    again = web.post(
        reverse("policies:kill-switch-lift", args=[kill.pk]), follow=True
    )  # a refusal, on the page
    assert (
        again.redirect_chain == [(reverse("policies:kill-switch"), 302)]
        and b"was lifted already" in again.content
    )
