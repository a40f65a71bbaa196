"""Demo traffic: 30 days of an application's LLM calls, stored through the real ingest path.

Eight endpoints with their own models, prompt and answer sizes, latencies and failure rates;
working-hours and weekday seasonality, a slow drift in volume, a provider incident every 11 days,
and captured payloads that look like each endpoint's work; then four that waste money the way
real apps do (apps.demo.waste), for the Opportunities page. Everything is a function of (seed,
hour): the calls of a given hour are the same on every run, with the same event ids and times, so
running again stores nothing twice (ingest de-duplicates on event id) and only fills in the hours
since the last run.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from apps.accounts.models import ApiKey, Project
from apps.accounts.selectors import KeyPrincipal
from apps.demo import waste
from apps.demo.payloads import GENERATORS
from apps.ingest.limits import RateLimited
from apps.ingest.services import store_events

BATCH = 5_000
DAILY_CALLS = 5_000  # at the start of the window, before growth and seasonality
HOUR_SHAPE = (  # relative volume per UTC hour: a European working day with a US tail
    0.25, 0.2, 0.18, 0.18, 0.2, 0.3, 0.5, 0.9, 1.4, 1.8, 1.9, 1.85,
    1.6, 1.75, 1.85, 1.8, 1.6, 1.4, 1.2, 1.0, 0.8, 0.6, 0.45, 0.32,
)  # fmt: skip
_SHAPE_MEAN = sum(HOUR_SHAPE) / len(HOUR_SHAPE)
# The demo app's customers (apps.spend): each user belongs to one.
ACCOUNTS = ("acme", "globex", "initech", "umbrella", "hooli", "stark-industries", "wayne-enterprises", "wonka",
            "tyrell", "cyberdyne", "soylent", "massive-dynamic", "aperture", "vandelay", "pied-piper",
            "dunder-mifflin", "oscorp", "gringotts", "monsters-inc", "duff")  # fmt: skip
ERROR_TYPES = {
    "openai": ("RateLimitError", "APIConnectionError", "InternalServerError"),
    "anthropic": ("overloaded_error", "rate_limit_error", "api_error"),
    "google": ("RESOURCE_EXHAUSTED", "UNAVAILABLE"),
}


@dataclass(frozen=True)
class Profile:
    endpoint: str
    share: float  # of all calls
    models: tuple[tuple[str, str, float], ...]  # (provider, model, share of this endpoint's calls)
    input_tokens: int  # median
    output_tokens: int  # median
    spread: float  # lognormal sigma of token counts
    cached: float  # share of the prompt read from the provider's cache
    latency_ms: int  # fixed part
    ms_per_output_token: float
    error_rate: float
    timeout_rate: float
    weekend: float  # weekend volume relative to weekdays
    office_hours: float  # 0 = flat over the day, 1 = follows HOUR_SHAPE fully
    streams: bool  # reports time to first token
    reasoning: float = 0.0  # share of output tokens spent reasoning (reasoning models)


PROFILES: tuple[Profile, ...] = (
    Profile("classify-ticket", 0.34, (("openai", "gpt-4o-mini", 0.85), ("openai", "gpt-4.1-nano", 0.15)),
            450, 4, 0.35, 0.0, 280, 8.0, 0.004, 0.001, 0.55, 0.7, False),
    Profile("faq-answer", 0.20, (("anthropic", "claude-haiku-4-5", 1.0),),
            2200, 170, 0.3, 0.7, 450, 9.0, 0.006, 0.002, 0.6, 0.8, True),
    Profile("extract-invoice", 0.14, (("openai", "gpt-4.1-mini", 0.7), ("google", "gemini-2.5-flash", 0.3)),
            1800, 260, 0.4, 0.0, 500, 6.0, 0.008, 0.003, 0.3, 0.9, False),
    Profile("summarise-thread", 0.10, (("anthropic", "claude-sonnet-4-5", 0.8), ("openai", "gpt-4o", 0.2)),
            5200, 330, 0.5, 0.2, 900, 14.0, 0.01, 0.004, 0.4, 0.9, True),
    Profile("draft-email", 0.08, (("openai", "gpt-4o", 1.0),),
            700, 320, 0.35, 0.0, 600, 11.0, 0.007, 0.002, 0.2, 1.0, True),
    Profile("sql-generation", 0.06, (("openai", "gpt-4.1", 1.0),),
            2600, 140, 0.3, 0.5, 700, 12.0, 0.01, 0.002, 0.25, 1.0, False),
    Profile("codegen", 0.05, (("anthropic", "claude-sonnet-4-5", 1.0),),
            3200, 850, 0.55, 0.3, 1200, 16.0, 0.012, 0.006, 0.15, 1.0, True),
    Profile("complex-analysis", 0.03, (("openai", "o3", 0.6), ("anthropic", "claude-opus-4-5", 0.4)),
            8500, 2400, 0.45, 0.1, 4000, 11.0, 0.015, 0.02, 0.3, 1.0, False, reasoning=0.6),
)  # fmt: skip


@dataclass(frozen=True)
class Incident:
    """Every `every_days` days one endpoint's provider fails often and slowly for a few hours."""

    endpoint: str
    every_days: int
    hour: int  # UTC hour the incident starts
    hours: int
    error_rate: float
    slowdown: float


INCIDENT = Incident("extract-invoice", every_days=11, hour=13, hours=3, error_rate=0.22, slowdown=2.5)
TREND_DAYS = 120  # volume drifts ±15 % over this period (a function of the date, not of `now`)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 50:  # normal approximation: fine at these volumes, and fast
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _lognormal(rng: random.Random, median: float, sigma: float) -> int:
    return max(1, round(median * math.exp(rng.gauss(0.0, sigma))))


def _event_id(seed: int, hour: int, endpoint: str, index: int) -> uuid.UUID:
    digest = hashlib.sha256(f"switchyard-demo:{seed}:{hour}:{endpoint}:{index}".encode()).digest()
    return uuid.UUID(bytes=digest[:16], version=4)


def _pick_model(rng: random.Random, profile: Profile) -> tuple[str, str]:
    roll, acc = rng.random(), 0.0
    for provider, model, share in profile.models:
        acc += share
        if roll < acc:
            return provider, model
    return profile.models[-1][0], profile.models[-1][1]


def _hour_rate(profile: Profile, hour_start: datetime, daily_calls: float) -> float:
    shape = HOUR_SHAPE[hour_start.hour] / _SHAPE_MEAN
    shape = 1 + profile.office_hours * (shape - 1)
    weekday = profile.weekend if hour_start.weekday() >= 5 else 1.0
    day = hour_start.timestamp() / 86400
    trend = 1 + 0.15 * math.sin(2 * math.pi * day / TREND_DAYS)
    return daily_calls * profile.share / 24 * shape * weekday * trend


def _in_incident(profile: Profile, hour_start: datetime) -> bool:
    day = int(hour_start.timestamp() // 86400)
    return (
        profile.endpoint == INCIDENT.endpoint
        and day % INCIDENT.every_days == 0
        and INCIDENT.hour <= hour_start.hour < INCIDENT.hour + INCIDENT.hours
    )


def _call(
    rng: random.Random, profile: Profile, event_id: uuid.UUID, ts: datetime, incident: bool
) -> dict[str, Any]:
    provider, model = _pick_model(rng, profile)
    prompt = _lognormal(rng, profile.input_tokens, profile.spread)
    output = _lognormal(rng, profile.output_tokens, profile.spread)
    cached = int(prompt * profile.cached * rng.uniform(0.6, 1.0)) if profile.cached else 0
    latency = (profile.latency_ms + profile.ms_per_output_token * output) * math.exp(rng.gauss(0, 0.35))
    if rng.random() < 0.02:  # the slow tail every provider has
        latency *= rng.uniform(2.5, 6)
    if incident:
        latency *= INCIDENT.slowdown
    error_rate = INCIDENT.error_rate if incident else profile.error_rate
    roll = rng.random()
    status, error_type = "ok", ""
    if roll < profile.timeout_rate:
        status, error_type, latency = "timeout", "APITimeoutError", 60_000.0
    elif roll < profile.timeout_rate + error_rate:
        status, error_type = "error", rng.choice(ERROR_TYPES[provider])
        latency = min(latency, rng.uniform(80, 1500))
    failed = status != "ok"
    request, response = GENERATORS[profile.endpoint](rng, model)
    user = rng.randrange(1, 1500)
    event: dict[str, Any] = {
        "event_id": str(event_id),
        "ts": int(ts.timestamp() * 1000),
        "endpoint": profile.endpoint,
        "environment": "staging" if rng.random() < 0.03 else "production",
        "provider": provider,
        "model": model,
        # Anthropic reports cache reads beside input; OpenAI and Gemini inside it.
        "input_tokens": prompt - cached if provider == "anthropic" else prompt,
        "cached_input_tokens": cached,
        "output_tokens": 0 if failed else output,
        "reasoning_tokens": 0 if failed else int(output * profile.reasoning),
        "latency_ms": round(latency),
        "status": status,
        "error_type": error_type,
        "user_id": f"user-{user:04d}",
        "customer_id": ACCOUNTS[user % len(ACCOUNTS)],
        "conversation_id": f"conv-{profile.endpoint[:4]}-{user:04d}-{ts:%m%d}",
        "tags": [f"tier:{'pro' if user % 5 == 0 else 'free'}", f"lang:{('en', 'en', 'de', 'fr')[user % 4]}"],
        "metadata": {
            "region": "eu-west" if user % 3 else "us-east",
            "app_version": f"2.{14 + user % 3}.0",
        },
        "request": request,
        "response": None if failed else response,
    }
    if profile.streams and not failed:
        event["ttft_ms"] = round(latency * rng.uniform(0.08, 0.25))
    return event


def generate(*, now: datetime, days: int = 30, seed: int = 7, scale: float = 1.0) -> Iterator[dict[str, Any]]:
    """The demo's calls of the whole hours from `days` ago until `now`, oldest hour first.

    An hour's calls depend on the seed and the hour only. The window starts on the first whole
    hour inside it, so a run never re-sends calls that retention has already removed.
    """
    now = now.astimezone(UTC)
    start = now - timedelta(days=days)
    hour_start = start.replace(minute=0, second=0, microsecond=0)
    if hour_start < start:
        hour_start += timedelta(hours=1)
    daily = DAILY_CALLS * scale
    while hour_start <= now:
        hour = int(hour_start.timestamp()) // 3600
        rng = random.Random(f"switchyard-demo:{seed}:{hour}")  # noqa: S311 - demo data, reproducible on purpose
        for profile in PROFILES:
            count = _poisson(rng, _hour_rate(profile, hour_start, daily))
            incident = _in_incident(profile, hour_start)
            for index in range(count):
                ts = hour_start + timedelta(milliseconds=rng.randrange(3_600_000))
                event = _call(rng, profile, _event_id(seed, hour, profile.endpoint, index), ts, incident)
                if ts <= now:
                    yield event
        shape = 1 + 0.8 * (HOUR_SHAPE[hour_start.hour] / _SHAPE_MEAN - 1)
        weekday = 0.5 if hour_start.weekday() >= 5 else 1.0
        for make, mean in waste.plan(hour_start=hour_start, daily=daily, shape=shape, weekday=weekday):
            for event in make(rng, seed, hour, hour_start, _poisson(rng, mean)):
                if event["ts"] <= now.timestamp() * 1000:
                    yield event
        hour_start += timedelta(hours=1)


@dataclass(frozen=True)
class DemoReport:
    generated: int
    stored: int
    duplicates: int
    rejected: int
    seconds: float


def ingest_principal(project: Project) -> KeyPrincipal:
    """The project's ingest key as the ingest view would authenticate it."""
    key = (
        ApiKey.objects.filter(project=project, kind="ingest", revoked_at__isnull=True)
        .select_related("environment")
        .first()
    )
    if key is None:
        raise ValueError(f"Project {project.name} has no active ingest key: run demo_setup first")
    return KeyPrincipal(
        key_pk=key.pk,
        key_id=key.key_id,
        kind="ingest",
        project_id=project.pk,
        organization_id=project.organization_id,
        environment=key.environment.name,
    )


def demo_traffic_store(
    *, project: Project, now: datetime, days: int = 30, seed: int = 7, scale: float = 1.0
) -> DemoReport:
    """Generate the demo's calls and store them with apps.ingest.services.store_events."""
    principal = ingest_principal(project)
    days = min(days, project.retention_days)  # older calls would only be removed again
    encode = msgspec.json.Encoder().encode
    started = time.perf_counter()
    generated = stored = duplicates = rejected = 0
    batch: list[bytes] = []

    def flush() -> None:
        nonlocal stored, duplicates, rejected
        while True:
            try:
                outcome = store_events(principal=principal, raws=batch)
                break
            except RateLimited as exc:  # as an SDK would: wait as told, send the same batch again
                time.sleep(exc.retry_after)
        stored += outcome.accepted
        duplicates += outcome.duplicates
        rejected += len(outcome.rejected)
        batch.clear()

    for event in generate(now=now, days=days, seed=seed, scale=scale):
        batch.append(encode(event))
        generated += 1
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return DemoReport(generated, stored, duplicates, rejected, time.perf_counter() - started)
