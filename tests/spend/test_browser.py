"""Spend control in a real browser, end to end: an owner creates a blocking budget on a user in
headless Chromium; the tick finds it exhausted; the budgets, alert, per-user, per-customer and
per-conversation pages show it (charts drawn); and the real SDK, polling the live server's
GET /v1/config, raises BudgetExceededError for that user only. Screenshots in
var/test-output/screenshots/spend-*.png. A missing browser fails this test; it is never skipped."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import switchyard
from openai import OpenAI
from playwright.sync_api import sync_playwright

from apps.policies.domain import signing
from apps.spend.models import Budget
from apps.spend.services.tick import spend_tick
from tests.factories import PASSWORD
from tests.fakes.openai_server import fake_openai
from tests.spend.data import call, send
from tests.tenancy import Tenant, make_tenant

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def owner(transactional_db: None, prices: Any) -> Tenant:
    return make_tenant("spender")


@pytest.fixture
def sdk() -> Iterator[None]:
    yield
    switchyard.shutdown(timeout=2.0)


def _ask(client: Any, user: str) -> str:
    reply = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Plan my week"}], switchyard={"user_id": user}
    )
    return str(reply.choices[0].message.content)


@pytest.mark.browser
def test_a_budget_made_in_the_browser_blocks_the_user_in_the_sdk(
    live_server: Any, owner: Tenant, sdk: None, tmp_path: Path, output_dir: Path, now: datetime
) -> None:
    assert Path(CHROMIUM).exists(), f"headless Chromium is required at {CHROMIUM}"
    shots = output_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    project = owner.project
    events = [call(now - timedelta(days=d % 5, minutes=d), usd=0.1 + 0.01 * d, user_id=f"u-{d % 4}",
                   customer_id=("acme", "globex")[d % 2], conversation_id=f"conv-{d // 3}",
                   endpoint=("chat", "search", "agent-plan")[d % 3]) for d in range(40)]  # fmt: skip
    events.append(
        call(now, usd=1.2, user_id="u-heavy", customer_id="acme", conversation_id="conv-x", endpoint="chat")
    )
    send(owner, events)
    base = f"{live_server.url}/projects/{project.pk}"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=email]", owner.user.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{base}/spend/")
        assert "No budgets yet" in page.inner_text("#no-budgets")
        page.click("#no-budgets >> text=Create a budget")
        page.fill("input[name=name]", "Heavy user")
        page.select_option("select[name=scope_kind]", "user")
        page.fill("input[name=scope_value]", "u-heavy")
        page.select_option("select[name=period]", "day")
        page.fill("input[name=limit_usd]", "1")
        page.select_option("select[name=action]", "block")
        page.click("#budget-form button[type=submit]")
        page.wait_for_selector("#budget-progress")
        assert "Budget Heavy user" in page.content()

        tick = threading.Thread(target=spend_tick, kwargs={"now": now, "project_ids": [project.pk]})
        tick.start()  # what the minute's beat does (off Playwright's event loop, like the beat)
        tick.join()
        page.goto(f"{base}/spend/")
        row = page.inner_text("#budgets")
        assert "limit reached" in row and "block in force" in row and "120 %" in row
        page.screenshot(path=str(shots / "spend-budgets.png"), full_page=True)
        page.click(".alerts-table >> text=Heavy user")
        assert "$1.20 of $1.00" in page.inner_text("#alert")
        page.screenshot(path=str(shots / "spend-alert.png"), full_page=True)
        for name, selector in (
            ("users", "#top-keys"),
            ("customers", "#top-keys"),
            ("conversations", "#top-keys"),
        ):
            page.goto(f"{base}/economics/{name}/")
            page.wait_for_selector("#chart-cost-per-key .main-svg")
            assert page.inner_text(selector)
            page.screenshot(path=str(shots / f"spend-{name}.png"), full_page=True)
        page.goto(f"{base}/economics/customers/acme/")
        page.fill("input[name=month]", now.strftime("%Y-%m"))
        page.fill("input[name=amount_usd]", "50")
        page.click("#revenue-form button[type=submit]")
        assert "$50.00" in page.inner_text("#margins")
        page.screenshot(path=str(shots / "spend-customer.png"), full_page=True)
        assert errors == []
        browser.close()

    with fake_openai() as provider:
        switchyard.init(
            api_key=owner.ingest_key,
            sdk_key=owner.sdk_key,
            host=live_server.url,
            config_public_keys=signing.public_keys(),
            config_cache_dir=tmp_path / "sdk-cache",
            config_poll_interval=0.2,
            request_timeout=5.0,
        )
        assert switchyard.wait_for_config(10.0)
        client = switchyard.wrap(OpenAI(base_url=provider.base_url, api_key="sk-test", max_retries=0))
        with pytest.raises(switchyard.BudgetExceededError) as caught:
            _ask(client, "u-heavy")
        assert caught.value.budget_id == Budget.objects.get(project=project).pk
        assert _ask(client, "u-1") == "answer from gpt-4o"
        assert [r["body"]["model"] for r in provider.requests] == [
            "gpt-4o"
        ]  # the blocked call was never sent
