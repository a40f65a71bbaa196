"""Load: a sustained ingest run against the server as `make demo` serves it, with exact counts.

The rate defaults to 5,000 events/s (about half of what bench/ingest.py measures on this 2-core
machine) for 60 s; RELIABILITY_LOAD_EPS and RELIABILITY_LOAD_SECONDS override it. Batches that get
503/429 are retried with the same event ids, as an SDK would.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.ingest import BATCH, event_templates
from bench.served import served, stored_counts
from tests.reliability.conftest import Tally

ROOT = Path(__file__).resolve().parents[2]
RATE = int(os.environ.get("RELIABILITY_LOAD_EPS", "5000"))
SECONDS = float(os.environ.get("RELIABILITY_LOAD_SECONDS", "60"))
SENDERS = 8


@pytest.mark.reliability("load")
def test_sustained_ingest_stores_every_acknowledged_event_once(tmp_path: Path, tally: Tally) -> None:
    templates = event_templates(200)
    interval = SENDERS * BATCH / RATE  # each sender sends one batch per interval
    acked = [0]
    sent_ids = [0]
    retries = [0]
    failures: list[str] = []
    lock = threading.Lock()

    with served(tmp_path / "var") as server:
        stop_at = time.monotonic() + SECONDS

        def sender(n: int) -> None:
            rng = random.Random(n)
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
            headers = {"Authorization": f"Bearer {server.ingest_key}", "Content-Type": "application/json"}
            next_at = time.monotonic() + n * interval / SENDERS
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

        threads = [threading.Thread(target=sender, args=(i,)) for i in range(SENDERS)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - started

    total, distinct = stored_counts(server.env)
    tally.attempts += sent_ids[0]
    tally.lost += max(0, acked[0] - distinct)
    tally.duplicated += total - distinct
    print(
        f"\nload: {acked[0]:,} events acknowledged in {wall:.1f} s = {acked[0] / wall:,.0f} events/s "
        f"(target {RATE:,}); retries {retries[0]}; stored {total:,}, distinct {distinct:,}"
    )
    assert not failures, failures[:3]
    assert acked[0] == sent_ids[0] > 0
    assert total == distinct == acked[0]
