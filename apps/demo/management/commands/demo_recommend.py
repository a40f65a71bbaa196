"""Recommendations for the demo project's endpoints from their replay evidence (run after
demo_replay; idempotent: the same evidence gives the same recommendations)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from apps.demo.management.base import DemoCommand
from apps.policies.domain import signing
from apps.policies.services.publish import config_publish
from apps.policies.services.recommend import recommendations_refresh_project
from apps.routing.options import usd

PUBLIC_KEYS_FILE = "demo-config-public-keys.txt"


class Command(DemoCommand):
    help = "Make routing recommendations for the demo project from its replay evidence (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        project = self.demo_project(options["project"])
        config = config_publish(project_id=project.pk, reason="demo")
        recommendations = recommendations_refresh_project(project=project)
        if not recommendations:
            self.stdout.write(
                self.style.WARNING(
                    "No replay evidence yet: run `manage.py demo_replay`, then this command again."
                )
            )
        for rec in sorted(recommendations, key=lambda r: r.endpoint):
            simulated = (
                f", simulated {' and '.join(rec.simulated_parts or ['evidence'])}" if rec.simulated else ""
            )
            if rec.strategy == "none":
                line = f"  {rec.endpoint:18s} no change{simulated} — {rec.summary[:140]}"
            else:
                line = (
                    f"  {rec.endpoint:18s} {rec.strategy} → {rec.target}: saves {usd(rec.monthly_savings_nano or 0)}"
                    f"/month, keeps {(rec.retention or 0):.1%} of quality [{rec.get_status_display().lower()}{simulated}]"
                )
            self.stdout.write(line)
        keys = signing.public_keys_env()
        path = settings.VAR_DIR / PUBLIC_KEYS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(keys + "\n")
        self.stdout.write(self.style.SUCCESS(f"Recommendations ready: {len(recommendations)} endpoints."))
        self.stdout.write(f"  Review:      http://127.0.0.1:8000/projects/{project.pk}/routing/")
        self.stdout.write(f"  Config:      GET /v1/config (version {config.config_version} in force)")
        self.stdout.write(f"  SDK trusts:  SWITCHYARD_CONFIG_PUBLIC_KEYS={keys}  (also in {path})")
        self.stdout.write("  Try it:      .venv/bin/python examples/routed_app.py")
