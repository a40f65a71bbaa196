"""`manage.py import_prices` never reports success without the recompute (issue 16, finding 5).

The command runs in its own process, as a person runs it next to `make demo`'s server. With the
embedded store owned by a running server (here: this test process, which holds the chDB
directory), the recompute is handed to the server through the database and its worker does it;
with the store free, the command recomputes before it exits.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from apps.core import background
from apps.pricing.models import LlmModel, RecomputeRequest
from apps.warehouse import client as warehouse
from tests.ingest.events import event, post_batch, stored_call
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]

PRICE_FILE = """{"format": "switchyard-prices", "version": 1, "currency": "USD",
 "providers": [{"slug": "openai", "name": "OpenAI"}],
 "models": [{"provider": "openai", "name": "gpt-4o", "prices": [
   {"effective_from": "2025-01-01", "input": "2", "output": "8", "source": "test", "source_date": "2025-01-01"}]}]}
"""


def import_prices(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "prices.json"
    path.write_text(PRICE_FILE)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CLICKHOUSE_URL": settings.CLICKHOUSE_URL,
        "CLICKHOUSE_DATABASE": settings.CLICKHOUSE_DATABASE,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "import_prices", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def stored_cost(tenant: Tenant, sent: dict[str, Any]) -> int:
    return int(stored_call(tenant.project.pk, sent["event_id"])["cost_nano_usd"])


def test_with_the_server_running_the_recompute_is_handed_to_it(
    tenant: Tenant, catalogue: dict[str, LlmModel], tmp_path: Path
) -> None:
    sent = event(model="gpt-4o", input_tokens=1_000_000, output_tokens=0)
    post_batch(tenant.api("ingest"), [sent])
    assert stored_cost(tenant, sent) == 2_500_000_000  # $2.50/M
    done = import_prices(tmp_path)  # this process owns the embedded store, as a running server does
    assert done.returncode == 0, done.stderr
    assert "handed to the running server" in done.stdout, done.stdout
    handed = RecomputeRequest.objects.get(reason__startswith="catalogue import")
    assert handed.status == "pending"
    # The server's embedded beat finds the request and its worker recomputes.
    background.task_by_name("pricing.plan_pending_recomputes").apply()
    assert background.drain(120)
    assert stored_cost(tenant, sent) == 2_000_000_000  # the imported $2/M
    handed.refresh_from_db()
    assert (handed.status, handed.jobs) == ("planned", 1)


def test_with_the_store_free_the_command_recomputes_before_it_exits(
    tenant: Tenant, catalogue: dict[str, LlmModel], tmp_path: Path
) -> None:
    sent = event(model="gpt-4o", input_tokens=1_000_000, output_tokens=0)
    post_batch(tenant.api("ingest"), [sent])
    warehouse.close_clients()  # no server: the command may open the store itself
    done = import_prices(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Recomputed 1 call" in done.stdout, done.stdout
    assert stored_cost(tenant, sent) == 2_000_000_000
