"""Faults: ClickHouse failing mid-stream under the real SDK; Redis restarted under a real worker."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from apps.warehouse import client as warehouse
from tests.celery_worker import celery_worker, redis_server
from tests.ingest.events import raw_row_count, rollup_calls
from tests.reliability.conftest import Tally
from tests.tenancy import Tenant


@pytest.mark.reliability("faults")
@pytest.mark.django_db(transaction=True)
def test_clickhouse_outage_mid_stream_loses_and_duplicates_nothing(
    live_server,
    tenant: Tenant,
    tmp_path: Path,
    tally: Tally,  # type: ignore[no-untyped-def]
) -> None:
    import switchyard

    client = switchyard.init(
        api_key=tenant.ingest_key,
        host=live_server.url,
        spool_dir=tmp_path / "spool",
        enable_routing=False,
        flush_at=50,
        flush_interval=0.1,
        max_retries=50,
        request_timeout=10,
    )
    sent: list[str] = []
    try:

        def burst(n: int) -> None:
            for _ in range(n):
                with switchyard.track(provider="openai", model="gpt-4o-mini", endpoint="reliability") as call:
                    call.set_usage(input_tokens=100, output_tokens=20)
                    sent.append(call.event_id)

        burst(300)
        assert client.flush(30)
        warehouse.system_command("RENAME TABLE llm_calls TO llm_calls_down", feature="test")
        try:
            burst(300)  # the server answers 503; the SDK retries and spools
            time.sleep(1.5)
        finally:
            warehouse.system_command("RENAME TABLE llm_calls_down TO llm_calls", feature="test")
        burst(300)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and raw_row_count(tenant.project.pk) < len(sent):
            client.flush(5)
            time.sleep(0.5)
        stats = client.stats()
    finally:
        switchyard.shutdown(5)
    stored = raw_row_count(tenant.project.pk)
    distinct = len(set(sent))
    tally.attempts += len(sent)
    tally.lost += max(0, distinct - stored)
    tally.duplicated += max(0, stored - distinct)
    assert stored == distinct == 900, (stored, distinct, stats)
    assert rollup_calls(tenant.project.pk) == (900, 900)


@pytest.mark.reliability("faults")
def test_jobs_continue_after_redis_restarts(tmp_path: Path, tally: Tally) -> None:
    """A real Celery worker on its own Redis: Redis is killed and restarted between tasks."""
    from apps.core.tasks import ping

    with redis_server(tmp_path) as redis, celery_worker(redis.url()) as (client, queue):
        for round_ in range(3):
            result = client.send_task(ping.name, args=[f"round-{round_}"], queue=queue)
            tally.attempts += 1
            # Poll the stored result: a pub/sub subscription of the *test's* client may be cut
            # by the restart; the worker, not the client, is what is under test.
            deadline = time.monotonic() + 90
            while result.state != "SUCCESS" and time.monotonic() < deadline:
                time.sleep(0.2)
            assert result.state == "SUCCESS" and result.result["value"] == f"round-{round_}"
            redis.kill()
            redis.start()
