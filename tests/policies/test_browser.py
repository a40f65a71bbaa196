"""End to end in a real browser: an owner approves a recommendation in headless Chromium, and the
real `switchyard` SDK, polling the live server's GET /v1/config, routes the next call by it; the
call explorer shows the new arm. A missing browser fails this test; it is never skipped."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import switchyard
from openai import OpenAI
from playwright.sync_api import sync_playwright

from apps.policies.domain import signing
from apps.policies.models import PolicyVersion
from apps.policies.services.recommend import recommendation_refresh
from tests.factories import PASSWORD
from tests.fakes.openai_server import fake_openai
from tests.policies.factories import MINI, price_catalogue, synthetic_evidence
from tests.tenancy import Tenant, make_tenant

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def owner(transactional_db: None) -> Tenant:
    price_catalogue()
    return make_tenant("browser")


@pytest.fixture
def sdk(tmp_path: Path) -> Iterator[None]:
    yield
    switchyard.shutdown(timeout=2.0)


def _ask(client: Any) -> str:
    reply = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Where is my parcel?"}],
        switchyard={"endpoint": "support-reply"},
    )
    return str(reply.choices[0].message.content)


def _wait_for_version(version: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while switchyard.stats().config_version != version and time.monotonic() < deadline:
        time.sleep(0.05)
    assert switchyard.stats().config_version == version, switchyard.stats()


@pytest.mark.browser
def test_approve_in_the_browser_then_the_sdk_routes_by_it(
    live_server: Any, owner: Tenant, sdk: None, tmp_path: Path
) -> None:
    assert Path(CHROMIUM).exists(), f"headless Chromium is required at {CHROMIUM}"
    project = owner.project
    rec = recommendation_refresh(project=project, evidence=synthetic_evidence(project_id=project.pk))
    assert (rec.strategy, rec.target) == ("override", MINI)

    with fake_openai() as provider:
        switchyard.init(
            api_key=owner.ingest_key,
            sdk_key=owner.sdk_key,
            host=live_server.url,
            config_public_keys=signing.public_keys(),
            config_cache_dir=tmp_path / "sdk-cache",
            config_poll_interval=0.2,
            flush_interval=0.05,
            request_timeout=5.0,
        )
        assert switchyard.wait_for_config(10.0)
        client = switchyard.wrap(OpenAI(base_url=provider.base_url, api_key="sk-test", max_retries=0))
        assert _ask(client) == "answer from gpt-4o"  # nothing approved yet: the app's own model
        before = switchyard.stats().config_version

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.goto(f"{live_server.url}/accounts/login/")
            page.fill("input[name=email]", owner.user.email)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.goto(f"{live_server.url}/projects/{project.pk}/routing/")
            assert "support-reply" in page.inner_text("#open-recommendations")
            page.click("#open-recommendations >> text=Review")
            assert "Send every call to openai/gpt-4o-mini" in page.inner_text("#summary")
            page.fill("input[name=rollout_percent]", "100")
            page.fill("input[name=note]", "approved from the browser test")
            page.click("#approve")
            page.wait_for_selector("#in-force")
            assert "Published support-reply v1 at 100% of traffic" in page.content()
            assert "v1" in page.inner_text("#in-force") and MINI in page.inner_text("#in-force")

            _wait_for_version(before + 1)
            assert _ask(client) == "answer from gpt-4o-mini"  # routed by the approved policy
            assert [r["body"]["model"] for r in provider.requests] == ["gpt-4o", "gpt-4o-mini"]
            assert switchyard.flush(10.0)

            page.goto(f"{live_server.url}/projects/{project.pk}/calls/")
            explorer = page.content()
            assert "candidate" in explorer and "gpt-4o-mini" in explorer
            browser.close()
    version = PolicyVersion.objects.get(project=project)
    assert version.created_by == owner.user and "approved from the browser test" in version.reason
