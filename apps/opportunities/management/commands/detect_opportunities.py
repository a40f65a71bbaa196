"""Run the opportunity detectors now, for one project or every project, and print what they found."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import Project
from apps.opportunities.models import Opportunity, Status
from apps.opportunities.selectors import opportunity_totals
from apps.opportunities.services import detect_project


def report(command: BaseCommand, project: Project) -> None:
    run = detect_project(project=project, trigger="command")
    found = Opportunity.objects.filter(project=project, status=Status.OPEN).order_by("-monthly_nano")
    total = opportunity_totals(project_id=project.pk)
    command.stdout.write(
        f"{project.name}: {run.calls:,} calls on {run.endpoints} endpoints, {run.clickhouse_ms:,} ms in ClickHouse; "
        f"{found.count()} open findings, ${total.net_nano / 1e9:,.2f} a month together "
        f"(95% ${total.net_low_nano / 1e9:,.2f}–${total.net_high_nano / 1e9:,.2f})"
    )
    for o in found:
        command.stdout.write(f"  ${o.monthly_nano / 1e9:10,.2f}  {o.kind:8} {o.endpoint:24} {o.title}")


class Command(BaseCommand):
    help = "Run the opportunity detectors over the last 7 days of calls (one project, or all) and list the findings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", help="project slug (default: every project)")

    def handle(self, *args: Any, **options: Any) -> None:
        projects = Project.objects.select_related("organization").order_by("pk")
        if options.get("project"):
            projects = projects.filter(slug=options["project"])
            if not projects.exists():
                raise CommandError(f"No project {options['project']!r}")
        for project in projects:
            report(self, project)
