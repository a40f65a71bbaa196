"""Store 30 days of realistic demo calls for the demo project (idempotent: run it again freely)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from apps.demo.management.base import DemoCommand
from apps.demo.traffic import demo_traffic_store


class Command(DemoCommand):
    help = "Generate the demo project's traffic through the ingest path (deterministic, idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--scale", type=float, default=1.0, help="volume multiplier (1.0 ≈ 130k calls in 30 days)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        project = self.demo_project(options["project"])
        if not 1 <= options["days"] <= 60:
            raise CommandError("--days must be between 1 and 60")
        report = demo_traffic_store(
            project=project,
            now=timezone.now(),
            days=options["days"],
            seed=options["seed"],
            scale=options["scale"],
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo traffic for {project.name}: {report.stored:,} calls stored, "
                f"{report.duplicates:,} already there, {report.rejected:,} rejected "
                f"({report.generated:,} generated in {report.seconds:.1f} s)."
            )
        )
