"""End to end in headless Chromium against the live server: log in, switch project, overview,
endpoint, explorer (filter, open a call), CSV export, a bad filter. One screenshot per page in
var/test-output/screenshots/. Chromium must be installed (Debian: apt-get install chromium);
when it is missing these tests fail, they never skip."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.services import api_key_create
from apps.demo import waste
from apps.demo.traffic import PROFILES, demo_traffic_store
from apps.pricing.catalogue import SEED_FILE, prices_import_file
from tests.factories import PASSWORD, ProjectFactory
from tests.tenancy import Tenant, make_tenant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def shots(output_dir: Path) -> Path:
    path = output_dir / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the browser tests need it "
            "(Debian/Ubuntu: apt-get install chromium; or set CHROMIUM_PATH)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # playwright's sync API runs an event loop here
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def demo(db: None) -> Tenant:
    """A tenant with a new, empty project (first by name: where log-in lands) and a project with
    three days of demo traffic. Everything the test reads from the database is read here: once
    playwright runs, this thread is inside its event loop, where Django would open (and leave)
    another connection."""
    prices_import_file(SEED_FILE, recompute=False)  # no stored calls yet: nothing to recompute
    tenant = make_tenant("acme")
    empty = ProjectFactory(organization=tenant.organization, name="Aardvark app", slug="aardvark")
    key, _ = api_key_create(project=empty, kind="ingest", actor=None)
    report = demo_traffic_store(project=tenant.project, now=timezone.now(), days=3, scale=0.12)
    assert report.stored > 500
    tenant.extra |= {"empty": empty.pk, "empty_key": key.display_prefix, "email": tenant.user.email}
    return tenant


class Visit:
    """A page in the browser that records console errors and requests leaving the server."""

    def __init__(self, browser: Any, base: str, shots: Path):
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        self.page = self.context.new_page()
        self.base, self.shots = base, shots
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.failed: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", self._request)
        self.page.on("response", self._response)

    def _console(self, message: Any) -> None:
        # Failed loads are checked by _response (a page answering 400 to a bad filter is expected).
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def _response(self, response: Any) -> None:
        request = response.request
        if (
            response.status >= 400
            and request.resource_type != "document"
            and not request.url.endswith("/favicon.ico")
        ):
            self.failed.append(f"{response.status} {request.url}")

    def _request(self, request: Any) -> None:
        if not request.url.startswith((self.base, "data:", "blob:")):
            self.outside.append(request.url)

    def charts_drawn(self) -> int:
        """Wait until plotly.js has drawn every chart on the page; how many there are."""
        count = self.page.locator(".chart[data-figure]").count()
        if count:
            self.page.wait_for_function(
                "n => document.querySelectorAll('.chart[data-drawn=\"1\"] .main-svg').length >= n", arg=count
            )
        return count

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"dashboard-{name}.png"), full_page=True)


def test_browse_the_dashboard(live_server: Any, demo: Tenant, chromium: Any, shots: Path) -> None:
    visit = Visit(chromium, live_server.url, shots)
    page = visit.page
    empty, project = demo.extra["empty"], demo.project.pk  # attributes only: no query from here on

    page.goto(live_server.url + "/")
    page.fill("input[name=email]", demo.extra["email"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{reverse('dashboard:overview', args=[empty])}")
    assert "No calls yet in Aardvark app" in page.locator("#empty-install").inner_text()
    install = page.locator("#empty-install").inner_text()
    assert demo.extra["empty_key"] in install and live_server.url in install
    visit.shot("overview-empty")

    page.select_option("select[name=project]", str(project))  # the switcher submits on change
    page.wait_for_url(f"**{reverse('dashboard:overview', args=[project])}")
    assert visit.charts_drawn() == 3
    assert page.locator("#kpi-spend .value").inner_text().startswith("$")
    assert page.locator("#top-endpoints tbody tr").count() == len(PROFILES) + len(waste.ENDPOINTS)
    assert "No routing policy active yet" in page.locator("#savings").inner_text()
    visit.shot("overview")

    page.select_option("select[name=range]", "24h")  # the range picker submits on change
    page.wait_for_url("**range=24h**")
    assert "Last 24 hours" in page.locator(".dash-head").inner_text()
    visit.charts_drawn()

    page.click("#top-endpoints a:text('faq-answer')")
    page.wait_for_url("**/endpoints/faq-answer/**")
    assert visit.charts_drawn() == 7
    assert page.locator("#replay-results").is_visible() and page.locator("#policy-history").is_visible()
    visit.shot("endpoint")

    page.click("nav.tabs >> text=Calls")
    page.wait_for_selector("#calls-table")
    page.select_option("#call-filters select[name=endpoint]", "classify-ticket")
    page.select_option("#call-filters select[name=status]", "ok")
    page.click("#call-filters button[type=submit]")
    page.wait_for_url("**endpoint=classify-ticket**")
    endpoints = page.locator("#calls-table tbody td:nth-child(2)").all_inner_texts()
    assert len(endpoints) == 50 and set(endpoints) == {"classify-ticket"}
    visit.shot("calls")
    page.click("#next-page")
    page.wait_for_url("**after=**")
    assert page.locator("#calls-table tbody tr").count() > 0

    with page.expect_download() as download:
        page.click("#export-csv")
    exported = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert len(exported) > 50
    assert {r["endpoint"] for r in exported} == {"classify-ticket"} and {r["status"] for r in exported} == {
        "ok"
    }
    assert download.value.suggested_filename.endswith(".csv")

    page.locator("#calls-table a.call-link").first.click()
    page.wait_for_selector("#cost-breakdown")
    assert "classify-ticket" in page.locator(".dash-head").inner_text()
    assert "Classify the support ticket" in page.locator("#payload-request").inner_text()
    visit.shot("call")

    page.goto(live_server.url + reverse("dashboard:calls", args=[project]) + "?from=2026-13-01")
    assert "Could not read 'from'" in page.locator("#filter-error").inner_text()
    visit.shot("calls-bad-filter")

    assert visit.errors == [] and visit.failed == [], (visit.errors, visit.failed)
    assert visit.outside == [], f"the pages must work offline, but asked for {visit.outside}"
    visit.context.close()
