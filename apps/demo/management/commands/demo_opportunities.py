"""Opportunities for the demo project (after demo_traffic; idempotent): one run of the detectors over
the demo's last 7 days, whose traffic wastes money the way real apps do (apps.demo.waste)."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command

from apps.demo.management.base import DemoCommand


class Command(DemoCommand):
    help = "Run the opportunity detectors on the demo project and list what they found."
    run_first = "demo_setup and demo_traffic"

    def handle(self, *args: Any, **options: Any) -> None:
        self.demo_project(options["project"])
        call_command("detect_opportunities", project=options["project"], stdout=self.stdout)
