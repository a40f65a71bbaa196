"""A real Celery worker in a subprocess, on a given broker, with the test process pointed at it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from celery import Celery

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def celery_worker(broker: str) -> Iterator[tuple[Celery, str]]:
    """Start a solo worker consuming a fresh queue on `broker`; yields a client app for that broker
    (the process-wide app keeps its own connection pool) and the queue name."""
    queue = f"test-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": broker,
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config.celery_app",
            "worker",
            "-Q",
            queue,
            "-c",
            "1",
            "-P",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{queue}@%h",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = Celery("switchyard-test-client", broker=broker, backend=broker)
    try:
        yield client, queue
    finally:
        client.close()
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
