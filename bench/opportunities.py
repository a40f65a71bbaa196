"""The opportunity detectors at 10 million calls: do they find every planted waste, price it within
±10 %, find nothing on clean endpoints, and how long do they take?

1. Fresh embedded stores under var/bench-opportunities; migrate; the seed price catalogue.
2. The synthetic planted project of the tests (tests/opportunities/plants.py: seven days; prompt
   caching, batch tier, output waste, context growth and a superseded model, each planted at a
   known dollar value, and a clean endpoint) is stored through the real ingest path into a staging
   project (≈28k calls).
3. Its calls are copied server-side into the bench project as COPIES independent replicas until
   ROWS calls (`INSERT … SELECT … ARRAY JOIN range(…)`): each copy's endpoints are renamed
   `<endpoint>-<n>`, its event and conversation ids re-derived, payloads left out (the detectors
   read the prefix points ingest kept, never payloads). The materialized views fill the rollups.
4. Timed: one detection run over the bench project (apps.opportunities.services.detect_project),
   wall time and the time its queries spent in ClickHouse; baseline, same run: one plain pass over
   the same window (`SELECT sum(input_tokens) … FINAL`).
5. Every copy's findings against its plants: planted (plants × copies), found (of the right kind on
   the right endpoint), within_10pct, false_findings (on a clean endpoint, or a kind not planted).
6. The pages with all those findings open (the Opportunities page, a finding, the API), 7 times
   each, p95; and the overview savings card's opportunities total on its own (the overview itself,
   over 2,124 endpoints, is bench/dashboard.py's business).

Last line, JSON: {"rows", "copies", "planted", "found", "within_10pct", "false_findings", "detect_s",
"clickhouse_s", "baseline_scan_s", ...}.

    .venv/bin/python bench/opportunities.py [--rows 10000000] [--keep]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "bench-opportunities"
GOAL_DETECT_S, GOAL_PAGE_MS = 60.0, 400.0
COPIES_PER_INSERT = 30

COPY_SQL = """
INSERT INTO llm_calls
SELECT * REPLACE (
    {project_id:UInt64} AS project_id,
    concat(src.endpoint, '-', toString(copy)) AS endpoint,
    reinterpretAsUUID(concat(reinterpretAsString(cityHash64(src.event_id, copy, 1)),
                             reinterpretAsString(cityHash64(src.event_id, copy, 2)))) AS event_id,
    if(src.conversation_id = '', '', concat(src.conversation_id, '-', toString(copy))) AS conversation_id,
    '' AS request, '' AS response, 0 AS payload_captured
)
FROM (SELECT * FROM llm_calls WHERE project_id = {staging:UInt64}) AS src
ARRAY JOIN range({first:UInt32}, {last:UInt32}) AS copy
SETTINGS max_insert_threads = 2
"""
# SELECT * REPLACE keeps the table's own column order (`copy`, the ARRAY JOIN alias, is not in *);
# the replacements read the staging rows through `src.`, never their own aliases.


def setup_django(fresh: bool) -> None:
    if fresh and VAR.exists():
        shutil.rmtree(VAR)
    VAR.mkdir(parents=True, exist_ok=True)
    os.environ["VAR_DIR"] = str(VAR)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("CLICKHOUSE_QUERY_TIMEOUT_S", "900")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare(rows: int, keep: bool) -> tuple[Any, list[Any], int, datetime]:
    marker = VAR / "loaded.json"
    reuse = keep and marker.exists() and json.loads(marker.read_text()).get("rows") == rows
    setup_django(fresh=not reuse)

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from apps.accounts.models import Project
    from apps.accounts.services import api_key_create, organization_create, project_create
    from apps.demo.traffic import ingest_principal
    from apps.ingest.services import store_events
    from apps.pricing.catalogue import seed_prices_load
    from apps.warehouse import client as warehouse
    from apps.warehouse import migrator
    from tests.opportunities.plants import batches, planted_project

    call_command("migrate", verbosity=0, interactive=False)
    migrator.migrate()
    seed_prices_load()
    if reuse:
        saved = json.loads(marker.read_text())
        now = datetime.fromisoformat(saved["now"])
        _, plants = planted_project(now)
        return Project.objects.get(slug="bench"), plants, saved["copies"], now
    user, _ = get_user_model().objects.get_or_create(
        username="bench@switchyard.local", email="bench@switchyard.local"
    )
    org = organization_create(name="Bench Co", owner=user)
    staging = project_create(organization=org, name="Plants", actor=user)
    project = project_create(organization=org, name="Bench", actor=user)
    api_key_create(project=staging, kind="ingest", actor=None)
    now = datetime.now(UTC).replace(microsecond=0)
    events, plants = planted_project(now)
    started = time.perf_counter()
    principal = ingest_principal(staging)
    for batch in batches(events):
        store_events(principal=principal, raws=batch)
    print(
        f"Stored {len(events):,} planted calls through ingest in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    copies = math.ceil(rows / len(events))
    started = time.perf_counter()
    for first in range(0, copies, COPIES_PER_INSERT):
        last = min(copies, first + COPIES_PER_INSERT)
        params = {"project_id": project.pk, "staging": staging.pk, "first": first, "last": last}
        warehouse.system_command(COPY_SQL, params, feature="bench.load")
        print(f"  copies {last:,} / {copies:,}", flush=True)
    print(f"Copied {copies} × {len(events):,} calls in {time.perf_counter() - started:.0f} s", flush=True)
    marker.write_text(json.dumps({"rows": rows, "copies": copies, "now": now.isoformat()}))
    return project, plants, copies, now


def baseline_scan(project_id: int, now: datetime) -> float:
    from datetime import timedelta

    from apps.warehouse.client import ProjectScope

    sql = """SELECT sum(input_tokens) FROM llm_calls FINAL
             WHERE project_id = {project_id:UInt64} AND ts >= {since:DateTime64(3, 'UTC')}
               AND ts < {until:DateTime64(3, 'UTC')}"""
    started = time.perf_counter()
    ProjectScope(project_id).query(
        sql, {"since": now - timedelta(days=7), "until": now}, feature="bench.baseline"
    )
    return time.perf_counter() - started


def score(project: Any, plants: list[Any], copies: int) -> dict[str, Any]:
    from apps.opportunities.models import Opportunity

    by_plant = {p.endpoint: p for p in plants}
    errors: dict[str, list[float]] = defaultdict(list)
    found = within = false = 0
    for o in Opportunity.objects.filter(project=project):
        plant = by_plant.get(o.endpoint.rsplit("-", 1)[0])
        if plant is None or plant.kind != o.kind:
            false += 1
            continue
        found += 1
        error = (o.monthly_nano / 1e9 - plant.monthly_usd) / plant.monthly_usd
        errors[plant.endpoint].append(error)
        within += abs(error) <= 0.10
    planted = [p for p in plants if p.kind]
    print(f"\n{'plant':16} {'kind':8} {'planted $/mo':>13} {'found':>9} {'median error':>13} {'worst':>7}")
    for p in planted:
        e = errors[p.endpoint]
        worst = max(e, key=abs) if e else float("nan")
        median = statistics.median(e) if e else float("nan")
        print(
            f"{p.endpoint:16} {p.kind:8} {p.monthly_usd:13.2f} {len(e):>4} / {copies:<4} {median:+12.1%} {worst:+7.1%}"
        )
    print(f"{'clean-faq':16} {'(clean)':8} {'':13} {false:>4} false findings")
    return {"planted": len(planted) * copies, "found": found, "within_10pct": within, "false_findings": false}


def time_pages(project: Any, now: datetime, repeat: int = 7) -> dict[str, float]:
    """p95 (nearest rank) of each page with all these findings, Django's test client, logged in."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from apps.opportunities.models import Opportunity
    from apps.opportunities.selectors import opportunity_totals

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench@switchyard.local"))
    finding = Opportunity.objects.filter(project=project).order_by("-monthly_nano").first()
    home = reverse("opportunities:home", args=[project.pk])
    paths = {
        "opportunities": home,
        "opportunities (all)": home + "?status=all",
        "api": f"/v1/opportunities?project={project.pk}",
    }
    if finding is not None:
        paths["finding"] = reverse("opportunities:detail", args=[project.pk, finding.pk])
    out = {}
    for name, path in paths.items():
        client.get(path)  # warm
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(path)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        out[name] = sorted(samples)[max(0, math.ceil(0.95 * len(samples)) - 1)]
    print("  pages p95: " + ", ".join(f"{k} {v:.0f} ms" for k, v in out.items()))
    started = time.perf_counter()
    opportunity_totals(project_id=project.pk)
    print(
        f"  the overview savings card's opportunities total: {(time.perf_counter() - started) * 1000:.0f} ms"
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--keep", action="store_true", help="reuse an earlier load of the same size")
    args = parser.parse_args()
    project, plants, copies, now = prepare(args.rows, args.keep)

    from apps.opportunities.models import Opportunity
    from apps.opportunities.services import detect_project

    Opportunity.objects.filter(project=project).delete()
    timings: dict[str, float] = {}

    class _Timings(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            timings.update(getattr(record, "clickhouse_s", {}))

    log = logging.getLogger("apps.opportunities.services")
    log.addHandler(_Timings())
    log.setLevel(logging.INFO)
    baseline = baseline_scan(project.pk, now)
    started = time.perf_counter()
    run = detect_project(project=project, now=now, trigger="bench")
    detect_s = time.perf_counter() - started
    print(f"\nDetection over {run.calls:,} calls on {run.endpoints:,} endpoints: {detect_s:.1f} s "
          f"({run.clickhouse_ms / 1000:.1f} s in ClickHouse); a plain pass over the window: {baseline:.1f} s")  # fmt: skip
    pages = time_pages(project, now)
    print(
        "  ClickHouse by query: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(timings.items(), key=lambda kv: -kv[1]))
    )
    result = {"rows": run.calls, "copies": copies} | score(project, plants, copies)
    result |= {
        "detect_s": round(detect_s, 1),
        "clickhouse_s": round(run.clickhouse_ms / 1000, 1),
        "baseline_scan_s": round(baseline, 2),
        "detect_vs_baseline": round(detect_s / baseline, 1) if baseline else None,
        "p95_page_ms": round(max(pages.values()), 1),
        "goal_met": run.clickhouse_ms / 1000 <= GOAL_DETECT_S and max(pages.values()) <= GOAL_PAGE_MS,
        "cores": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
