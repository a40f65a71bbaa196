"""How fast are the dashboard's queries and pages at 10 million calls?

1. Fresh embedded stores under var/bench-dashboard (VAR_DIR is set before django.setup());
   migrate; a user, an organisation and a project.
2. Load ROWS synthetic calls over the last 30 days into llm_calls, generated server-side
   (`INSERT INTO llm_calls SELECT … FROM numbers(…)`, bench/dashboard_load.sql, through
   apps.warehouse.client.system_command), 1 % of them recomputed as revision 1; the
   materialized views fill the rollups. Outside the timing.
3. Run the opportunity detectors once (so the Opportunities page has its findings; not timed with
   the pages). Time every dashboard query (the selectors the pages call, for 24 h, 7 d and 30 d)
   and every page render server-side (Django's test Client, logged in; the overview's savings
   card and the Opportunities page included), REPEAT times each, next to a baseline measured in
   the same run: `SELECT count() FROM llm_calls_1h WHERE project_id = …`.

p95 is over all timed samples. A CSV export chunk is bulk work, reported as calls/s apart from the
interactive queries. Last line, JSON:
{"rows", "p95_query_ms", "p95_page_ms", "slowest", "baseline_query_ms", "export_calls_per_s", ...}.

    .venv/bin/python bench/dashboard.py [--rows 10000000] [--repeat 5] [--keep]

--keep reuses an earlier load of the same size (skips step 2).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "bench-dashboard"
CHUNK = 1_000_000
GOAL_QUERY_MS, GOAL_PAGE_MS = 150, 400


def setup_django(fresh: bool) -> None:
    if fresh and VAR.exists():
        shutil.rmtree(VAR)
    VAR.mkdir(parents=True, exist_ok=True)
    os.environ["VAR_DIR"] = str(VAR)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("CLICKHOUSE_QUERY_TIMEOUT_S", "600")  # the bulk load, on a busy machine
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def load(rows: int, project_id: int) -> float:
    from apps.warehouse import client as warehouse

    sql = (ROOT / "bench" / "dashboard_load.sql").read_text()
    now_ms = int(time.time() * 1000)
    started = time.perf_counter()
    for revision in (0, 1):
        for first in range(0, rows, CHUNK):
            params = {
                "project_id": project_id,
                "rows": rows,
                "first": first,
                "count": min(CHUNK, rows - first),
                "now_ms": now_ms,
                "salt": project_id,
                "revision": revision,
            }
            warehouse.system_command(sql, params, feature="bench.load")
            print(f"  loaded revision {revision}: {first + params['count']:,} / {rows:,}", flush=True)
    return time.perf_counter() - started


def prepare(rows: int, keep: bool) -> tuple[Any, Any, int]:
    marker = VAR / "loaded.json"
    reuse = keep and marker.exists() and json.loads(marker.read_text()).get("rows") == rows
    setup_django(fresh=not reuse)

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from apps.accounts.models import Project
    from apps.accounts.services import organization_create, project_create
    from apps.pricing.catalogue import SEED_FILE, prices_import_file
    from apps.warehouse import client as warehouse
    from apps.warehouse import migrator

    call_command("migrate", verbosity=0, interactive=False)
    migrator.migrate()
    # The catalogue the opportunity detectors price by (idempotent). The load's costs are already
    # stored: no recompute, which would rewrite history while the pages are timed.
    prices_import_file(SEED_FILE, recompute=False)
    user, _ = get_user_model().objects.get_or_create(
        username="bench@switchyard.local", email="bench@switchyard.local"
    )
    project = Project.objects.filter(slug="bench").first()
    if project is None:
        org = organization_create(name="Bench Co", owner=user)
        project = project_create(organization=org, name="Bench", actor=user)
        neighbour = project_create(organization=org, name="Neighbour", actor=user)
    else:
        neighbour = Project.objects.get(slug="neighbour")
    if not reuse:
        print(f"Loading {rows:,} calls (and {rows // 10:,} for a neighbouring project) …", flush=True)
        seconds = load(rows, project.pk) + load(rows // 10, neighbour.pk)
        marker.write_text(json.dumps({"rows": rows, "project": project.pk, "load_s": round(seconds, 1)}))
        print(f"  done in {seconds:.0f} s", flush=True)
    parts = warehouse.system_query(
        "SELECT table, count() FROM system.parts WHERE active AND database = currentDatabase() GROUP BY table",
        feature="bench",
    ).rows
    print(f"Active parts: {dict(parts)}")
    return user, project, rows


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    fn()  # warm: first use of a query plan, template compilation
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank


def query_cases(project_id: int) -> dict[str, Callable[[], Any]]:
    from apps.dashboard import selectors as s
    from apps.dashboard.calls import call_get, calls_page, export_csv_chunks
    from apps.dashboard.distributions import distributions
    from apps.dashboard.filters import parse_call_filters, parse_range
    from apps.warehouse.client import ProjectScope

    now = datetime.now(UTC)
    cases: dict[str, Callable[[], Any]] = {}
    dims = s.dimensions(project_id=project_id)
    endpoints, models = s.endpoint_names(dims), s.model_names(dims)
    cases["dimensions"] = lambda: s.dimensions(project_id=project_id)
    for preset in ("24h", "7d", "30d"):
        rng = parse_range({"range": preset}, now=now)
        whole = s.Scope(project_id, rng)
        one = s.Scope(project_id, rng, endpoint="classify-ticket")
        per_bucket = s.current(s.series(one)).groupby("t")["calls"].sum()
        filters = parse_call_filters({"range": preset}, now=now, endpoints=endpoints, models=models)
        by_endpoint = parse_call_filters(
            {"range": preset, "endpoint": "faq-answer", "status": "error"},
            now=now,
            endpoints=endpoints,
            models=models,
        )
        second = filters.with_cursor(calls_page(project_id=project_id, filters=filters).next_cursor)
        cases |= {
            f"totals {preset}": lambda sc=whole: s.totals(sc),
            f"series {preset}": lambda sc=whole: s.series(sc),
            f"endpoint totals+latency {preset}": lambda sc=one: s.totals_and_latency(sc),
            f"endpoint series {preset}": lambda sc=one: s.series(sc),
            f"model totals {preset}": lambda r=rng: s.totals(
                s.Scope(project_id, r, provider="openai", model="gpt-4o")
            ),
            f"distributions {preset}": lambda r=rng, b=per_bucket: distributions(
                project_id=project_id, rng=r, endpoint="classify-ticket", calls_per_bucket=b
            ),
            f"calls page {preset}": lambda f=filters: calls_page(project_id=project_id, filters=f),
            f"calls page 2 {preset}": lambda f=second: calls_page(project_id=project_id, filters=f),
            f"calls endpoint+status {preset}": lambda f=by_endpoint: calls_page(
                project_id=project_id, filters=f
            ),
            f"export chunk {preset}": lambda f=filters: next(
                c for i, c in enumerate(export_csv_chunks(project_id=project_id, filters=f)) if i == 1
            ),
        }
    rng = parse_range({"range": "30d"}, now=now)
    cases["forecast"] = lambda: s.month_forecast(project_id=project_id, tz=rng.tz, now=now)
    some_call = calls_page(
        project_id=project_id, filters=parse_call_filters({}, now=now, endpoints=[], models=[])
    )
    event_id = some_call.rows[-1].event_id
    cases["call detail"] = lambda: call_get(project_id=project_id, event_id=event_id)
    baseline_sql = "SELECT count() FROM llm_calls_1h WHERE project_id = {project_id:UInt64}"
    cases["baseline"] = lambda: ProjectScope(project_id).query(baseline_sql, feature="bench.baseline")
    return cases


def page_cases(project_id: int, event_id: uuid.UUID) -> dict[str, str]:
    from django.urls import reverse

    def url(name: str, *args: Any) -> str:
        return reverse(f"dashboard:{name}", args=[project_id, *args])

    pages = {}
    for preset in ("24h", "7d", "30d"):
        pages[f"overview {preset}"] = url("overview") + f"?range={preset}"
        pages[f"endpoint {preset}"] = url("endpoint", "classify-ticket") + f"?range={preset}"
    pages |= {
        "opportunities": reverse("opportunities:home", args=[project_id]),
        "models 7d": url("models") + "?range=7d",
        "model 7d": url("model", "openai", "gpt-4o") + "?range=7d",
        "calls 7d": url("calls") + "?range=7d",
        "calls filtered 30d": url("calls") + "?range=30d&endpoint=faq-answer&status=error",
        "call detail": url("call", event_id),
    }
    return pages


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="reuse an earlier load of the same size")
    args = parser.parse_args()
    user, project, rows = prepare(args.rows, args.keep)

    from django.test import Client

    from apps.dashboard.calls import EXPORT_CHUNK, calls_page
    from apps.dashboard.filters import parse_call_filters
    from apps.opportunities.services import detect_project

    started = time.perf_counter()
    run = detect_project(project=project, trigger="bench")  # the Opportunities page's findings
    print(f"Opportunity detectors: {run.found} findings over {run.calls:,} calls in "
          f"{time.perf_counter() - started:.1f} s (outside the page timings)", flush=True)  # fmt: skip
    query_samples: dict[str, list[float]] = {}
    for name, fn in query_cases(project.pk).items():
        query_samples[name] = timed(fn, args.repeat)
    client = Client()
    client.force_login(user)
    now = datetime.now(UTC)
    event_id = (
        calls_page(project_id=project.pk, filters=parse_call_filters({}, now=now, endpoints=[], models=[]))
        .rows[0]
        .event_id
    )
    page_samples: dict[str, list[float]] = {}
    for name, path in page_cases(project.pk, event_id).items():

        def get(path: str = path) -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code, response.content[:500])

        page_samples[name] = timed(get, args.repeat)

    baseline = statistics.median(query_samples.pop("baseline"))
    print(f"\n{'query':34} {'median ms':>10} {'max ms':>8}")
    for name, samples in sorted(query_samples.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"{name:34} {statistics.median(samples):10.1f} {max(samples):8.1f}")
    print(f"{'(baseline count() on llm_calls_1h)':34} {baseline:10.1f}")
    print(f"\n{'page':34} {'median ms':>10} {'max ms':>8}")
    for name, samples in sorted(page_samples.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"{name:34} {statistics.median(samples):10.1f} {max(samples):8.1f}")

    # An export chunk (5,000 calls read, formatted and handed to the response) is bulk work, not a
    # page's query: it is reported as a rate, outside the interactive p95.
    export = {k: query_samples.pop(k) for k in [k for k in query_samples if k.startswith("export chunk")]}
    export_ms = statistics.median([v for samples in export.values() for v in samples])
    all_queries = [v for samples in query_samples.values() for v in samples]
    all_pages = [v for samples in page_samples.values() for v in samples]
    slowest_query = max(query_samples, key=lambda k: statistics.median(query_samples[k]))
    slowest_page = max(page_samples, key=lambda k: statistics.median(page_samples[k]))
    result = {
        "rows": rows,
        "p95_query_ms": round(p95(all_queries), 1),
        "p95_page_ms": round(p95(all_pages), 1),
        "slowest": f"query {slowest_query} ({statistics.median(query_samples[slowest_query]):.0f} ms); "
        f"page {slowest_page} ({statistics.median(page_samples[slowest_page]):.0f} ms)",
        "baseline_query_ms": round(baseline, 1),
        "export_calls_per_s": round(EXPORT_CHUNK / export_ms * 1000),
        "p95_query_vs_baseline": round(p95(all_queries) / baseline, 1) if baseline else None,
        "goal_met": p95(all_queries) <= GOAL_QUERY_MS and p95(all_pages) <= GOAL_PAGE_MS,
        "cores": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 1),  # a shared machine: other work slows every number
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
