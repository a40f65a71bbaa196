"""Choosing which calls to replay: a stratified sample of an endpoint's replayable traffic.

Only the endpoint's own calls count (not those already routed to a candidate or a fallback), of
its busiest model (the baseline), in a window (the last 30 days by default). Of those, a call can
be replayed when it succeeded and its request and response were captured, and no redaction
changed its meaning; the rest are counted by reason and shown before the job starts. The sample
is stratified over time (4 bins) and prompt length (quartiles), allocated proportionally so the
plain mean stays unbiased, and spread across users within each stratum. Its size comes from the
confidence and margin a person asks for (apps.replay.stats.sample_size).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apps.core.errors import ApplicationError
from apps.pricing.cost import Usage
from apps.pricing.usage import from_call
from apps.replay.providers.base import ChatRequest
from apps.replay.providers.translate import Unsupported, parse_answer, parse_request
from apps.replay.sql import sql
from apps.warehouse.client import ProjectScope

FEATURE = "replay.sampling"
WINDOW = timedelta(days=30)
TIME_BINS = 4
LENGTH_BINS = 4
LOAD_BATCH = 500


@dataclass(frozen=True)
class Population:
    baseline_provider: str
    baseline_model: str
    eligible: int
    excluded: dict[str, int]
    since: datetime
    until: datetime
    length_cuts: tuple[float, float, float]
    first_ms: int
    last_ms: int
    mean_input_tokens: float
    mean_output_tokens: float
    need_feedback: bool


@dataclass(frozen=True)
class Drawn:
    event_id: uuid.UUID
    stratum: int


@dataclass
class Sample:
    """One sampled call, ready to replay: parsed request, the app's answer, its usage and cost."""

    event_id: uuid.UUID
    ts: datetime
    stratum: int
    request: ChatRequest
    baseline: str
    usage: Usage
    baseline_cost_nano: int | None
    latency_ms: int
    feedback: float | None = None
    feedback_comment: str = ""
    conversation_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _window(until: datetime | None) -> tuple[datetime, datetime]:
    end = until or datetime.now(UTC)
    return end - WINDOW, end


def endpoint_models(
    *, project_id: int, endpoint: str, until: datetime | None = None
) -> list[tuple[str, str, int]]:
    since, end = _window(until)
    rows = (
        ProjectScope(project_id)
        .query(sql("endpoint_models"), {"endpoint": endpoint, "since": since, "until": end}, feature=FEATURE)
        .rows
    )
    return [(str(p), str(m), int(c)) for p, m, c in rows]


def refusal_detail(
    *,
    endpoint: str,
    baseline: str,
    excluded: dict[str, int],
    since: datetime,
    until: datetime,
    examples: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What a `nothing_to_replay` refusal carries: every reason calls were left out, with counts."""
    return {
        "endpoint": endpoint,
        "baseline": baseline,
        "excluded": {k: v for k, v in excluded.items() if v},
        "since": since,
        "until": until,
        "examples": examples or {},
    }


def population(
    *, project_id: int, endpoint: str, need_feedback: bool = False, until: datetime | None = None
) -> Population:
    """The baseline and what of its traffic can be replayed; ApplicationError when nothing can."""
    since, end = _window(until)
    models = endpoint_models(project_id=project_id, endpoint=endpoint, until=end)
    if not models:
        raise ApplicationError(
            f"Endpoint {endpoint!r} has no calls in the last {WINDOW.days} days",
            code="no_traffic",
            field="endpoint",
        )
    provider, model, _ = models[0]
    result = ProjectScope(project_id).query(
        sql("sample_profile"),
        {
            "endpoint": endpoint,
            "since": since,
            "until": end,
            "provider": provider,
            "model": model,
            "need_feedback": int(need_feedback),
        },
        feature=FEATURE,
    )
    excluded = {"other_model": sum(c for _, _, c in models[1:])}
    eligible: dict[str, Any] = {}
    for row in result.dicts():
        if row["reason"] == "eligible":
            eligible = row
        else:
            excluded[str(row["reason"])] = int(row["calls"])
    if not eligible:
        hint = (
            "turn on payload capture under Ingest settings"
            if excluded.get("no_payload")
            else "every call was left out, for the reasons listed"
        )
        if need_feedback:
            hint = "the feedback evaluator needs calls with user feedback (POST /v1/feedback)"
        raise ApplicationError(
            f"No call of endpoint {endpoint!r} ({provider}/{model}) in the last {WINDOW.days} days can be replayed: {hint}",
            code="nothing_to_replay",
            field="endpoint",
            detail=refusal_detail(
                endpoint=endpoint,
                baseline=f"{provider}/{model}",
                excluded=excluded,
                since=since,
                until=end,
            ),
        )
    cuts = [float(x) for x in eligible["length_cuts"]]
    return Population(
        baseline_provider=provider,
        baseline_model=model,
        eligible=int(eligible["calls"]),
        excluded={k: v for k, v in excluded.items() if v},
        since=since,
        until=end,
        length_cuts=(cuts[0], cuts[1], cuts[2]),
        first_ms=int(eligible["first_ms"]),
        last_ms=int(eligible["last_ms"]),
        mean_input_tokens=float(eligible["mean_input"]),
        mean_output_tokens=float(eligible["mean_output"]),
        need_feedback=need_feedback,
    )


def _params(pop: Population, *, endpoint: str) -> dict[str, Any]:
    span = max(1, pop.last_ms - pop.first_ms + 1)
    return {
        "endpoint": endpoint,
        "since": pop.since,
        "until": pop.until,
        "provider": pop.baseline_provider,
        "model": pop.baseline_model,
        "need_feedback": int(pop.need_feedback),
        "t0": pop.first_ms,
        "tstep": -(-span // TIME_BINS),
        "c1": pop.length_cuts[0],
        "c2": pop.length_cuts[1],
        "c3": pop.length_cuts[2],
    }


def strata_counts(pop: Population, *, project_id: int, endpoint: str) -> list[int]:
    counts = [0] * (TIME_BINS * LENGTH_BINS)
    rows = (
        ProjectScope(project_id)
        .query(sql("sample_strata"), _params(pop, endpoint=endpoint), feature=FEATURE)
        .rows
    )
    for stratum, calls in rows:
        counts[int(stratum)] = int(calls)
    return counts


def allocate(counts: list[int], n: int) -> list[int]:
    """Proportional allocation by largest remainder: sums to n (≤ total), never above a stratum."""
    total = sum(counts)
    n = min(n, total)
    if total == 0 or n == 0:
        return [0] * len(counts)
    exact = [c * n / total for c in counts]
    alloc = [int(x) for x in exact]
    order = sorted(range(len(counts)), key=lambda i: (exact[i] - alloc[i], counts[i]), reverse=True)
    for i in order[: n - sum(alloc)]:
        alloc[i] += 1
    return [min(a, c) for a, c in zip(alloc, counts, strict=True)]


def draw(*, pop: Population, project_id: int, endpoint: str, n: int, seed: int) -> list[Drawn]:
    """n calls (or all, when fewer are eligible), stratified; in random order."""
    alloc = allocate(strata_counts(pop, project_id=project_id, endpoint=endpoint), n)
    params = {**_params(pop, endpoint=endpoint), "seed": seed & 0xFFFFFFFFFFFFFFFF, "alloc": alloc}
    rows = ProjectScope(project_id).query(sql("sample_draw"), params, feature=FEATURE).rows
    return [Drawn(event_id=row[0], stratum=int(row[1])) for row in rows]


def monthly_calls(
    *, project_id: int, endpoint: str, provider: str, model: str, now: datetime | None = None
) -> int:
    """Calls in the last 30 days that a policy for this baseline model applies to (the volume
    monthly savings are projected on): the endpoint's calls of that model, routed ones included
    (they carry the model the app asked for). Calls the app makes to other models do not count."""
    since = (now or datetime.now(UTC)) - WINDOW
    params = {"endpoint": endpoint, "since": since.replace(tzinfo=None), "provider": provider, "model": model}
    value = ProjectScope(project_id).query(sql("endpoint_volume"), params, feature=FEATURE).scalar()
    return int(value or 0)


DRIFT_WINDOW = timedelta(days=7)


def traffic_profile(*, project_id: int, endpoint: str, now: datetime | None = None) -> dict[str, float]:
    """Calls and mean prompt tokens of the last 7 days (what drift is measured on), from the rollup."""
    since = (now or datetime.now(UTC)) - DRIFT_WINDOW
    rows = (
        ProjectScope(project_id)
        .query(
            sql("endpoint_profile"),
            {"endpoint": endpoint, "since": since.replace(tzinfo=None)},
            feature=FEATURE,
        )
        .dicts()
    )
    if not rows or not rows[0]["total_calls"]:
        return {"calls_7d": 0.0, "mean_input_tokens_7d": 0.0}
    return {
        "calls_7d": float(rows[0]["total_calls"]),
        "mean_input_tokens_7d": float(rows[0]["mean_input_tokens"] or 0),
    }


def normalise_feedback(kind: str, score: float) -> float:
    """Thumbs → 1 or 0; scores in [0, 1] as they are; larger scores as a 1–5 rating."""
    if kind == "thumbs":
        return 1.0 if score > 0 else 0.0
    if score <= 1:
        return max(0.0, score)
    return min(1.0, score / 5)


def load(
    *,
    project_id: int,
    endpoint: str,
    since: datetime,
    until: datetime,
    drawn: Iterable[Drawn],
    with_feedback: bool = True,
) -> tuple[dict[uuid.UUID, Sample], dict[uuid.UUID, str]]:
    """The drawn calls parsed for replay, and those that cannot be replayed with the reason."""
    strata = {d.event_id: d.stratum for d in drawn}
    ids = list(strata)
    samples: dict[uuid.UUID, Sample] = {}
    unusable: dict[uuid.UUID, str] = {}
    scope = ProjectScope(project_id)
    for start in range(0, len(ids), LOAD_BATCH):
        batch = ids[start : start + LOAD_BATCH]
        params = {"endpoint": endpoint, "since": since, "until": until, "ids": batch}
        for row in scope.query(sql("sample_calls"), params, feature=FEATURE).dicts():
            event_id = row["event_id"]
            try:
                request = parse_request(json.loads(row["request"]))
                baseline = parse_answer(json.loads(row["response"]))
            except (Unsupported, ValueError) as exc:
                unusable[event_id] = f"cannot be replayed: {exc}"[:300]
                continue
            if not baseline.strip():
                unusable[event_id] = "the app's answer is empty"
                continue
            cost = row["cost_nano_usd"]
            samples[event_id] = Sample(
                event_id=event_id,
                ts=_utc(row["ts"]),
                stratum=strata[event_id],
                request=request,
                baseline=baseline,
                usage=from_call(row),
                baseline_cost_nano=int(cost) if cost is not None else None,
                latency_ms=int(row["latency_ms"]),
                conversation_id=str(row["conversation_id"] or ""),
            )
        if with_feedback:
            feedback = scope.query(sql("sample_feedback"), {"ids": batch}, feature=FEATURE)
            for row in feedback.dicts():
                sample = samples.get(row["event_id"])
                if sample is not None:
                    sample.feedback = normalise_feedback(str(row["kind"]), float(row["score"]))
                    sample.feedback_comment = str(row["comment"] or "")
    for event_id in ids:
        if event_id not in samples and event_id not in unusable:
            unusable[event_id] = "no longer stored (retention)"
    return samples, unusable
