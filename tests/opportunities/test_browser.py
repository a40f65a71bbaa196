"""Opportunities in a real browser: planted waste stored through ingest and found by the detectors;
headless Chromium shows the findings ranked by dollars with their evidence and change, marks one
done, and finds them on the endpoint page and the overview's savings card. Screenshots in
var/test-output/screenshots/opportunities-*.png. A missing browser fails this test; it is never skipped."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from apps.demo.traffic import ingest_principal
from apps.ingest.services import store_events
from apps.opportunities.models import Opportunity, Status
from apps.opportunities.services import detect_project
from apps.pricing.catalogue import seed_prices_load
from apps.pricing.selectors import price_book_invalidate
from tests.factories import PASSWORD
from tests.opportunities.conftest import only
from tests.opportunities.plants import batches, planted_project
from tests.tenancy import Tenant, make_tenant

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def owner(transactional_db: None) -> Tenant:
    seed_prices_load()
    price_book_invalidate()
    return make_tenant("saver")


@pytest.mark.browser
def test_findings_are_shown_acted_on_and_summed_in_the_browser(
    live_server: Any, owner: Tenant, output_dir: Path, now: datetime
) -> None:
    assert Path(CHROMIUM).exists(), f"headless Chromium is required at {CHROMIUM}"
    shots = output_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    events, _ = planted_project(now)
    principal = ingest_principal(owner.project)
    for batch in batches(only(events, "kb-answer", "nightly-enrich", "legacy-summary", "clean-faq")):
        store_events(principal=principal, raws=batch)
    detect_project(project=owner.project, now=now)
    caching = Opportunity.objects.get(project=owner.project, endpoint="kb-answer")
    base = f"{live_server.url}/projects/{owner.project.pk}"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=email]", owner.user.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.click("nav.mainnav >> text=Opportunities")
        page.wait_for_load_state()
        titles = page.locator("article.finding h3").all_inner_texts()
        assert len(titles) == 3 and titles[0].startswith("claude-sonnet-4-5: ≈")  # ranked: caching first
        assert "$" in page.inner_text("#opportunity-total") and "Last run" in page.inner_text("#last-run")
        page.click(f"#finding-{caching.pk} .evidence summary")
        assert "Prompt tokens a call that repeat" in page.inner_text(f"#finding-{caching.pk} .evidence")
        page.screenshot(path=str(shots / "opportunities-page.png"), full_page=True)
        page.click(f"#finding-{caching.pk} >> text=Mark done")
        page.wait_for_selector("#realised")
        page.wait_for_load_state()
        assert "Measuring" in page.inner_text("#realised")
        page.screenshot(path=str(shots / "opportunities-finding.png"), full_page=True)
        page.goto(f"{base}/endpoints/legacy-summary/")
        assert "gpt-4o is superseded" in page.inner_text("#opportunities")
        page.screenshot(path=str(shots / "opportunities-endpoint-card.png"), full_page=True)
        page.goto(f"{base}/overview/?range=7d")
        assert "Together with routing" in page.inner_text("#savings-opportunities")
        page.locator("#savings").screenshot(path=str(shots / "opportunities-overview-card.png"))
        assert errors == []
        browser.close()
    assert Opportunity.objects.get(pk=caching.pk).status == Status.DONE
