from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.warehouse import client, migrator


class Command(BaseCommand):
    help = "Apply numbered ClickHouse migrations (idempotent). --plan prints what would run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--plan", action="store_true", help="print pending SQL, change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        info = client.connection_info()
        where = (
            f"cluster {info.cluster!r}" if info.cluster else ("embedded chDB" if info.embedded else "server")
        )
        items = migrator.plan()
        for item in items:
            if item.changed_since_applied:
                self.stderr.write(
                    self.style.WARNING(f"{item.name}: changed since it was applied (not re-run)")
                )
        pending = [i for i in items if not i.changed_since_applied]
        if options["plan"]:
            if not pending:
                self.stdout.write(f"ClickHouse ({where}, database {info.database}): nothing to apply")
            for item in pending:
                self.stdout.write(f"-- {item.name}")
                for sql in item.statements:
                    self.stdout.write(sql.rstrip() + ";\n")
            return
        ran = migrator.migrate()
        if ran:
            self.stdout.write(self.style.SUCCESS(f"ClickHouse ({where}): applied {', '.join(ran)}"))
        else:
            self.stdout.write(f"ClickHouse ({where}, database {info.database}): up to date")
