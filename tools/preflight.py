"""Before the tests: are PostgreSQL and Redis reachable, and the system tools some tests drive
(chromium, kustomize, Docker Compose v2) installed? One clear line each if not."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse


def reachable(url: str, default_port: int) -> bool:
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=3):
            return True
    except OSError:
        return False


def compose_command() -> list[str] | None:
    """Docker Compose v2: the docker CLI plugin, or the plugin binary on its own (no docker CLI)."""
    for command in (["docker", "compose"], ["/usr/local/lib/docker/cli-plugins/docker-compose"]):
        if shutil.which(command[0]):
            out = subprocess.run([*command, "version"], capture_output=True, text=True, timeout=30)  # noqa: S603 - fixed commands
            if out.returncode == 0 and re.search(r"version v?2\.", out.stdout):
                return command
    return None


def missing_tools() -> list[str]:
    missing = []
    if not Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")).exists():
        missing.append("chromium")
    if not (shutil.which("kustomize") or shutil.which("kubectl")):
        missing.append("kustomize")
    if compose_command() is None:
        missing.append("Docker Compose v2")
    return missing


def main() -> int:
    db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/switchyard")
    redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    failures = []
    if not reachable(db, 5432):
        failures.append(
            f"PostgreSQL is not reachable at {urlparse(db).hostname}:{urlparse(db).port or 5432} "
            "(start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)"
        )
    if not reachable(redis, 6379):
        failures.append(
            f"Redis is not reachable at {urlparse(redis).hostname}:{urlparse(redis).port or 6379} "
            '(start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no)'
        )
    missing = missing_tools()
    if missing:
        failures.append(f"{', '.join(missing)} missing (install them: bash tools/install-test-tools.sh)")
    for line in failures:
        print(f"make test: {line}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
