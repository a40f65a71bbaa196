"""The beat schedule: every periodic job of every app is on it, and names a task that exists."""

from __future__ import annotations

from django.conf import settings

from config.celery_app import app

# The jobs the product cannot do without: a budget never judged, an opportunity never found, a
# rollout never guarded or a stalled replay never resumed fail silently, so each is pinned here.
REQUIRED = {
    "spend.tick",
    "opportunities.detect_due",
    "policies.guard_tick",
    "policies.recommend_all",
    "replay.check_schedules",
    "replay.resume_stalled",
    "pricing.plan_pending_recomputes",
    "billing.report_usage",
}


def test_every_periodic_job_is_scheduled_and_exists() -> None:
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled >= REQUIRED, REQUIRED - scheduled
    missing = sorted(name for name in scheduled if name not in app.tasks)
    assert missing == []
