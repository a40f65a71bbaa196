"""The embedded demo's log-in and keys, and the lines `manage.py serve --demo` prints last, once
the server answers (after gunicorn's start-up lines, so nothing scrolls them away; DemoConfig
hands them to the serve command)."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings

from apps.core.sdk_dist import sdk_wheel

DEMO_EMAIL = "demo@switchyard.local"
DEMO_PASSWORD = "switchyard-demo"  # noqa: S105 - the published demo login, embedded mode only


def keys_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-keys.json"


def demo_keys() -> dict[str, str]:
    """The demo project's keys as `demo_setup` stored them (empty before it ran)."""
    path = keys_file()
    return json.loads(path.read_text()) if path.exists() else {}


def ready_lines(base_url: str) -> list[str]:
    """What a person needs once `make demo` serves: where, how to log in, the keys, the SDK."""
    keys = demo_keys()
    wheel = sdk_wheel()
    lines = [
        "",
        f"Switchyard is ready: open {base_url}/",
        f"  Log in:      {DEMO_EMAIL} / {DEMO_PASSWORD}",
    ]
    if keys:
        lines += [f"  Ingest key:  {keys.get('ingest', '')}", f"  SDK key:     {keys.get('sdk', '')}"]
    if wheel is not None:
        lines.append(f"  SDK:         pip install {base_url}/sdk/{wheel.name}")
    lines += ["Stop with Ctrl-C.", ""]
    return lines
