"""Prometheus metrics. One registry per process; gunicorn/Celery multi-process mode when
PROMETHEUS_MULTIPROC_DIR is set (see deploy/RUNBOOK.md)."""

from __future__ import annotations

import os

from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

INGEST_EVENTS = Counter(
    "switchyard_ingest_events_total", "Events received by /v1/ingest and OTLP", ["outcome"]
)
INGEST_REJECTS = Counter(
    "switchyard_ingest_rejects_total", "Rejected events and requests by reason", ["reason"]
)
INGEST_REQUESTS = Counter("switchyard_ingest_requests_total", "Ingest requests by HTTP status", ["status"])
WRITER_QUEUE_DEPTH = Gauge(
    "switchyard_ingest_writer_queue_depth",
    "Requests waiting for the group-commit writer",
    multiprocess_mode="max",
)
WRITER_FLUSH_SECONDS = Histogram(
    "switchyard_ingest_writer_flush_seconds",
    "Time to commit one group of rows to ClickHouse",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WRITER_FLUSH_ROWS = Histogram(
    "switchyard_ingest_writer_flush_rows",
    "Rows per group commit",
    buckets=(1, 10, 100, 500, 1000, 5000, 10000, 50000),
)
JOBS = Counter("switchyard_jobs_total", "Background jobs by task and outcome", ["task", "outcome"])
CONFIG_FETCHES = Counter("switchyard_config_fetches_total", "GET /v1/config by outcome", ["outcome"])


def render() -> bytes:
    """The exposition text for /metrics."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(DEFAULT_REGISTRY)
