"""How fast does a replay job go, and what does it cost in CPU per sample?

2,000 sampled calls replayed on one candidate against a local fake provider (its own process)
that answers every request after 100 ms, with the connection's concurrency at 32. The job runs
the real path: the in-process worker picks it up, the engine's event loop sends the requests,
the ledger reserves and settles each sample in SQLite, results go to embedded ClickHouse, the
summary is computed. The ideal wall time is samples × 0.1 s / 32; efficiency = ideal / wall.
CPU is this process's CPU time (the fake provider's is not counted) per sample.

For comparison, a baseline sends the same 2,000 requests to the same fake with a bare asyncio
client at the same concurrency (no ledger, no evaluation, no storage): the transport's floor.

    .venv/bin/python bench/replay.py [--samples 2000] [--concurrency 32] [--delay 0.1]

Fresh embedded stores under var/bench-replay. The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "bench-replay"


def _setup() -> None:
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    os.environ.update(
        {"VAR_DIR": str(VAR), "DJANGO_SETTINGS_MODULE": "config.settings.local", "DEBUG": "false"}
    )
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    call_command("migrate_clickhouse", verbosity=0)


def _fake(delay: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.replay.fakes", "--wire", "openai", "--delay", str(delay)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


async def _baseline(base_url: str, samples: int, concurrency: int) -> float:
    from apps.replay.providers.http import HttpPool

    pool = HttpPool(base_url, max_idle=concurrency)
    gate = asyncio.Semaphore(concurrency)
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}).encode()

    async def one() -> None:
        async with gate:
            response = await pool.post("/chat/completions", body, {}, timeout=30)
            json.loads(response.body)

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(samples)))
    await pool.aclose()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--delay", type=float, default=0.1)
    args = parser.parse_args()
    _setup()
    import logging

    logging.getLogger("apps.replay").setLevel(logging.INFO)  # the runner's per-phase timing line

    from django.test import Client

    from apps.accounts.models import Organization
    from apps.accounts.services import api_key_create, project_create
    from apps.core import background
    from apps.pricing.catalogue import seed_prices_load
    from apps.pricing.selectors import price_book_invalidate
    from apps.replay.models import ReplayJob
    from apps.replay.services.connections import connection_save
    from apps.replay.services.jobs import replay_job_create_from_plan
    from apps.replay.services.planning import CandidateSpec, ReplaySpec, replay_plan

    seed_prices_load()
    price_book_invalidate()
    organization = Organization.objects.create(name="Bench", slug="bench")
    project = project_create(organization=organization, name="Bench", actor=None)
    _, ingest_key = api_key_create(project=project, kind="ingest", actor=None)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {ingest_key}")
    now = datetime.now(UTC)
    labels = ("refund", "exchange", "shipping", "other")
    for start in range(0, args.samples, 500):
        events = []
        for i in range(start, min(args.samples, start + 500)):
            prompt = f"Ticket {i}: the customer writes about order #{10_000 + i} and asks what to do next."
            events.append(
                {
                    "event_id": f"00000000-0000-4000-8000-{i:012d}",
                    "ts": (now - timedelta(minutes=1 + i)).isoformat().replace("+00:00", "Z"),
                    "endpoint": "bench",
                    "provider": "openai",
                    "model": "gpt-4o",
                    "input_tokens": 30,
                    "output_tokens": 2,
                    "latency_ms": 700,
                    "status": "ok",
                    "user_id": f"u{i % 97}",
                    "request": {
                        "model": "gpt-4o",
                        "messages": [{"role": "user", "content": prompt}],
                        "max_tokens": 16,
                    },
                    "response": {"content": labels[i % 4]},
                }
            )
        response = client.post(
            "/v1/ingest",
            data=json.dumps({"schema_version": 1, "events": events}),
            content_type="application/json",
        )
        assert response.status_code == 200 and response.json()["accepted"] == len(events), response.content

    fake, base_url = _fake(args.delay)
    try:
        baseline_wall = asyncio.run(_baseline(base_url, args.samples, args.concurrency))
        connection_save(
            organization=organization,
            actor=None,
            provider="openai",
            api="openai",
            base_url=base_url,
            api_key="sk-bench-0000",
            max_concurrency=args.concurrency,
            requests_per_minute=1_000_000,
        )
        spec = ReplaySpec(
            endpoint="bench",
            candidates=(CandidateSpec("openai", "gpt-4o-mini"),),
            evaluator="exact",
            sample_size=args.samples,
            spend_cap_nano=10**9,
        )
        plan = replay_plan(project=project, spec=spec)
        spec = ReplaySpec(**{**spec.__dict__, "spend_cap_nano": plan.worst_total_nano})
        plan.spec = spec
        cpu0, wall0 = time.process_time(), time.perf_counter()
        job = replay_job_create_from_plan(
            plan=plan, project=project, actor=None
        )  # the in-process worker runs it
        assert background.drain(timeout=600)
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
    finally:
        fake.terminate()
        fake.wait(10)
    job = ReplayJob.objects.get(pk=job.pk)
    assert job.run_started_at is not None and job.finished_at is not None
    print(
        f"phases: queued → claimed {(job.run_started_at - job.created_at).total_seconds():.2f} s, "
        f"claimed → finished {(job.finished_at - job.run_started_at).total_seconds():.2f} s"
    )
    charged = sum(job.items.values_list("charged_nano", flat=True))
    respected = job.spent_nano <= job.spend_cap_nano and charged == job.spent_nano and job.reserved_nano == 0
    ideal = args.samples * args.delay / args.concurrency
    print(
        f"job #{job.pk}: {job.status}, {job.done_items} answered, {job.error_items} failed, spent ${job.spent_nano / 1e9:.4f} of ${job.spend_cap_nano / 1e9:.4f}"
    )
    print(
        f"baseline (bare asyncio client, same fake and concurrency): {baseline_wall:.2f} s, efficiency {ideal / baseline_wall:.3f}"
    )
    print(f"replay: {wall:.2f} s wall, {cpu:.2f} s CPU; {wall / baseline_wall:.2f}× the baseline's wall time")
    print(
        json.dumps(
            {
                "samples": job.done_items,
                "wall_s": round(wall, 3),
                "ideal_wall_s": round(ideal, 3),
                "efficiency": round(ideal / wall, 3),
                "cpu_ms_per_sample": round(cpu * 1000 / max(1, job.done_items), 3),
                "spend_cap_respected": respected,
            }
        )
    )


if __name__ == "__main__":
    main()
