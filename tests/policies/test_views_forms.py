"""The routing pages' forms and figures as a person meets them: a refused value comes back under
its field with everything typed kept, quality bars read as percentages, the diff shows no escape
codes, and every option evaluated is a chart with axes, labels and hover text."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from django.urls import reverse

from apps.policies.models import KillSwitch, PolicySettings, PolicyVersion
from tests.policies.factories import HAIKU, MINI
from tests.policies.test_views import _rec
from tests.tenancy import Tenant


def field_block(page: str, name: str) -> str:
    """The markup of one field as templates/partials/form.html draws it."""
    found = re.search(
        rf'<div class="field[^"]*" data-field="{name}">(.*?)</div>\s*(?=<div class="field|<button|</form)',
        page,
        re.S,
    )
    assert found, f"no field {name} on the page"
    return found.group(1)


def test_a_refused_approval_comes_back_under_the_field_with_what_was_typed(
    tenant: Tenant, catalogue: dict[str, Any]
) -> None:
    rec = _rec(tenant)
    url = reverse("policies:recommendation-approve", args=[tenant.project.pk, rec.pk])
    response = tenant.web().post(
        url,
        {"rollout_percent": "150", "sticky_on": "user_id", "note": "after the incident",
         "option": f"override:{HAIKU}"},
    )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 400
    rollout = field_block(page, "rollout_percent")
    assert "Rollout percentage must be between 0 and 100, got 150" in rollout and 'value="150"' in rollout
    assert 'value="after the incident"' in field_block(page, "note")
    assert '<option value="user_id" selected>' in field_block(page, "sticky_on")
    assert f'<option value="override:{HAIKU}" selected>' in field_block(page, "option")
    assert not PolicyVersion.objects.exists()


def test_a_rejection_without_a_reason_says_so_under_the_reason(
    tenant: Tenant, catalogue: dict[str, Any]
) -> None:
    rec = _rec(tenant)
    url = reverse("policies:recommendation-reject", args=[tenant.project.pk, rec.pk])
    response = tenant.web().post(url, {"reason": "   "})
    assert response.status_code == 400
    assert "This field is required." in field_block(response.content.decode(), "reason")


def test_cascade_checks_sit_beside_their_boxes(tenant: Tenant, catalogue: dict[str, Any]) -> None:
    rec = _rec(tenant)
    page = tenant.web().get(reverse("policies:recommendation", args=[tenant.project.pk, rec.pk])).content
    checks = field_block(page.decode(), "checks")
    assert "<fieldset><legend>Cascade checks</legend>" in checks
    assert re.search(
        r'<label for="id_checks_0"><input type="checkbox" name="checks" value="empty"[^>]*>\s*empty</label>',
        checks,
    )


def test_the_policy_diff_shows_no_escape_codes(tenant: Tenant, catalogue: dict[str, Any]) -> None:
    rec = _rec(tenant)
    page = tenant.web().get(reverse("policies:recommendation", args=[tenant.project.pk, rec.pk])).content
    diff = re.search(r'<pre class="code" id="diff">(.*?)</pre>', page.decode(), re.S)
    assert diff is not None
    text = html.unescape(diff.group(1))
    assert "+++ proposed" in text and '"salt": "<set at publish>"' in text and "\\u" not in text


def test_quality_bars_read_as_percentages_everywhere(tenant: Tenant, catalogue: dict[str, Any]) -> None:
    web = tenant.web()
    settings_url = reverse("policies:settings", args=[tenant.project.pk])
    bar = field_block(web.get(settings_url).content.decode(), "quality_bar")
    assert 'value="95"' in bar and "%" in bar and "0.95" not in bar
    saved = web.post(
        settings_url,
        {"quality_bar": "90", "canary_percent": "5", "rollout_steps": "20,100", "guard_window": "30m",
         "guard_min_calls": "10", "max_error_rate": "0.05", "notify_email": "on", "webhook_url": ""},
    )  # fmt: skip
    assert saved.status_code == 302
    assert PolicySettings.objects.get(project=tenant.project).quality_bar == 0.9
    rec = _rec(tenant)
    endpoint = web.get(
        reverse("policies:endpoint", args=[tenant.project.pk, "support-reply"])
    ).content.decode()
    assert "Quality bar: 90 % of the baseline" in endpoint and 'value="90"' in field_block(
        endpoint, "bar_percent"
    )
    page = web.get(reverse("policies:recommendation", args=[tenant.project.pk, rec.pk])).content.decode()
    assert "quality bar 90 %" in page


def test_a_bad_bar_or_rollout_on_the_endpoint_page_comes_back_under_its_field(
    tenant: Tenant, catalogue: dict[str, Any]
) -> None:
    rec = _rec(tenant)
    web = tenant.web()
    web.post(
        reverse("policies:recommendation-approve", args=[tenant.project.pk, rec.pk]),
        {"sticky_on": "event"},
    )
    args = [tenant.project.pk, "support-reply"]
    bar = web.post(reverse("policies:endpoint-quality-bar", args=args), {"bar_percent": "30"})
    assert bar.status_code == 400
    block = field_block(bar.content.decode(), "bar_percent")
    assert "between 50" in block and 'value="30"' in block
    rollout = web.post(reverse("policies:endpoint-rollout", args=args), {"percent": "250"})
    assert rollout.status_code == 400
    block = field_block(rollout.content.decode(), "percent")
    assert "between 0 and 100" in block and 'value="250"' in block
    assert PolicyVersion.objects.filter(project=tenant.project).count() == 1


def test_a_refused_kill_switch_entry_keeps_the_reason(tenant: Tenant, catalogue: dict[str, Any]) -> None:
    web = tenant.web()
    url = reverse("policies:kill-switch-add")
    web.post(url, {"kind": "model", "value": MINI, "reason": "incident 42"})
    again = web.post(url, {"kind": "model", "value": MINI, "reason": "incident 43"})
    page = again.content.decode()
    assert again.status_code == 400
    assert "already on the kill switch" in field_block(page, "value")
    assert 'value="incident 43"' in field_block(page, "reason")
    assert KillSwitch.objects.count() == 1


def test_every_option_evaluated_is_a_chart_with_axes_labels_and_hover(
    tenant: Tenant, catalogue: dict[str, Any]
) -> None:
    rec = _rec(tenant)
    page = (
        tenant.web()
        .get(reverse("policies:recommendation", args=[tenant.project.pk, rec.pk]))
        .content.decode()
    )
    assert "<svg" not in page  # not hand-drawn any more
    assert 'src="/static/vendor/plotly.min.js"' in page
    raw = re.search(r'<script id="fig-options" type="application/json">(.*?)</script>', page, re.S)
    assert raw is not None
    figure = json.loads(raw.group(1))
    layout = figure["layout"]
    assert "cost per call" in layout["xaxis"]["title"]["text"] and "USD" in layout["xaxis"]["title"]["text"]
    assert "quality kept" in layout["yaxis"]["title"]["text"] and "%" in layout["yaxis"]["title"]["text"]
    named = [t for t in figure["data"] if t.get("hoverinfo") != "skip"]
    assert {t["name"] for t in named} >= {"options", "frontier", "recommended", "baseline"}
    texts = {text for t in named for text in t["text"]}
    assert "override → openai/gpt-4o-mini" in texts and "baseline: openai/gpt-4o" in texts
    assert all("%{text}" in t["hovertemplate"] for t in named)
