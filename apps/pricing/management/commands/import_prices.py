"""manage.py import_prices FILE: load a price file (Switchyard's or LiteLLM's) into the catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import ApplicationError
from apps.pricing.catalogue import SEED_FILE, prices_import_file
from apps.pricing.validation import clean_datetime


class Command(BaseCommand):
    help = (
        "Load prices from FILE (default: the seed file shipped with Switchyard). Accepts Switchyard's "
        "price file and LiteLLM's model_prices_and_context_window.json. The whole file is checked "
        "first: a wrong line rejects it all. Importing the same file twice changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", default=str(SEED_FILE))
        parser.add_argument("--format", choices=["auto", "switchyard", "litellm"], default="auto")
        parser.add_argument(
            "--since",
            help="LiteLLM files carry no dates: when changed prices take effect (default: today; "
            "a model's first price: 1970-01-01)",
        )
        parser.add_argument("--no-recompute", action="store_true", help="do not recompute stored costs")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            since = clean_datetime(options["since"], "--since") if options["since"] else None
            report = prices_import_file(
                path, format=options["format"], since=since, recompute=not options["no_recompute"]
            )
        except ApplicationError as exc:
            raise CommandError(f"{path}: {exc.message}. Nothing was imported.") from exc
        self.stdout.write(self.style.SUCCESS(f"Imported {path.name}: {report.summary()}"))
        if options["verbosity"] > 1:
            for note in report.skipped:
                self.stdout.write(f"  skipped {note}")
