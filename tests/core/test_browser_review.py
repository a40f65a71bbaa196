"""A new user's first hour, in headless Chromium against the live server.

- The screenshot review: every page the navigation reaches (the top bar, each section's own
  navigation, and one of each detail page) is captured at a desktop size and at a 390-pixel-wide
  phone size into var/test-output/screenshots/review-*.png; no page scrolls sideways at either
  size, asks anything of another host, logs an error, or draws a chart without axis titles.
- Every page form, submitted with a bad value, comes back with the error under that field and
  what was typed still in it.
- Switching project on the Calls page stays on Calls.

Chromium must be installed (Debian: apt-get install chromium); without it these tests fail."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from apps.accounts.services import api_key_create
from apps.core import background
from apps.demo.traffic import demo_traffic_store
from apps.policies.services.recommend import recommendation_refresh
from apps.pricing.catalogue import SEED_FILE, prices_import_file
from apps.pricing.models import LlmModel
from apps.replay.services.jobs import replay_job_create
from apps.replay.services.planning import CandidateSpec, ReplaySpec
from tests.dashboard.test_browser import Visit
from tests.factories import PASSWORD, ProjectFactory
from tests.policies.factories import HAIKU, MINI, synthetic_evidence
from tests.tenancy import Tenant, make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": (1400, 1000), "phone": (390, 844)}
NAV_LINKS = "header nav.mainnav a, main nav a"
# Cartesian charts carry both axis titles; plotly draws them as .xtitle / .ytitle text.
UNTITLED_CHARTS = """() => [...document.querySelectorAll('.chart[data-drawn="1"]')].filter(chart =>
    chart.querySelector('.cartesianlayer .xy') &&
    !(chart.querySelector('.xtitle')?.textContent && chart.querySelector('.ytitle')?.textContent)
).map(chart => chart.id)"""


@pytest.fixture
def site(db: None) -> Tenant:
    """An organisation with three days of demo traffic, a finished replay, an open recommendation,
    and a second, empty project. Read from the database here only: the browser runs later."""
    prices_import_file(SEED_FILE, recompute=False)
    tenant = make_tenant("acme")
    second = ProjectFactory(organization=tenant.organization, name="Second app", slug="second-app")
    api_key_create(project=second, kind="ingest", actor=None)
    assert demo_traffic_store(project=tenant.project, now=timezone.now(), days=3, scale=0.12).stored > 500
    project = tenant.project
    job = replay_job_create(
        project=project,
        actor=None,
        trigger="demo",
        spec=ReplaySpec(
            endpoint="faq-answer",
            candidates=(CandidateSpec("openai", "gpt-4o-mini", simulated=True),),
            sample_size=30,
            spend_cap_nano=0,
        ),
    )
    assert background.drain(timeout=120)
    evidence = synthetic_evidence(project_id=project.pk, candidates={MINI: {}, HAIKU: {"cost": 4_000}})
    rec = recommendation_refresh(project=project, evidence=evidence)
    model = LlmModel.objects.get(provider__slug="openai", name="gpt-4o-mini")
    p = f"/projects/{project.pk}"
    tenant.extra |= {
        "email": tenant.user.email,
        "second": second.pk,
        "details": [
            f"{p}/endpoints/faq-answer/",
            f"{p}/models/openai/gpt-4o-mini/",
            f"{p}/replay/{job.pk}/",
            f"{p}/routing/recommendations/{rec.pk}/",
            f"{p}/routing/endpoints/support-reply/",
            f"/pricing/models/{model.pk}/",
            "/billing/usage/",
            "/sdk/",
        ],
        "recommendation": f"{p}/routing/recommendations/{rec.pk}/",
        "pricing_model": f"/pricing/models/{model.pk}/",
    }
    return tenant


def _log_in(visit: Visit, base: str, email: str) -> None:
    visit.page.goto(base + "/accounts/login/")
    visit.page.fill("input[name=email]", email)
    visit.page.fill("input[name=password]", PASSWORD)
    visit.page.click("button[type=submit]")
    visit.page.wait_for_url(re.compile(r".*/overview/$"))


def _nav_paths(page: Any, base: str) -> list[str]:
    found = []
    for href in page.eval_on_selector_all(NAV_LINKS, "links => links.map(a => a.href)"):
        parts = urlsplit(href)
        if href.startswith(base) and parts.path not in found:  # a tab's ?range=… is the same page
            found.append(parts.path)
    return found


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"


def test_screenshot_review_every_page_at_desktop_and_phone_size(
    live_server: Any, site: Tenant, chromium: Any, shots: Path
) -> None:
    base = live_server.url
    visit = Visit(chromium, base, shots)
    page = visit.page
    _log_in(visit, base, site.extra["email"])
    page.goto(f"{base}/projects/{site.project.pk}/overview/")
    todo, seen = _nav_paths(page, base), set()
    assert len(todo) >= 12, todo  # the top bar alone has a dozen sections
    while todo:  # every page each section's navigation links to, breadth first
        path = todo.pop(0)
        if path in seen:
            continue
        seen.add(path)
        page.goto(base + path)
        todo += [p for p in _nav_paths(page, base) if p not in seen and p not in todo]
    details = list(site.extra["details"])
    for listing in [p for p in sorted(seen) if "/economics/" in p]:  # one person's, one customer's page
        page.goto(base + listing)
        links = page.eval_on_selector_all(f'main a[href^="{listing}"]', "links => links.map(a => a.pathname)")
        details += [link for link in links if link != listing][:1]
    pages = sorted(seen) + [p for p in details if p not in seen]
    assert {"/api/docs/", "/billing/", "/pricing/", "/accounts/members/"} <= set(pages)

    problems = []
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        for path in pages:
            response = page.goto(base + path)
            assert response is not None and response.status < 400, (path, response and response.status)
            if path == "/api/docs/":
                page.wait_for_selector("h1")  # Redoc drew the reference from /api/schema/
            visit.charts_drawn()
            page.wait_for_timeout(150)  # plotly's resize after a viewport change
            wide = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if wide > 0:
                problems.append(f"{path} scrolls {wide}px sideways at {size} size")
            untitled = page.evaluate(UNTITLED_CHARTS)
            if untitled:
                problems.append(f"{path}: charts without axis titles {untitled}")
            page.screenshot(path=str(shots / f"review-{_slug(path)}-{size}.png"), full_page=True)
    assert problems == [], "\n".join(problems)
    assert visit.errors == [] and visit.failed == [], (visit.errors, visit.failed)
    assert visit.outside == [], f"the pages must work offline, but asked for {visit.outside}"
    assert len(list(shots.glob("review-*-phone.png"))) >= len(pages)
    visit.context.close()


def test_switching_project_on_the_calls_page_stays_on_calls(
    live_server: Any, site: Tenant, chromium: Any, shots: Path
) -> None:
    visit = Visit(chromium, live_server.url, shots)
    _log_in(visit, live_server.url, site.extra["email"])
    visit.page.goto(f"{live_server.url}/projects/{site.project.pk}/calls/")
    visit.page.select_option("select[name=project]", str(site.extra["second"]))  # submits on change
    visit.page.wait_for_url(f"**/projects/{site.extra['second']}/calls/")
    assert "No calls yet in Second app" in visit.page.locator("#empty-install").inner_text()
    visit.context.close()


# Every page form with a bad value: (page, form, values typed, the field that is wrong, its error).
# Values a browser would refuse itself (min, max, type=email) are sent anyway: the server decides.
FORMS = [
    ("/accounts/projects/", "main form:has([name=name])", {"name": "acme project"}, "name", "already has a project named"),
    ("keys", "main form:has(select[name=kind])", {"kind": "sdk", "name": "k" * 130}, "name", "at most 120 characters"),
    ("/accounts/members/", "main form[action$='/members/invite/']", {"email": "bob@", "role": "admin"}, "email", "valid email"),
    ("ingest", "main form:has([name=capture_sample_rate])", {"capture_sample_rate": "2"}, "capture_sample_rate", "less than or equal to 1"),
    ("pricing_model", "#price-form form", {"effective_from": "2026-01-01", "input": "-1", "output": "2"}, "input", ""),
    ("/pricing/settings/", "main form[action$='/settings/discounts/']", {"percent": "150", "effective_from": "2026-01-01", "note": "contract"}, "percent", ""),
    ("/pricing/settings/", "main form[action$='/settings/models/']", {"provider": "vllm", "name": "house-model", "input": "cheap"}, "input", ""),
    ("/pricing/settings/", "main form[action$='/settings/recompute/']", {"since": "last week"}, "since", ""),
    ("replay_new", "main form:has([name=sample_size])", {"sample_size": "40", "spend_cap_usd": "-1"}, "spend_cap_usd", "greater than or equal to 0"),
    ("/replay/keys/", "main form:has([name=api_key])", {"provider": "openai", "base_url": "not a url", "api_key": "sk-test"}, "base_url", "valid URL"),
    ("replay_schedule", "main form:has([name=drift_threshold])", {"drift_threshold": "-1"}, "drift_threshold", "greater than or equal to 0.01"),
    ("routing_settings", "main form:has([name=quality_bar])", {"quality_bar": "120", "guard_window": "2h"}, "quality_bar", "between 50 % and 100 %"),
    ("/routing/kill-switch/", "main form:has([name=reason])", {"value": "", "reason": "incident 9"}, "value", "required"),
    ("recommendation", "#approve-form", {"rollout_percent": "150", "note": "after the incident"}, "rollout_percent", "between 0 and 100"),
    ("recommendation", "main form:has([name=reason])", {"reason": " "}, "reason", "required"),
    ("routing_endpoint", "#bar-form", {"bar_percent": "30"}, "bar_percent", "between 50"),
    ("spend_budget", "#budget-form", {"name": "Team cap", "limit_usd": "-5"}, "limit_usd", ""),
]  # fmt: skip


def _paths(site: Tenant) -> dict[str, str]:
    p = f"/projects/{site.project.pk}"
    return {
        "keys": f"/accounts/projects/{site.project.pk}/keys/",
        "ingest": f"{p}/ingest/",
        "pricing_model": site.extra["pricing_model"],
        "replay_new": f"{p}/replay/new/",
        "replay_schedule": f"{p}/replay/schedule/",
        "routing_settings": f"{p}/routing/settings/",
        "recommendation": site.extra["recommendation"],
        "routing_endpoint": f"{p}/routing/endpoints/support-reply/",
        "spend_budget": f"{p}/spend/budgets/new/",
    }


def _fill(form: Any, values: dict[str, str]) -> None:
    for name, value in values.items():
        control = form.locator(f'[name="{name}"]').first
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:  # as typed, past maxlength too
            control.evaluate("(e, v) => { e.value = v }", value)


def _submit(page: Any, form: Any) -> None:
    form.evaluate("f => { f.noValidate = true }")  # the server's answer, not the browser's bubble
    with page.expect_navigation():
        form.locator("button[type=submit]").first.click()


def test_every_form_with_a_bad_value_shows_the_error_under_the_field_and_keeps_what_was_typed(
    live_server: Any, site: Tenant, chromium: Any, shots: Path
) -> None:
    base = live_server.url
    paths = _paths(site)
    visit = Visit(chromium, base, shots)
    page = visit.page
    _log_in(visit, base, site.extra["email"])
    problems = []
    for where, selector, values, bad, expected in FORMS:
        page.goto(base + paths.get(where, where))
        form = page.locator(selector)
        if form.count() != 1:
            problems.append(f"{where}: {form.count()} forms match {selector}")
            continue
        _fill(form, values)
        _submit(page, form)
        field = page.locator(f'main .field.invalid[data-field="{bad}"]')
        error = field.locator("small.error").all_inner_texts() if field.count() else []
        if not error or expected not in " ".join(error):
            problems.append(f"{where} {bad}: error {error!r}, expected {expected!r}")
        form = page.locator(selector)
        for name, value in values.items():
            control = form.locator(f'[name="{name}"]').first
            if control.count() and control.get_attribute("type") == "password":
                continue  # a secret is never sent back to the browser
            kept = control.input_value() if control.count() else None
            if kept is None or kept.strip() != value.strip():
                problems.append(f"{where} {name}: typed {value!r}, the page shows {kept!r}")
        page.screenshot(path=str(shots / f"form-{_slug(where)}-{bad}.png"), full_page=True)
    assert problems == [], "\n".join(problems)

    anonymous = Visit(chromium, base, shots)  # signing up and logging in
    anonymous.page.goto(base + "/accounts/signup/")
    signup = anonymous.page.locator("main form")
    _fill(signup, {"email": "grace@", "password": "a-long-passphrase-1", "organization": "Grace Co"})
    _submit(anonymous.page, signup)
    assert (
        "valid email" in anonymous.page.locator('.field.invalid[data-field="email"] small.error').inner_text()
    )
    assert anonymous.page.locator("input[name=organization]").input_value() == "Grace Co"
    anonymous.page.goto(base + "/accounts/login/")
    login = anonymous.page.locator("main form")
    _fill(login, {"email": site.extra["email"], "password": "not the password"})
    _submit(anonymous.page, login)
    assert "E-mail or password is wrong." in anonymous.page.locator(".form-errors").inner_text()
    assert anonymous.page.locator("input[name=email]").input_value() == site.extra["email"]
    assert visit.errors == [] and anonymous.errors == [], (visit.errors, anonymous.errors)
    visit.context.close()
    anonymous.context.close()
