"""Build the SDK's wheel from sdk/ (and collect its dependencies' wheels) into SDK_DIST_DIR, where
the server serves them at /sdk/. `make install` runs it; safe to run again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import ApplicationError
from apps.core.sdk_dist import dist_dir, sdk_build


class Command(BaseCommand):
    help = "Build the SDK's wheel into SDK_DIST_DIR (served at /sdk/); nothing to do when it is fresh."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dest", type=Path, default=None, help="another directory (default SDK_DIST_DIR)"
        )
        parser.add_argument("--no-deps", action="store_true", help="the SDK's wheel only")
        parser.add_argument("--force", action="store_true", help="build even when the wheel is fresh")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            wheel = sdk_build(
                dest=options["dest"], dependencies=not options["no_deps"], force=options["force"]
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        folder = options["dest"] or dist_dir()
        self.stdout.write(f"SDK wheel: {wheel.name} in {folder} (served at /sdk/{wheel.name})")
