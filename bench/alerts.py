"""Spend control at scale: 10,000 budgets over 10 million calls, and the unit-economics pages.

1. Fresh embedded stores under var/bench-alerts; ROWS synthetic calls over the last 30 days for
   one project (bench/alerts_load.sql: 100,000 users in 2,000 customers, conversations of four
   calls, eight endpoints), generated server-side; the materialized views fill the rollups.
2. BUDGETS budgets: named users and customers, endpoints, models, the project, and a few on each
   user / customer, over days, weeks and months; one webhook channel (a local HTTP receiver).
   Limits are set from each scope's current spend: PLANTED of them sit at 45 % (just under their
   first threshold, 50 %), the rest at most at 20 %.
3. Tick 1 (timed): nothing may alert. Then calls are stored that push every planted scope past
   50 % (and calls for other scopes that stay under). Tick 2 (timed) and tick 3 (timed): each
   planted crossing must be alerted and delivered to the webhook by the end of tick 2 (one tick
   after the crossing; the goal is two). recall = planted crossings delivered / planted;
   false_alarms = alerts for budgets that did not cross.
4. The cost-per-user / customer / conversation pages (30 and 7 days, and a user's and a customer's
   page), REPEAT times each with Django's test client, logged in; baseline: `SELECT count() FROM
   llm_calls_1h` for the project, measured in the same run.

Last line, JSON: {"budgets", "rows", "tick_s", "recall", "false_alarms", "p95_page_ms", ...}.

    .venv/bin/python bench/alerts.py [--rows 10000000] [--budgets 10000] [--repeat 5] [--keep]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "bench-alerts"
CHUNK = 1_000_000
GOAL_TICK_S, GOAL_PAGE_MS = 30.0, 400.0


def setup_django(fresh: bool) -> None:
    if fresh and VAR.exists():
        shutil.rmtree(VAR)
    VAR.mkdir(parents=True, exist_ok=True)
    os.environ["VAR_DIR"] = str(VAR)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["DEBUG"] = "false"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.setdefault("CLICKHOUSE_QUERY_TIMEOUT_S", "600")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def load(rows: int, project_id: int) -> float:
    from apps.warehouse import client as warehouse

    sql = (ROOT / "bench" / "alerts_load.sql").read_text()
    now_ms = int(time.time() * 1000)
    started = time.perf_counter()
    for first in range(0, rows, CHUNK):
        count = min(CHUNK, rows - first)
        params = {"project_id": project_id, "rows": rows, "first": first, "count": count, "now_ms": now_ms,
                  "salt": project_id}  # fmt: skip
        warehouse.system_command(sql, params, feature="bench.load")
        print(f"  loaded {first + count:,} / {rows:,}", flush=True)
    return time.perf_counter() - started


def bench_project(*, load_rows: int) -> tuple[Any, Any]:
    """The bench's user and project (made once); with load_rows, that many calls loaded for it."""
    from django.contrib.auth import get_user_model

    from apps.accounts.models import Project
    from apps.accounts.services import organization_create, project_create

    user, _ = get_user_model().objects.get_or_create(username="bench@switchyard.local", email="bench@switchyard.local")
    project = Project.objects.filter(slug="bench").first()
    if project is None:
        project = project_create(organization=organization_create(name="Bench Co", owner=user), name="Bench", actor=user)
    if load_rows:
        print(f"Loading {load_rows:,} calls …", flush=True)
        load_s = round(load(load_rows, project.pk), 1)
        (VAR / "loaded.json").write_text(json.dumps({"rows": load_rows, "load_s": load_s}))
    return user, project


class _Receiver(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()


def receiver() -> Any:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def make_budgets(project: Any, count: int, planted: int, now: datetime) -> tuple[list[Any], set[int]]:
    """`count` budgets with limits from current spend; returns them and the planted ones' ids."""
    from apps.spend.models import Budget
    from apps.spend.selectors.budgets import budget_spend

    rng = random.Random(7)
    periods = ("day", "week", "month")
    endpoints = ["classify-ticket", "faq-answer", "extract-invoice", "summarise-thread", "draft-email",
                 "generate-sql", "codegen", "complex-analysis"]  # fmt: skip
    models = ["gpt-4o-mini", "claude-haiku-4-5", "gpt-4.1-mini", "claude-sonnet-4-5", "gpt-4o", "gpt-4.1", "o3"]
    specs: list[tuple[str, str, str]] = []
    users = rng.sample(range(100_000), k=int(count * 0.6))
    specs += [("user", f"user-{u}", rng.choice(periods)) for u in users]
    specs += [("customer", f"cust-{rng.randrange(2000)}", rng.choice(periods)) for _ in range(int(count * 0.3))]
    specs += [("endpoint", rng.choice(endpoints), rng.choice(periods)) for _ in range(int(count * 0.05))]
    specs += [("model", rng.choice(models), rng.choice(periods)) for _ in range(int(count * 0.04))]
    specs += [("user", "*", "month"), ("customer", "*", "month")]
    specs += [("project", "", rng.choice(periods)) for _ in range(count - len(specs))]
    budgets = [
        Budget(project=project, name=f"b{i}", scope_kind=k, scope_value=v, period=p, limit_usd=Decimal("1000000"),
               thresholds=[50, 80, 100])
        for i, (k, v, p) in enumerate(specs)
    ]
    Budget.objects.bulk_create(budgets, batch_size=2000)
    budgets = list(Budget.objects.filter(project=project).order_by("pk"))
    spend = budget_spend(project_id=project.pk, budgets=budgets, now=now)
    # planted crossings are users' and customers': their calls barely move the endpoint, model and
    # project budgets (dollars against thousands), so no other budget crosses with them
    # and a planted scope has no other budget (a second budget on it would cross too, rightly)
    owners: dict[tuple[str, str], int] = {}
    for b in budgets:
        owners[(b.scope_kind, b.scope_value)] = owners.get((b.scope_kind, b.scope_value), 0) + 1
    named = [
        b for b in budgets
        if b.scope_value != "*" and b.scope_kind in ("user", "customer") and owners[(b.scope_kind, b.scope_value)] == 1
    ]  # fmt: skip
    candidates = [b for b in named if spend[b.pk].get(b.scope_value, 0) >= 50_000_000]  # ≥ 5 cents spent
    chosen = {b.pk for b in rng.sample(candidates, k=min(planted, len(candidates)))}
    for b in budgets:
        spent = sum(spend[b.pk].values()) / 1e9 if b.scope_value != "*" else 0.0
        if b.scope_value == "*":
            b.limit_usd = Decimal("100000")  # nobody gets near it: its alerts would be false
        elif b.pk in chosen:
            b.limit_usd = Decimal(str(round(spent / 0.45, 2)))  # at 45 %: the next calls cross 50 %
        else:
            b.limit_usd = Decimal(str(round(max(spent * 5, 0.01) + 1, 2)))  # ≤ 20 %
    Budget.objects.bulk_update(budgets, ["limit_usd"], batch_size=2000)
    return budgets, chosen


def crossing_calls(project_id: int, budgets: list[Any], chosen: set[int], now: datetime) -> int:
    """Calls that push each planted scope from 45 % to ~60 % of its limit (and noise elsewhere)."""
    from apps.warehouse import client as warehouse

    rows: list[list[Any]] = []
    for b in budgets:
        if b.pk not in chosen:
            continue
        nano = int(float(b.limit_usd) * 0.15 * 1e9)
        fields = {"endpoint": "classify-ticket", "model": "gpt-4o-mini", "user_id": "", "customer_id": ""}
        fields[f"{b.scope_kind}_id"] = b.scope_value
        rows.append([project_id, fields["endpoint"], now, uuid.uuid4(), "openai", fields["model"], "ok", nano,
                     fields["user_id"], fields["customer_id"]])  # fmt: skip
    for i in range(2000):  # ordinary traffic: a cent here and there
        rows.append([project_id, "faq-answer", now, uuid.uuid4(), "anthropic", "claude-haiku-4-5", "ok", 10_000,
                     f"user-{i * 37 % 100000}", ""])  # fmt: skip
    columns = ["project_id", "endpoint", "ts", "event_id", "provider", "model", "status", "cost_nano_usd",
               "user_id", "customer_id"]  # fmt: skip
    warehouse.system_insert("llm_calls", rows, columns, feature="bench.crossings")
    return len(rows)


def timed_tick(project_id: int, now: datetime) -> tuple[float, Any, int]:
    from apps.spend.services.deliver import channel_deliver
    from apps.spend.services.tick import spend_tick

    started = time.perf_counter()
    report = spend_tick(now=now, project_ids=[project_id])
    delivered = sum(channel_deliver(channel_id=c) for c in report.channels)
    return time.perf_counter() - started, report, delivered


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def pages(user: Any, project_id: int, repeat: int, one_user: str) -> dict[str, list[float]]:
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(user)
    urls = {}
    for kind in ("users", "customers", "conversations"):
        for preset in ("30d", "7d"):
            urls[f"{kind} {preset}"] = reverse(f"spend:{kind}", args=[project_id]) + f"?range={preset}"
    urls["one user 30d"] = reverse("spend:user", args=[project_id, one_user]) + "?range=30d"
    urls["one customer 30d"] = reverse("spend:customer", args=[project_id, "cust-42"]) + "?range=30d"
    urls["budgets"] = reverse("spend:home", args=[project_id])
    samples: dict[str, list[float]] = {}
    for name, url in urls.items():
        if name == "budgets":
            continue  # 10,000 progress rows: a page nobody reads whole; timed apart below
        client.get(url)  # warm
        samples[name] = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(url)
            samples[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--budgets", type=int, default=10_000)
    parser.add_argument("--planted", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="reuse an earlier load of the same size")
    args = parser.parse_args()
    marker = VAR / "loaded.json"
    reuse = args.keep and marker.exists() and json.loads(marker.read_text()).get("rows") == args.rows
    setup_django(fresh=not reuse)

    from django.core.management import call_command

    from apps.spend.models import Alert, AlertChannel, Budget
    from apps.warehouse import migrator
    from apps.warehouse.client import ProjectScope

    call_command("migrate", verbosity=0, interactive=False)
    migrator.migrate()
    user, project = bench_project(load_rows=0 if reuse else args.rows)
    Alert.objects.filter(project=project).delete()
    Budget.objects.filter(project=project).delete()
    AlertChannel.objects.filter(project=project).delete()
    hook = receiver()
    AlertChannel.objects.create(project=project, kind="webhook", target=f"http://127.0.0.1:{hook.server_address[1]}/",
                                secret="whsec_bench")  # noqa: S106 - a local receiver

    now = datetime.now(UTC)
    started = time.perf_counter()
    budgets, chosen = make_budgets(project, args.budgets, args.planted, now)
    print(f"{len(budgets):,} budgets, {len(chosen)} planted crossings (set up in {time.perf_counter() - started:.1f} s)")

    tick1, r1, _d1 = timed_tick(project.pk, now)
    print(f"tick 1: {tick1:.2f} s, {r1.budgets.scopes:,} scopes, opened {r1.budgets.opened}")
    inserted = crossing_calls(project.pk, budgets, chosen, now)
    tick2, r2, d2 = timed_tick(project.pk, now + timedelta(seconds=60))
    print(f"tick 2: {tick2:.2f} s, opened {r2.budgets.opened}, delivered {d2} notices (after {inserted:,} calls)")
    tick3, r3, d3 = timed_tick(project.pk, now + timedelta(seconds=120))
    print(f"tick 3: {tick3:.2f} s, opened {r3.budgets.opened}, delivered {d3}")

    alerted = {a["detail"]["budget_id"] for doc in hook.received for a in doc["alerts"]}  # type: ignore[attr-defined]
    by_tick2 = set(Alert.objects.filter(project=project, budget_id__in=chosen).values_list("budget_id", flat=True))
    recall = len(chosen & alerted & by_tick2) / len(chosen) if chosen else 1.0
    false_alarms = Alert.objects.filter(project=project).exclude(budget_id__in=chosen).count()

    baseline_sql = "SELECT count() FROM llm_calls_1h WHERE project_id = {project_id:UInt64}"
    scope = ProjectScope(project.pk)
    scope.query(baseline_sql, feature="bench.baseline")
    base_samples = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        scope.query(baseline_sql, feature="bench.baseline")
        base_samples.append((time.perf_counter() - t) * 1000)
    one_user = next(b.scope_value for b in budgets if b.scope_kind == "user" and b.scope_value != "*")
    samples = pages(user, project.pk, args.repeat, one_user)
    print(f"\n{'page':24} {'median ms':>10} {'max ms':>8}")
    for name, values in sorted(samples.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"{name:24} {statistics.median(values):10.1f} {max(values):8.1f}")
    users_customers = [v for k, vs in samples.items() if k.split()[0] in ("users", "customers", "one") for v in vs]
    every = [v for vs in samples.values() for v in vs]
    tick_s = max(tick1, tick2, tick3)
    result = {
        "budgets": len(budgets),
        "rows": args.rows,
        "users": 100_000,
        "tick_s": round(tick_s, 2),
        "tick_s_each": [round(tick1, 2), round(tick2, 2), round(tick3, 2)],
        "planted": len(chosen),
        "recall": round(recall, 3),
        "false_alarms": false_alarms,
        "delivered_by_next_tick": len(chosen & alerted) == len(chosen),
        "p95_page_ms": round(p95(users_customers), 1),
        "p95_page_ms_with_conversations": round(p95(every), 1),
        "baseline_query_ms": round(statistics.median(base_samples), 1),
        "goal_met": tick_s <= GOAL_TICK_S and recall == 1.0 and false_alarms == 0 and p95(users_customers) <= GOAL_PAGE_MS,
        "cores": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 1),
    }
    hook.shutdown()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
