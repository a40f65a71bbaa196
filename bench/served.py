"""Serving Switchyard the way `make demo` does, in a throwaway VAR_DIR, for benchmarks and the
reliability suite."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Served:
    port: int
    ingest_key: str
    sdk_key: str
    env: dict[str, str]
    var: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> str:
    """Run one management command with `env`; its output. A failure raises with the command's stderr."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def embedded_env(var: Path) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "CLICKHOUSE_URL", "CELERY_BROKER_URL")
    }
    return {**clean, "VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "config.settings.local", "DEBUG": "false"}


@contextmanager
def served(var: Path, *, threads: int = 48) -> Iterator[Served]:
    """Fresh embedded stores in `var`, migrated, with the demo project and keys; `manage.py serve` running."""
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    env = embedded_env(var)
    manage(env, "migrate", "--noinput")
    manage(env, "migrate_clickhouse")
    manage(env, "demo_setup")
    # Load runs go far past the Free plan's monthly events: raise its limits, as a self-hosting
    # operator would in the admin, so the plan quota (429) is not what gets measured.
    manage(
        env,
        "shell",
        "-c",
        "from apps.billing.models import Plan; "
        "Plan.objects.filter(key='free').update(included_events=10**12, event_limit=10**12)",
    )
    keys = json.loads((var / "demo-keys.json").read_text())
    port = free_port()
    with (var / "server.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--bind", f"127.0.0.1:{port}", "--threads", str(threads)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError(f"server did not start; see {var / 'server.log'}") from None
                    time.sleep(0.2)
            yield Served(port, keys["ingest"], keys["sdk"], env, var)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


def stored_counts(env: dict[str, str]) -> tuple[int, int]:
    """(rows, distinct event ids) in llm_calls, read by a separate process (chDB: one path per process)."""
    code = (
        "import django; django.setup(); from apps.warehouse import client as w; "
        "print(*w.system_query('SELECT count(), uniqExact(event_id) FROM llm_calls', feature='check').rows[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    total, distinct = out.stdout.split()
    return int(total), int(distinct)
