"""Serve Switchyard with gunicorn in one process: web threads plus the embedded worker and beat.

This is how `make demo` runs the product on the embedded default (chDB lets one process own its
data directory, so web and worker share a process). Production runs gunicorn and Celery apart.

The embedded worker's tasks log failures, not each success: the beat starts tasks every minute,
and "Task … succeeded" lines would scroll the log-in away. `--demo` prints the log-in, keys and
the SDK's install line last, once the server answers: the lines come from every installed app
whose AppConfig has `ready_lines(base_url)` (apps.demo's), so core does not import the demo.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import urllib.request
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

READY_TIMEOUT_S = 60.0


def ready_banner(base_url: str) -> list[str]:
    """The lines installed apps ask to print once the server answers (`ready_lines` on an AppConfig)."""
    lines: list[str] = []
    for config in apps.get_app_configs():
        hook = getattr(config, "ready_lines", None)
        if callable(hook):
            lines += hook(base_url)
    return lines


def _print_when_ready(base_url: str, lines: list[str]) -> None:
    """Wait until the server answers /healthz, then print `lines` (after gunicorn's own)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as answer:  # noqa: S310 - our own
                if answer.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    time.sleep(0.5)  # gunicorn's last start-up lines first
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


class Command(BaseCommand):
    help = "Serve the web app (gunicorn, one process) with the in-process worker and beat."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--threads", type=int, default=48)
        parser.add_argument("--access-log", action="store_true")
        parser.add_argument("--demo", action="store_true", help="print the demo log-in once serving")

    def handle(self, *args: Any, **options: Any) -> None:
        from gunicorn.app.base import BaseApplication

        from apps.core import background

        bind = options["bind"]
        threads = options["threads"]
        access_log = options["access_log"]
        base_url = f"http://{bind}"
        banner = ready_banner(base_url) if options["demo"] else []

        def start_embedded(_worker: Any) -> None:
            if not background.uses_broker():
                logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
                if settings.CELERY_BEAT_SCHEDULE:
                    background.EmbeddedBeat(settings.CELERY_BEAT_SCHEDULE, background.task_by_name).start()
            if banner:
                threading.Thread(target=_print_when_ready, args=(base_url, banner), daemon=True).start()

        from django.core.wsgi import get_wsgi_application

        wsgi = get_wsgi_application()

        class Server(BaseApplication):
            def load_config(self) -> None:
                self.cfg.set("bind", [bind])
                self.cfg.set("workers", 1)
                self.cfg.set("worker_class", "gthread")
                self.cfg.set("threads", threads)
                self.cfg.set("timeout", 120)
                self.cfg.set("keepalive", 30)
                self.cfg.set("backlog", 512)
                self.cfg.set("post_worker_init", start_embedded)
                if access_log:
                    self.cfg.set("accesslog", "-")

            def load(self) -> Any:
                return wsgi

        self.stdout.write(
            f"Switchyard serving at http://{bind} (embedded worker: {not background.uses_broker()})"
        )
        Server().run()
