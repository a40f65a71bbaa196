"""Production settings refuse unsafe values; every variable has an embedded default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DATABASES['default']['ENGINE'], settings.CLICKHOUSE_URL)",
        ],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_dev_secret_key() -> None:
    result = _load({"DJANGO_SETTINGS_MODULE": "config.settings.production"})
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_production_refuses_debug() -> None:
    result = _load(
        {"DJANGO_SETTINGS_MODULE": "config.settings.production", "SECRET_KEY": "x" * 50, "DEBUG": "true"}
    )
    assert result.returncode != 0 and "DEBUG=True is refused" in result.stderr


def test_production_loads_with_real_services() -> None:
    result = _load(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": "x" * 50,
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/switchyard",
            "CLICKHOUSE_URL": "https://default:pw@ch.internal:8443/switchyard",
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "https://default:pw@ch.internal:8443/switchyard",
    ]


def test_local_defaults_are_embedded() -> None:
    result = _load(
        {"DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": "", "CLICKHOUSE_URL": ""}
    )
    assert result.returncode == 0, result.stderr
    engine, ch = result.stdout.split()
    assert (
        engine == "django.db.backends.sqlite3" and ch.startswith("chdb:///") and ch.endswith("var/clickhouse")
    )


def test_readme_lists_every_environment_variable() -> None:
    import re

    names = set(
        re.findall(
            r"env_(?:str|bool|int|list)\(\s*\"([A-Z_]+)\"",
            "".join(p.read_text() for p in (ROOT / "config" / "settings").glob("*.py")),
        )
    )
    readme = (ROOT / "README.md").read_text()
    missing = sorted(n for n in names if f"`{n}`" not in readme)
    assert not missing, f"README configuration table lacks: {missing}"
