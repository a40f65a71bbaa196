"""The image's command (gunicorn on production settings) served here against real PostgreSQL,
Redis and chDB, in a database of its own: what tests of the deployed behaviour run against."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from bench.served import free_port, manage

ROOT = Path(__file__).resolve().parents[1]
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def production_server(tmp_path: Path, **overrides: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Migrate a fresh database, collect static files and start gunicorn as the image does; yields
    (base URL, environment)."""
    dbname = f"switchyard_prod_{os.getpid()}_{free_port()}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    port = free_port()
    (tmp_path / "prom").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "deploy-test-" + "k" * 40,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{dbname}",
        "CLICKHOUSE_URL": f"chdb://{tmp_path / 'clickhouse'}",
        "VAR_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/12",
        "REDIS_URL": "redis://127.0.0.1:6379/12",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "4",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
        **overrides,
    }
    try:
        manage(env, "migrate", "--noinput")
        manage(env, "migrate_clickhouse")
        manage(env, "collectstatic", "--noinput")  # as the image's build does
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--config",
                "python:config.gunicorn",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # The server's chDB is the gunicorn worker's from here on: queries go through HTTP only.
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/healthz", timeout=5):
                        break
                except OSError:
                    assert time.monotonic() < deadline, "gunicorn did not start"
                    assert server.poll() is None, "gunicorn exited"
                    time.sleep(0.3)
            yield base, env
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
