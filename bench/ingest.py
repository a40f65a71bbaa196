"""Ingest throughput, end to end, against the server as `make demo` runs it.

1. Fresh embedded stores under var/bench-ingest; migrate; create a project and an ingest key.
2. Start `manage.py serve` (gunicorn, one process, embedded ClickHouse) as a subprocess.
3. From a separate load process, POST batches of 500 realistic events (~1.5 KB each: messages and
   completion) over keep-alive loopback HTTP for DURATION seconds; record acknowledged events and
   request latencies.
4. Stop the server; count what was stored (and distinct event ids) straight from ClickHouse.
5. Baseline, same run: bulk-insert the same kind of rows into a fresh table in the same ClickHouse,
   5,000 rows per insert.

Last line, JSON: {"events_per_s", "bulk_insert_events_per_s", "ratio", "p99_ms", "lost", "duplicated"}.
Usage: python bench/ingest.py [--duration 20] [--connections 6]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.served import served  # noqa: E402

VAR = ROOT / "var" / "bench-ingest"
BATCH = 500

ENDPOINTS = [
    "classify-ticket",
    "extract-invoice",
    "faq-answer",
    "summarise-call",
    "draft-email",
    "generate-sql",
]
MODELS = [("openai", "gpt-4o-mini"), ("openai", "gpt-4o"), ("anthropic", "claude-3-5-haiku-20241022")]
WORDS = [
    "order",
    "refund",
    "invoice",
    "shipping",
    "account",
    "password",
    "delivery",
    "billing",
    "plan",
    "upgrade",
    "cancel",
    "support",
    "customer",
    "product",
    "warranty",
    "return",
    "exchange",
    "address",
    "payment",
    "card",
]


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def event_templates(count: int, seed: int = 7) -> list[str]:
    """JSON for `count` distinct-looking events with an {ID} and {TS} placeholder each (~1.5 KB)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        provider, model = rng.choice(MODELS)
        event = {
            "event_id": "@ID@",
            "ts": "@TS@",
            "endpoint": rng.choice(ENDPOINTS),
            "provider": provider,
            "model": model,
            "input_tokens": rng.randint(200, 3000),
            "output_tokens": rng.randint(20, 600),
            "cached_input_tokens": rng.choice([0, 0, 128, 1024]),
            "latency_ms": rng.randint(200, 4000),
            "status": "ok" if rng.random() > 0.02 else "error",
            "user_id": f"user-{rng.randint(1, 5000)}",
            "request": {
                "messages": [
                    {
                        "role": "system",
                        "content": "You are a helpful support assistant for Acme. " + _text(rng, 25),
                    },
                    {"role": "user", "content": _text(rng, 110)},
                ]
            },
            "response": {"content": _text(rng, 60)},
        }
        text = json.dumps(event)
        out.append(text)
    return out


def load(port: int, key: str, duration: float, connections: int, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    templates = event_templates(200)
    stop_at = time.monotonic() + duration
    latencies: list[float] = []
    acked = [0]
    errors = [0]
    lock = threading.Lock()

    def worker(n: int) -> None:
        rng = random.Random(n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        while time.monotonic() < stop_at:
            ts = datetime.now(UTC).isoformat()
            parts = [
                rng.choice(templates).replace("@ID@", str(uuid.uuid4()), 1).replace("@TS@", ts, 1)
                for _ in range(BATCH)
            ]
            body = ('{"schema_version":1,"events":[' + ",".join(parts) + "]}").encode()
            started = time.perf_counter()
            try:
                conn.request("POST", "/v1/ingest", body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                with lock:
                    errors[0] += 1
                continue
            elapsed = time.perf_counter() - started
            with lock:
                if response.status == 200:
                    acked[0] += json.loads(data)["accepted"]
                    latencies.append(elapsed)
                else:
                    errors[0] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put(
        {"acked": acked[0], "errors": errors[0], "latencies": latencies, "wall": time.monotonic() - began}
    )


def writer_profile(port: int) -> str:
    """Group-commit behaviour from the server's own /metrics: flushes, rows per flush, time per flush."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    values = {}
    for line in text.splitlines():
        for name in ("flush_seconds_sum", "flush_seconds_count", "flush_rows_sum"):
            if line.startswith(f"switchyard_ingest_writer_{name} "):
                values[name] = float(line.split()[-1])
    flushes = values.get("flush_seconds_count", 0) or 1
    return (
        f"writer: {flushes:.0f} flushes, {values.get('flush_rows_sum', 0) / flushes:,.0f} rows/flush, "
        f"{values.get('flush_seconds_sum', 0) / flushes * 1000:.0f} ms/flush, "
        f"busy {values.get('flush_seconds_sum', 0):.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    with served(VAR) as server:
        # Warm up (first request builds caches and the writer thread), outside the timing.
        queue: mp.Queue = mp.Queue()  # type: ignore[type-arg]
        warm = mp.Process(target=load, args=(server.port, server.ingest_key, 2.0, 2, queue))
        warm.start()
        warm_result = queue.get()
        warm.join()
        proc = mp.Process(
            target=load, args=(server.port, server.ingest_key, args.duration, args.connections, queue)
        )
        proc.start()
        result = queue.get()
        proc.join()
        print(writer_profile(server.port), file=sys.stderr)

    sys.path.insert(0, str(ROOT))
    os.environ.update(
        {k: v for k, v in server.env.items() if k in ("VAR_DIR", "DJANGO_SETTINGS_MODULE", "DEBUG")}
    )
    import django

    django.setup()
    from apps.warehouse import client as warehouse
    from apps.warehouse.calls import CALL_COLUMNS

    total, distinct = warehouse.system_query(
        "SELECT count(), uniqExact(event_id) FROM llm_calls", feature="bench"
    ).rows[0]
    expected = warm_result["acked"] + result["acked"]
    lost = max(0, expected - distinct)
    duplicated = total - distinct

    # Baseline: the same rows, straight into a fresh table, 5,000 rows per insert.
    warehouse.system_command("DROP TABLE IF EXISTS bench_bulk", feature="bench")
    warehouse.system_command("CREATE TABLE bench_bulk AS llm_calls", feature="bench")
    rows_sql = f"SELECT {', '.join(CALL_COLUMNS)} FROM llm_calls LIMIT 100000"  # noqa: S608 - constant column list
    sample = warehouse.system_query(rows_sql, feature="bench").rows
    bulk_rows = [list(r) for r in sample]
    for r in bulk_rows:
        r[CALL_COLUMNS.index("event_id")] = uuid.uuid4()
    insert_time = 0.0
    for start in range(0, len(bulk_rows), 5000):
        chunk = bulk_rows[start : start + 5000]
        columns = [list(c) for c in zip(*chunk, strict=True)]
        t0 = time.perf_counter()
        warehouse.system_insert("bench_bulk", columns, CALL_COLUMNS, feature="bench", column_oriented=True)
        insert_time += time.perf_counter() - t0
    bulk_rate = len(bulk_rows) / insert_time

    latencies = sorted(result["latencies"])
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else 0.0
    rate = result["acked"] / result["wall"]
    print(
        f"acked {result['acked']:,} events in {result['wall']:.1f}s over {args.connections} connections; "
        f"request errors {result['errors']}; stored {total:,} (distinct {distinct:,})",
        file=sys.stderr,
    )
    print(
        json.dumps(
            {
                "events_per_s": round(rate),
                "bulk_insert_events_per_s": round(bulk_rate),
                "ratio": round(rate / bulk_rate, 3),
                "p99_ms": round(p99, 1),
                "lost": lost,
                "duplicated": duplicated,
            }
        )
    )


if __name__ == "__main__":
    main()
