"""Replaying again on its own: when prices change, new models arrive, or traffic drifts.

Per project, a `ReplaySchedule` turns the triggers on, sets a monthly replay budget and a cap per
job. Every hour (beat task `replay.check_schedules`) each endpoint whose newest finished replay is
older than a trigger gets a new job with the same candidates and confidence, and the same evaluator
when a person chose it (else the evaluator is inferred again from the new sample):

- price change: a price (catalogue or the organisation's own) of the baseline or a candidate was
  added or changed after that replay;
- new model: a model was added to the catalogue after that replay, priced below the baseline; it
  joins the candidates when the organisation can reach its provider (or the last replay was
  simulated, so it is simulated too);
- drift: the endpoint's mean prompt length or daily volume over the last 7 days moved by more
  than the threshold from the replay's fingerprint.

A job's cap is the schedule's cap, trimmed to what is left of the monthly budget (spend of this
calendar month's scheduled jobs, counting the caps of those still running); a trigger that does
not fit is noted and retried next hour.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Q, Sum
from django.utils import timezone

from apps.accounts.models import Person, Project, Role
from apps.accounts.services import require_role
from apps.core.errors import ApplicationError
from apps.pricing.cost import Usage
from apps.pricing.models import LlmModel, Price
from apps.pricing.selectors import price_book_load
from apps.replay import sampling
from apps.replay.engine.costs import is_priced
from apps.replay.models import ACTIVE_STATUSES, PERSON_CHOICE, JobStatus, ReplayJob, ReplaySchedule
from apps.replay.selectors import connection_providers
from apps.replay.services.jobs import replay_job_create
from apps.replay.services.planning import CandidateSpec, ReplaySpec

logger = logging.getLogger(__name__)
FEATURE = "replay.schedules"
DRIFT_WINDOW = timedelta(days=7)
MAX_NEW_CANDIDATES = 2


@dataclass(frozen=True)
class Trigger:
    endpoint: str
    reason: str  # price_change | new_model | drift
    detail: str
    new_candidates: tuple[CandidateSpec, ...] = ()


def schedule_get(*, project: Project) -> ReplaySchedule:
    schedule, _ = ReplaySchedule.objects.get_or_create(project=project)
    return schedule


def schedule_update(*, project: Project, actor: Person | None, **fields: Any) -> ReplaySchedule:
    if actor is not None:
        require_role(user=actor, organization=project.organization, at_least=Role.ADMIN)
    schedule = schedule_get(project=project)
    allowed = {
        "enabled",
        "on_price_change",
        "on_new_model",
        "on_drift",
        "drift_threshold",
        "monthly_budget_nano",
        "job_spend_cap_nano",
    }
    for name, value in fields.items():
        if name not in allowed:
            raise ApplicationError(f"unknown schedule field {name!r}")
        setattr(schedule, name, value)
    if schedule.drift_threshold <= 0:
        raise ApplicationError("drift_threshold: must be above 0", field="drift_threshold")
    if schedule.monthly_budget_nano < 0 or schedule.job_spend_cap_nano < 0:
        raise ApplicationError("budgets must not be negative", field="monthly_budget")
    if schedule.enabled and schedule.job_spend_cap_nano > schedule.monthly_budget_nano:
        raise ApplicationError("the cap per job must not exceed the monthly budget", field="job_spend_cap")
    schedule.save()
    return schedule


def latest_finished_jobs(*, project_id: int) -> dict[str, ReplayJob]:
    latest: dict[str, ReplayJob] = {}
    for job in ReplayJob.objects.filter(project_id=project_id, status=JobStatus.DONE).order_by(
        "endpoint", "-finished_at"
    ):
        latest.setdefault(job.endpoint, job)
    return latest


def _models(job: ReplayJob) -> list[tuple[str, str]]:
    return [(job.baseline_provider, job.baseline_model)] + [
        (c["provider"], c["model"]) for c in job.candidates
    ]


def _price_changed(job: ReplayJob, since: datetime) -> str:
    book = price_book_load(organization_id=job.organization_id)
    model_ids = [r.model_id for p, m in _models(job) if (r := book.resolve(p, m)) is not None]
    changed = Price.objects.filter(
        Q(organization__isnull=True) | Q(organization_id=job.organization_id),
        model_id__in=model_ids,
        updated_at__gt=since,
    ).select_related("model__provider")
    first = changed.first()
    return f"price of {first.model} changed" if first is not None else ""


def _new_models(job: ReplayJob, since: datetime) -> list[CandidateSpec]:
    book = price_book_load(organization_id=job.organization_id)
    baseline = book.cost(
        provider=job.baseline_provider,
        model=job.baseline_model,
        ts=datetime.now(UTC),
        usage=_typical(job),
    )
    if baseline is None:
        return []
    reachable = connection_providers(organization_id=job.organization_id)
    known = {(c["provider"], c["model"]) for c in job.candidates}
    found: list[tuple[int, CandidateSpec]] = []
    fresh = LlmModel.objects.filter(
        Q(organization__isnull=True) | Q(organization_id=job.organization_id), created_at__gt=since
    ).select_related("provider")
    for model in fresh:
        provider = model.provider.slug
        if (provider, model.name) in known or not is_priced(book, provider, model.name):
            continue
        simulated = job.simulated or provider not in reachable
        if simulated and not job.simulated:
            continue  # the organisation cannot reach it, and this endpoint replays for real
        cost = book.cost(provider=provider, model=model.name, ts=datetime.now(UTC), usage=_typical(job))
        if cost is not None and cost.nano_usd < baseline.nano_usd:
            found.append((cost.nano_usd, CandidateSpec(provider, model.name, simulated)))
    return [spec for _, spec in sorted(found, key=lambda pair: pair[0])[:MAX_NEW_CANDIDATES]]


def _typical(job: ReplayJob) -> Usage:
    fp = job.fingerprint or {}
    return Usage(
        input_tokens=int(fp.get("mean_input_tokens", 1000)),
        output_tokens=int(fp.get("mean_output_tokens", 300)),
    )


def _drift(job: ReplayJob, threshold: float) -> str:
    """Mean prompt length or volume of the last 7 days, against the same measure when it was replayed."""
    then = job.fingerprint or {}
    now = sampling.traffic_profile(project_id=job.project_id, endpoint=job.endpoint)
    for label, key in (("mean prompt length", "mean_input_tokens_7d"), ("weekly volume", "calls_7d")):
        before, after = float(then.get(key) or 0), now[key]
        if before > 0 and abs(after - before) / before > threshold:
            return f"{label} moved from {before:,.0f} to {after:,.0f}"
    return ""


def triggers_for(*, schedule: ReplaySchedule) -> list[Trigger]:
    out: list[Trigger] = []
    for endpoint, job in latest_finished_jobs(project_id=schedule.project_id).items():
        since = job.created_at
        if ReplayJob.objects.filter(
            project_id=schedule.project_id, endpoint=endpoint, status__in=ACTIVE_STATUSES
        ).exists():
            continue
        if schedule.on_new_model and (new := _new_models(job, since)):
            out.append(Trigger(endpoint, "new_model", ", ".join(c.key for c in new) + " added", tuple(new)))
        elif schedule.on_price_change and (why := _price_changed(job, since)):
            out.append(Trigger(endpoint, "price_change", why))
        elif schedule.on_drift and (why := _drift(job, schedule.drift_threshold)):
            out.append(Trigger(endpoint, "drift", why))
    return out


def month_spend(*, project_id: int) -> int:
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    jobs = ReplayJob.objects.filter(
        project_id=project_id, trigger__startswith="schedule:", created_at__gte=start
    )
    done = jobs.exclude(status__in=ACTIVE_STATUSES).aggregate(s=Sum("spent_nano"))["s"] or 0
    running = jobs.filter(status__in=ACTIVE_STATUSES).aggregate(s=Sum("spend_cap_nano"))["s"] or 0
    return int(done) + int(running)


def _spec_from(job: ReplayJob, trigger: Trigger, cap: int) -> ReplaySpec:
    candidates = [CandidateSpec(c["provider"], c["model"], bool(c.get("simulated"))) for c in job.candidates]
    candidates += [c for c in trigger.new_candidates if c.key not in {x.key for x in candidates}]
    config = dict(job.evaluator_config or {})
    judge_spec = config.pop("judge", None)
    judge = (  # a default judge is chosen again: real if a key for it was added since
        CandidateSpec(judge_spec["provider"], judge_spec["model"], bool(judge_spec.get("simulated")))
        if judge_spec and not judge_spec.get("default")
        else None
    )
    return ReplaySpec(
        endpoint=job.endpoint,
        candidates=tuple(candidates[:8]),
        # A person's choice sticks; one the traffic made is made again from the new sample.
        evaluator=job.evaluator if job.evaluator_reason == PERSON_CHOICE else "auto",
        evaluator_config=config,
        judge=judge,
        confidence=job.confidence,
        margin=job.margin,
        spend_cap_nano=cap,
        seed=job.seed + 1,
    )


def replay_schedules_check(*, now: datetime | None = None) -> list[ReplayJob]:
    """Start the replays the project schedules call for; returns the jobs started."""
    started: list[ReplayJob] = []
    for schedule in ReplaySchedule.objects.filter(enabled=True).select_related("project__organization"):
        notes: list[str] = []
        try:
            for trigger in triggers_for(schedule=schedule):
                left = schedule.monthly_budget_nano - month_spend(project_id=schedule.project_id)
                cap = min(schedule.job_spend_cap_nano, left)
                last = latest_finished_jobs(project_id=schedule.project_id)[trigger.endpoint]
                try:
                    if cap <= 0 and not last.simulated:
                        raise ApplicationError("this month's replay budget is used up")
                    job = replay_job_create(
                        project=schedule.project,
                        actor=None,
                        spec=_spec_from(last, trigger, max(cap, 0)),
                        trigger=f"schedule:{trigger.reason}",
                    )
                except ApplicationError as exc:
                    notes.append(f"{trigger.endpoint}: {trigger.detail}, not replayed: {exc.message}")
                    continue
                started.append(job)
                notes.append(f"{trigger.endpoint}: {trigger.detail}, replay #{job.pk} started")
        except Exception as exc:  # one project's trouble must not stop the others
            logger.exception("replay schedule of project %s failed", schedule.project_id)
            notes.append(f"check failed: {type(exc).__name__}: {exc}")
        schedule.last_checked_at = now or timezone.now()
        schedule.last_note = "\n".join(notes)[:4000] or "nothing changed"
        schedule.save(update_fields=["last_checked_at", "last_note", "updated_at"])
    return started
