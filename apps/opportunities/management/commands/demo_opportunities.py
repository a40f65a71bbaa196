"""Opportunities for the demo project (after demo_traffic; idempotent): one run of the detectors over
the demo's last 7 days, whose traffic wastes money the way real apps do (apps.dashboard.demo_waste)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import Project
from apps.opportunities.management.commands.detect_opportunities import report


class Command(BaseCommand):
    help = "Run the opportunity detectors on the demo project and list what they found."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", default="demo-app", help="project slug (default: demo-app)")

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(slug=options["project"]).select_related("organization").first()
        if project is None:
            raise CommandError(f"No project {options['project']!r}: run demo_setup and demo_traffic first")
        report(self, project)
