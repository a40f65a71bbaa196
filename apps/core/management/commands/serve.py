"""Serve Switchyard with gunicorn in one process: web threads plus the embedded worker and beat.

This is how `make demo` runs the product on the embedded default (chDB lets one process own its
data directory, so web and worker share a process). Production runs gunicorn and Celery apart.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the web app (gunicorn, one process) with the in-process worker and beat."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--threads", type=int, default=48)
        parser.add_argument("--access-log", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        from gunicorn.app.base import BaseApplication

        from apps.core import background

        def start_embedded(_worker: Any) -> None:
            if not background.uses_broker() and settings.CELERY_BEAT_SCHEDULE:
                background.EmbeddedBeat(settings.CELERY_BEAT_SCHEDULE, background.task_by_name).start()

        from django.core.wsgi import get_wsgi_application

        wsgi = get_wsgi_application()
        bind = options["bind"]
        threads = options["threads"]
        access_log = options["access_log"]

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
