"""manage.py cost_check: compare stored costs with a fresh computation over a time range."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import Project
from apps.core.errors import ApplicationError
from apps.pricing.cost import nano_to_usd
from apps.pricing.cost_check import cost_check
from apps.pricing.validation import clean_datetime
from apps.warehouse import client as warehouse


def _usd(nano: int | None) -> str:
    return "unpriced" if nano is None else f"${nano_to_usd(nano):f}"


class Command(BaseCommand):
    help = (
        "Cost every call in a time range again with today's prices and list the calls whose stored "
        "cost differs (exit status 1 when any does). Read-only; run `import_prices` or Pricing → "
        "Recompute to fix them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--project", type=int, action="append", help="project id (repeatable; default: all)"
        )
        parser.add_argument("--since", help="start, a date or ISO 8601 time (default: 7 days ago)")
        parser.add_argument("--until", help="end, exclusive (default: now)")
        parser.add_argument(
            "--limit", type=int, default=50, help="differences listed per project (default 50)"
        )
        parser.add_argument("--json", action="store_true", help="one JSON object per project")

    def handle(self, *args: Any, **options: Any) -> None:
        now = datetime.now(UTC)
        try:
            since = (
                clean_datetime(options["since"], "--since") if options["since"] else now - timedelta(days=7)
            )
            until = clean_datetime(options["until"], "--until") if options["until"] else now
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        if since >= until:
            raise CommandError("--since must be before --until")
        problem = warehouse.store_problem()
        if problem:
            raise CommandError(
                f"Cannot read the calls: {problem}. With the embedded store, stop the server "
                "(it owns the store) and run cost_check again."
            )
        projects = Project.objects.order_by("pk")
        if options["project"]:
            projects = projects.filter(pk__in=options["project"])
            missing = set(options["project"]) - set(projects.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"No project with id {', '.join(map(str, sorted(missing)))}")
        differing = 0
        for project in projects:
            report = cost_check(
                project_id=project.pk,
                organization_id=project.organization_id,
                since=since,
                until=until,
                limit=options["limit"],
            )
            differing += report.differing
            if options["json"]:
                self.stdout.write(
                    json.dumps(
                        {
                            "project_id": project.pk,
                            "since": since.isoformat(),
                            "until": until.isoformat(),
                            "calls": report.calls,
                            "differing": report.differing,
                            "differences": [
                                {
                                    "event_id": d.event_id,
                                    "ts": d.ts.isoformat(),
                                    "provider": d.provider,
                                    "model": d.model,
                                    "service_tier": d.service_tier,
                                    "stored_nano_usd": d.stored_nano_usd,
                                    "fresh_nano_usd": d.fresh_nano_usd,
                                    "stored_price_id": d.stored_price_id,
                                    "fresh_price_id": d.fresh_price_id,
                                }
                                for d in report.differences
                            ],
                        }
                    )
                )
                continue
            self.stdout.write(
                f"project {project.pk} ({project.name}): {report.calls:,} calls from {since:%Y-%m-%d %H:%M} "
                f"to {until:%Y-%m-%d %H:%M} UTC, {report.differing:,} differ"
            )
            for d in report.differences:
                self.stdout.write(
                    f"  {d.event_id}  {d.ts:%Y-%m-%d %H:%M:%S}  {d.provider}/{d.model} ({d.service_tier})  "
                    f"stored {_usd(d.stored_nano_usd)} (price {d.stored_price_id}), "
                    f"now {_usd(d.fresh_nano_usd)} (price {d.fresh_price_id})"
                )
            if report.more:
                self.stdout.write(f"  … and {report.more:,} more")
        if differing:
            raise CommandError(f"{differing:,} call(s) differ from a fresh computation")
