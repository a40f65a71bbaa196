"""A finished replay for every demo endpoint, on simulated candidates (run after demo_traffic).

Idempotent: an endpoint that already has a finished replay is left alone. Each endpoint gets up to
three cheaper catalogue models as candidates, run on the `sim` provider (no key, no cost, labelled
simulated), with the evaluator inferred from its traffic, on `DEMO_SAMPLES` sampled calls: what a
real replay sized for ±5 % at 95 % confidence would send, and enough for the estimate's confirming
part to make a promise where the simulated quality allows one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from apps.core import background
from apps.core.errors import ApplicationError
from apps.demo.management.base import DemoCommand
from apps.pricing.cost import Usage
from apps.pricing.selectors import price_book_load
from apps.replay import sampling
from apps.replay.models import JobStatus, ReplayJob
from apps.replay.selectors import endpoints_of_project
from apps.replay.services.jobs import replay_job_create
from apps.replay.services.planning import CandidateSpec, ReplaySpec

DEMO_SAMPLES = 400
# Well-known cheaper models, in the order the demo prefers them.
PREFERRED = (
    ("openai", "gpt-4.1-mini"),
    ("anthropic", "claude-haiku-4-5"),
    ("google", "gemini-2.5-flash"),
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4.1-nano"),
    ("google", "gemini-2.5-flash-lite"),
    ("deepseek", "deepseek-chat"),
    ("mistral", "mistral-small-latest"),
)
CANDIDATES_PER_ENDPOINT = 3


def cheaper_candidates(
    *, organization_id: int, provider: str, model: str, usage: Usage
) -> list[CandidateSpec]:
    """Up to three preferred models that cost less than the baseline for a typical call."""
    book = price_book_load(organization_id=organization_id)
    now = datetime.now(UTC)
    base = book.cost(provider=provider, model=model, ts=now, usage=usage)
    if base is None:
        return []
    out: list[CandidateSpec] = []
    for cand_provider, cand_model in PREFERRED:
        if (cand_provider, cand_model) == (provider, model):
            continue
        price = book.cost(provider=cand_provider, model=cand_model, ts=now, usage=usage)
        if price is not None and price.nano_usd < base.nano_usd:
            out.append(CandidateSpec(cand_provider, cand_model, simulated=True))
        if len(out) == CANDIDATES_PER_ENDPOINT:
            break
    return out


class Command(DemoCommand):
    help = "Run a simulated replay for every demo endpoint that has none yet (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        project = self.demo_project(options["project"])
        done = set(
            ReplayJob.objects.filter(project=project, status=JobStatus.DONE).values_list(
                "endpoint", flat=True
            )
        )
        started: list[ReplayJob] = []
        for endpoint, _calls in endpoints_of_project(project_id=project.pk):
            if endpoint in done:
                self.stdout.write(f"  {endpoint:18s} already replayed")
                continue
            try:
                pop = sampling.population(project_id=project.pk, endpoint=endpoint)
                usage = Usage(
                    input_tokens=round(pop.mean_input_tokens), output_tokens=round(pop.mean_output_tokens)
                )
                candidates = cheaper_candidates(
                    organization_id=project.organization_id,
                    provider=pop.baseline_provider,
                    model=pop.baseline_model,
                    usage=usage,
                )
                if not candidates:
                    self.stdout.write(f"  {endpoint:18s} no cheaper model in the catalogue")
                    continue
                spec = ReplaySpec(
                    endpoint=endpoint,
                    candidates=tuple(candidates),
                    confidence=0.95,
                    margin=0.05,
                    sample_size=DEMO_SAMPLES,
                    spend_cap_nano=0,
                )
                started.append(replay_job_create(project=project, actor=None, spec=spec, trigger="demo"))
            except ApplicationError as exc:
                self.stdout.write(self.style.WARNING(f"  {endpoint:18s} not replayed: {exc.message}"))
        if not started:
            self.stdout.write(self.style.SUCCESS("Replays ready (nothing new to run)."))
            return
        if background.uses_broker():
            self.stdout.write(self.style.SUCCESS(f"{len(started)} replays queued on the Celery workers."))
            return
        background.drain(timeout=1800)
        for job in started:
            job.refresh_from_db()
            best = job.results.order_by("-monthly_savings_nano").first()
            line = f"  {job.endpoint:18s} replay #{job.pk} {job.status} (simulated): {job.sample_size} samples, {job.evaluator}"
            if best is not None:
                line += f"; best {best.key} keeps {best.retention:.0%} of quality, saves ${best.monthly_savings_nano / 1e9:,.2f}/month"
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS(f"Replays ready: {len(started)} endpoints (simulated candidates).")
        )
