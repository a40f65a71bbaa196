"""What every demo command shares: `--project` (the demo project's slug) and finding that project."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import Project


class DemoCommand(BaseCommand):
    run_first = "demo_setup"  # what to run when the project is not there yet

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", default="demo-app", help="project slug (default: demo-app)")

    def demo_project(self, slug: str) -> Project:
        projects = Project.objects.filter(slug=slug).select_related("organization")
        if projects.count() != 1:
            raise CommandError(f"Expected one project with slug {slug!r}: run {self.run_first} first")
        return projects.get()
