"""`make demo`'s last step as a person sees it: `manage.py serve --demo` on the embedded defaults
(SQLite and chDB in a VAR_DIR of its own, in processes of their own) prints the log-in, keys and
the SDK's install line after gunicorn's start-up lines, and background tasks started afterwards
do not print under them."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from apps.demo.login import DEMO_EMAIL, DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _env(var_dir: Path) -> dict[str, str]:
    drop = ("DATABASE_URL", "CLICKHOUSE_URL", "CLICKHOUSE_DATABASE", "CELERY_BROKER_URL", "REDIS_URL")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST")}
    return env | {"DJANGO_SETTINGS_MODULE": "config.settings.local", "VAR_DIR": str(var_dir)}


def _manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-2000:])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Output:
    """Every line a process prints (stdout and stderr together), read as it comes."""

    def __init__(self, process: subprocess.Popen[str]):
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert time.monotonic() < deadline, "\n".join(self.lines[-40:])
            time.sleep(0.1)


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[tuple[str, Output]]:
    env = _env(tmp_path / "var")
    _manage(env, "migrate", "--noinput")
    _manage(env, "migrate_clickhouse")
    _manage(env, "demo_setup")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--bind", f"127.0.0.1:{port}", "--threads", "4", "--demo"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
    )  # fmt: skip
    output = Output(process)
    try:
        yield f"http://127.0.0.1:{port}", output
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_demo_prints_the_log_in_last_and_tasks_do_not_scroll_it_away(
    demo_server: tuple[str, Output],
) -> None:
    base, output = demo_server
    output.wait_for("Stop with Ctrl-C.")
    banner_at = next(i for i, line in enumerate(output.lines) if line.startswith("Switchyard is ready"))
    before = output.lines[:banner_at]
    assert any("Booting worker" in line for line in before)  # gunicorn's start-up lines came first
    assert f"Log in:      {DEMO_EMAIL} / {DEMO_PASSWORD}" in output.lines[banner_at + 1]

    web = requests.Session()  # a person logs in and asks for new recommendations: a background task
    web.get(f"{base}/accounts/login/", timeout=10)
    landed = web.post(
        f"{base}/accounts/login/",
        data={
            "email": DEMO_EMAIL,
            "password": DEMO_PASSWORD,
            "csrfmiddlewaretoken": web.cookies["csrftoken"],
        },
        timeout=30,
    )
    project = re.search(r"/projects/(\d+)/", landed.url)
    assert project, landed.url
    refresh = f"{base}/projects/{project.group(1)}/routing/refresh/"
    refreshed = web.post(refresh, data={"csrfmiddlewaretoken": web.cookies["csrftoken"]}, timeout=30)
    assert refreshed.status_code == 200 and "being made again" in refreshed.text
    assert web.get(f"{base}/favicon.ico", timeout=10).status_code == 200
    assert web.get(f"{base}/no-such-page/", timeout=10).status_code == 404
    time.sleep(3)  # the task has run (it has no evidence to read)
    after = output.lines[banner_at:]
    assert not [line for line in after if "celery.app.trace" in line or "succeeded in" in line], after
    assert len([line for line in after if "Not Found: /no-such-page/" in line]) == 1, after  # logged once
