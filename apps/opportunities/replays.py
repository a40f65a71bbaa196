"""A superseded model's finding, tied into replay: queue a replay of the endpoint with the
successor as the candidate, so the switch is made on evidence from the endpoint's own calls.

The replay is planned like any other (apps.replay: captured calls only, the evaluator inferred,
the spend cap the project's replay schedule sets per job, else the default). The successor runs
for real when the organisation has a key for its provider, simulated otherwise (and the replay
says so). The finding remembers the job.
"""

from __future__ import annotations

from apps.accounts.models import Person
from apps.core.errors import ApplicationError
from apps.opportunities.models import Kind, Opportunity
from apps.opportunities.services import require_member
from apps.replay.models import ReplaySchedule
from apps.replay.selectors import connection_providers
from apps.replay.services.jobs import replay_job_create
from apps.replay.services.planning import DEFAULT_CAP_NANO, CandidateSpec, ReplaySpec


def opportunity_queue_replay(*, opportunity: Opportunity, actor: Person | None) -> int:
    """Queue the replay; returns the job's id."""
    project = opportunity.project
    require_member(actor=actor, project=project)
    successor = str(opportunity.evidence.get("successor") or "")
    if opportunity.kind != Kind.MODEL or "/" not in successor:
        raise ApplicationError("Only a superseded model with a named successor can be replayed from here")
    provider, model = successor.split("/", 1)
    simulated = provider not in connection_providers(organization_id=project.organization_id)
    schedule = ReplaySchedule.objects.filter(project=project).first()
    cap = (
        schedule.job_spend_cap_nano
        if schedule is not None and schedule.job_spend_cap_nano
        else DEFAULT_CAP_NANO
    )
    job = replay_job_create(
        project=project,
        actor=actor,
        spec=ReplaySpec(
            endpoint=opportunity.endpoint,
            candidates=(CandidateSpec(provider, model, simulated),),
            spend_cap_nano=cap,
        ),
        trigger="opportunity:model",
    )
    opportunity.replay_job_id = job.pk
    opportunity.save(update_fields=["replay_job_id", "updated_at"])
    return int(job.pk)
