"""The unit-economics pages at 10 M calls and 100,000 users (issue 18's goal: p95 ≤ 400 ms).

1. The same embedded stores and synthetic calls as bench/alerts.py (var/bench-alerts, reused when
   already loaded at this size): ROWS calls over the last 30 days for one project, 100,000 users in
   2,000 customers, conversations of four calls (2.5 M at 10 M calls), eight endpoints. Migrations
   run first, so an older load is upgraded here and the backfill of migration 0008 is timed.
2. Each page — per user, per customer and per conversation at 30 and 7 days, one user's and one
   customer's page — REPEAT times with Django's test client, logged in, after one warm-up: p95 and
   median per page.
3. Baseline, in the same run: what those list pages asked ClickHouse before migration 0008
   (bench/economics_baseline.sql: summary, top list and daily actives, three passes over the
   per-key, endpoint and day rollup), timed REPEAT times per list page, and once per kind the same
   question asked of raw calls (`llm_calls FINAL`, 30 days).
Before timing, the rollups' parts are merged (OPTIMIZE … FINAL), as background merges would have
done: an embedded ClickHouse merges only while a process has it open.

Last line, JSON: {"rows", "users", "p95_ms": {page: ms}, "baseline_p95_ms": {page: ms}, "ratio":
{page: baseline / new}, "raw_ms": {kind: ms}, "goal_met", ...}.

    .venv/bin/python bench/economics.py [--rows 10000000] [--repeat 20] [--fresh]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.alerts import GOAL_PAGE_MS, VAR, bench_project, p95, setup_django  # noqa: E402

KINDS = {"users": "user", "customers": "customer", "conversations": "conversation"}
ROLLUPS = ("llm_spend_keys_1d", "llm_spend_key_days", "llm_spend_key_names", "llm_spend_kind_days",
           "llm_spend_key_endpoint_days")  # fmt: skip


def baseline_sql() -> dict[str, str]:
    text = (ROOT / "bench" / "economics_baseline.sql").read_text()
    out = {}
    for chunk in text.split("-- name: ")[1:]:
        name, _, body = chunk.partition("\n")
        out[name.strip()] = body.strip().rstrip(";")
    return out


def timed(call: Any, repeat: int) -> list[float]:
    call()  # warm
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--fresh", action="store_true", help="load the calls again even if loaded")
    args = parser.parse_args()
    marker = VAR / "loaded.json"
    reuse = not args.fresh and marker.exists() and json.loads(marker.read_text()).get("rows") == args.rows
    setup_django(fresh=not reuse)

    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from apps.warehouse import client as warehouse
    from apps.warehouse import migrator
    from apps.warehouse.client import ProjectScope

    call_command("migrate", verbosity=0, interactive=False)
    started = time.perf_counter()
    applied = migrator.migrate()
    migrate_s = time.perf_counter() - started
    print(f"ClickHouse migrations applied: {applied or 'none'} ({migrate_s:.1f} s)", flush=True)
    user, project = bench_project(load_rows=0 if reuse else args.rows)

    # Settle the rollups' parts, as background merges do within minutes of a load (an embedded
    # ClickHouse merges only while a process has it open): the new tables and the baseline's alike.
    started = time.perf_counter()
    for table in ROLLUPS:
        warehouse.system_command(f"OPTIMIZE TABLE {table} FINAL", feature="bench.optimize")
    print(f"Rollups merged in {time.perf_counter() - started:.1f} s", flush=True)

    client = Client()
    client.force_login(user)
    urls: dict[str, str] = {}
    for name in KINDS:
        for preset in ("30d", "7d"):
            urls[f"{name} {preset}"] = reverse(f"spend:{name}", args=[project.pk]) + f"?range={preset}"
    urls["one user 30d"] = reverse("spend:user", args=[project.pk, "user-4242"]) + "?range=30d"
    urls["one customer 30d"] = reverse("spend:customer", args=[project.pk, "cust-42"]) + "?range=30d"

    def get(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    pages = {name: timed(lambda url=url: get(url), args.repeat) for name, url in urls.items()}  # type: ignore[misc]

    scope, sql = ProjectScope(project.pk), baseline_sql()
    today = datetime.now(UTC).date()
    end = today + timedelta(days=1)

    def old_page(kind: str, days: int) -> None:
        params = {"kind": kind, "start": end - timedelta(days=days), "end": end}
        for name in ("summary", "top", "daily"):
            scope.query(sql[name], params, feature="bench.baseline")

    baseline = {
        f"{name} {preset}": timed(lambda k=kind, d=int(preset[:-1]): old_page(k, d), args.repeat)  # type: ignore[misc]
        for name, kind in KINDS.items()
        for preset in ("30d", "7d")
    }
    raw = {
        kind: statistics.median(
            timed(
                lambda k=kind: scope.query(  # type: ignore[misc]
                    sql["raw"], {"kind": k, "start": end - timedelta(days=30), "end": end}, feature="bench.raw"
                ),
                2,
            )
        )
        for kind in KINDS.values()
    }

    print(f"\n{'page':22} {'p95 ms':>8} {'median':>8} {'before p95':>11} {'ratio':>6}")
    for name, values in pages.items():
        before = baseline.get(name)
        ratio = f"{p95(before) / p95(values):6.1f}" if before else ""
        print(f"{name:22} {p95(values):8.1f} {statistics.median(values):8.1f} "
              f"{(f'{p95(before):11.1f}' if before else ''):>11} {ratio:>6}")  # fmt: skip
    print("raw llm_calls FINAL, 30 days, ms: " + ", ".join(f"{k} {v:.0f}" for k, v in raw.items()))
    result = {
        "rows": args.rows,
        "users": 100_000,
        "customers": 2_000,
        "repeat": args.repeat,
        "migrate_s": round(migrate_s, 1) if applied else None,
        "p95_ms": {name: round(p95(v), 1) for name, v in pages.items()},
        "median_ms": {name: round(statistics.median(v), 1) for name, v in pages.items()},
        "baseline_p95_ms": {name: round(p95(v), 1) for name, v in baseline.items()},
        "ratio": {name: round(p95(v) / p95(pages[name]), 1) for name, v in baseline.items()},
        "raw_ms": {k: round(v, 1) for k, v in raw.items()},
        "p95_page_ms": round(max(p95(v) for v in pages.values()), 1),
        "goal_met": all(p95(v) <= GOAL_PAGE_MS for v in pages.values()),
        "cores": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
