"""Real Celery workers and a private Redis server in subprocesses, for tests of the broker path."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from celery import Celery

from bench.served import free_port

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def worker_process(
    broker: str,
    *,
    queues: str,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """One solo worker consuming `queues` on `broker`, on the test settings unless `env` says
    otherwise. Stopped with SIGTERM on exit unless the test already killed it."""
    name = f"w-{uuid.uuid4().hex[:10]}"
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": broker,
        **(env or {}),
    }
    out = log.open("ab") if log else subprocess.DEVNULL
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config.celery_app",
            "worker",
            "-Q",
            queues,
            "-c",
            "1",
            "-P",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{name}@%h",
            "--loglevel",
            "INFO" if log else "WARNING",
        ],
        cwd=ROOT,
        env=full_env,
        stdout=out,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
    )
    try:
        yield worker
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)
        if log:
            out.close()  # type: ignore[union-attr]


@contextmanager
def client_app(broker: str) -> Iterator[Celery]:
    """A Celery client of its own for `broker` (the process-wide app keeps its own connection pool)."""
    client = Celery("switchyard-test-client", broker=broker, backend=broker)
    try:
        yield client
    finally:
        client.close()


@contextmanager
def celery_worker(broker: str) -> Iterator[tuple[Celery, str]]:
    """Start a solo worker consuming a fresh queue on `broker`; yields a client app for that broker
    and the queue name."""
    queue = f"test-{uuid.uuid4().hex[:10]}"
    with worker_process(broker, queues=queue), client_app(broker) as client:
        yield client, queue


class RedisServer:
    """A redis-server of the test's own on a free port, which the test may kill and start again."""

    def __init__(self, directory: Path):
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed for this test (apt-get install redis-server)"
        self._binary = binary
        self._directory = directory
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        command = [self._binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        self._process = subprocess.Popen(
            [*command, "--appendonly", "no", "--dir", str(self._directory)],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=10)
            self._process = None


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.kill()
