"""manage.py import_prices FILE: load a price file (Switchyard's or LiteLLM's) into the catalogue.

Prices that reach back in time make stored costs wrong, so an import that changes them is never
reported done without its recompute: with Celery workers the recompute goes to them; on the
embedded default this process recomputes before it exits when it can open the store, and when
the running server owns the store (`make demo`), the recompute is handed to the server: the
request written with the prices waits in the database, and the server's in-process worker plans
it within PLAN_PENDING_S (beat `pricing.plan_pending_recomputes`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core import background
from apps.core.errors import ApplicationError
from apps.pricing.catalogue import SEED_FILE, prices_import_file
from apps.pricing.models import RecomputeJob, RecomputeStatus
from apps.pricing.recompute import recompute_request_run
from apps.pricing.tasks import plan_recompute
from apps.pricing.validation import clean_datetime
from apps.warehouse import client as warehouse

PLAN_PENDING_S = 15  # config.settings.base: the beat's pricing-plan-pending interval


class Command(BaseCommand):
    help = (
        "Load prices from FILE (default: the seed file shipped with Switchyard). Accepts Switchyard's "
        "price file and LiteLLM's model_prices_and_context_window.json. The whole file is checked "
        "first: a wrong line rejects it all. Importing the same file twice changes nothing. Changed "
        "prices recompute the stored costs they affect (here, on the workers, or by the running server)."
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
                path,
                format=options["format"],
                since=since,
                recompute=not options["no_recompute"],
                start_recompute=False,
            )
        except ApplicationError as exc:
            raise CommandError(f"{path}: {exc.message}. Nothing was imported.") from exc
        self.stdout.write(self.style.SUCCESS(f"Imported {path.name}: {report.summary()}"))
        if options["verbosity"] > 1:
            for note in report.skipped:
                self.stdout.write(f"  skipped {note}")
            for note in report.notes:
                self.stdout.write(f"  note: {note}")
        if report.recompute_request_id is not None:
            self._recompute(report.recompute_request_id)

    def _recompute(self, request_id: int) -> None:
        if background.uses_broker():
            background.dispatch(plan_recompute, request_id)
            self.stdout.write(
                "Recompute of the stored costs queued for the workers (progress: Pricing → Recompute)."
            )
            return
        problem = warehouse.store_problem()
        if problem:
            info = warehouse.connection_info()
            if not info.embedded:
                raise CommandError(
                    f"Prices imported, but ClickHouse cannot be reached ({problem}): the recompute of the stored "
                    "costs is queued in the database and runs once a worker reaches ClickHouse "
                    "(Pricing → Recompute shows it)."
                )
            self.stdout.write(
                f"The embedded store ({info.path}) is owned by the running server, so the recompute of the "
                f"stored costs was handed to the running server: it is queued in the database and the "
                f"server's worker starts it within {PLAN_PENDING_S} s (progress: Pricing → Recompute)."
            )
            return
        try:
            jobs = recompute_request_run(request_id=request_id) or []
            background.drain(timeout=24 * 3600)
        finally:
            warehouse.close_clients()  # hand the store back (a server may start next)
        done = list(RecomputeJob.objects.filter(pk__in=[job.pk for job in jobs]))
        failed = [job for job in done if job.status != RecomputeStatus.DONE]
        if failed:
            raise CommandError(
                "Prices imported, but the recompute failed for "
                + "; ".join(f"project {job.project_id}: {job.error or job.status}" for job in failed)
                + ". Resume it under Pricing → Recompute."
            )
        processed = sum(job.processed for job in done)
        changed = sum(job.changed for job in done)
        self.stdout.write(
            self.style.SUCCESS(
                f"Recomputed {processed:,} call{'' if processed == 1 else 's'} in {len(done)} "
                f"project{'' if len(done) == 1 else 's'}: {changed:,} changed."
            )
        )
