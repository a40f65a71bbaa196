"""Load: a sustained ingest run against the server as `make demo` serves it, with exact counts.

First the benchmark's own measurement, in the same run on the same server: bench/ingest.py's load
(32 connections, batches of 500 events of ~1.5 KB, as fast as the server answers) for 10 s. Then a
paced run at 55 % of that rate for 60 s (RELIABILITY_LOAD_EPS and RELIABILITY_LOAD_SECONDS
override). Batches that get 503/429 are retried with the same event ids, as an SDK would. Every
event acknowledged in either phase must be stored exactly once.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import random
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.ingest import BATCH, event_templates
from bench.ingest import load as full_speed_load
from bench.served import served, stored_counts
from tests.reliability.conftest import Tally

RATE = int(os.environ.get("RELIABILITY_LOAD_EPS", "0"))  # 0: 55 % of the rate measured first
SECONDS = float(os.environ.get("RELIABILITY_LOAD_SECONDS", "60"))
SHARE = 0.55
CALIBRATION_SECONDS = 10.0


@pytest.mark.reliability("load")
def test_sustained_ingest_stores_every_acknowledged_event_once(tmp_path: Path, tally: Tally) -> None:
    templates = event_templates(200)
    acked = [0]
    sent_ids = [0]
    retries = [0]
    failures: list[str] = []
    lock = threading.Lock()

    with served(tmp_path / "var") as server:
        measured: queue.Queue[dict] = queue.Queue()
        full_speed_load(server.port, server.ingest_key, CALIBRATION_SECONDS, 32, measured)  # type: ignore[arg-type]
        calibration = measured.get()
        benchmark_eps = calibration["acked"] / calibration["wall"]
        rate = RATE or int(benchmark_eps * SHARE)
        senders = max(8, -(-rate // 1000))  # each sender sends one batch every >= 0.5 s
        interval = senders * BATCH / rate
        stop_at = time.monotonic() + SECONDS

        def sender(n: int) -> None:
            rng = random.Random(n)
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
            headers = {"Authorization": f"Bearer {server.ingest_key}", "Content-Type": "application/json"}
            next_at = time.monotonic() + n * interval / senders
            while next_at < stop_at:
                time.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
                ts = datetime.now(UTC).isoformat()
                parts = [
                    rng.choice(templates).replace("@ID@", str(uuid.uuid4()), 1).replace("@TS@", ts, 1)
                    for _ in range(BATCH)
                ]
                body = ('{"schema_version":1,"events":[' + ",".join(parts) + "]}").encode()
                for _attempt in range(20):
                    try:
                        conn.request("POST", "/v1/ingest", body=body, headers=headers)
                        response = conn.getresponse()
                        data = response.read()
                    except OSError:
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
                        with lock:
                            retries[0] += 1
                        continue
                    if response.status == 200:
                        result = json.loads(data)
                        with lock:
                            acked[0] += result["accepted"] + result["duplicates"]
                            sent_ids[0] += BATCH
                        break
                    if response.status in (429, 503):
                        with lock:
                            retries[0] += 1
                        time.sleep(float(response.getheader("Retry-After") or 1))
                        continue
                    with lock:
                        failures.append(f"{response.status}: {data[:200]!r}")
                    break

        threads = [threading.Thread(target=sender, args=(i,)) for i in range(senders)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - started

    total, distinct = stored_counts(server.env)
    expected = calibration["acked"] + acked[0]
    tally.attempts += calibration["acked"] + sent_ids[0]
    tally.lost += max(0, expected - distinct)
    tally.duplicated += total - distinct
    sustained = acked[0] / wall
    tally.notes.append(
        f"benchmark rate {benchmark_eps:,.0f} events/s ({CALIBRATION_SECONDS:.0f} s at full speed, 32 connections); "
        f"sustained {sustained:,.0f} events/s for {wall:.1f} s with {senders} senders "
        f"(target {rate:,}; {sustained / benchmark_eps:.2f} of the benchmark rate); "
        f"retries {retries[0]}; stored {total:,}, distinct {distinct:,}, acknowledged {expected:,}"
    )
    assert not failures, failures[:3]
    assert calibration["errors"] == 0
    assert acked[0] == sent_ids[0] > 0
    assert total == distinct == expected
