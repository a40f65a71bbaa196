"""Batch or flex: latency-insensitive work paid at the standard tier.

An endpoint qualifies when its calls are not streamed (at most 5 % are) and it is background work:
a person marked it so, or its traffic says so — at least half its calls arrive in bursts (minutes
with at least max(10, 8 ×) its average rate: a job working through a queue, not people spread over
the day). An endpoint marked user-facing never qualifies. Its standard-tier calls are priced again
at the batch or flex tier of the same model, whichever the catalogue prices lower (a model with
neither has nothing to gain): saving = stored cost × (1 − tier cost / standard cost of the same
tokens).
"""

from __future__ import annotations

from collections import defaultdict

from apps.opportunities.detectors.base import Finding, Scan, worth_it
from apps.opportunities.detectors.traffic import Bursts, Traffic
from apps.opportunities.models import ActsOn, Kind, Latency
from apps.opportunities.projection import monthly
from apps.opportunities.rules import tier_change

MAX_STREAMED = 0.05
MIN_BURST_SHARE = 0.5
MODEL_REL = 0.05  # the tier's price is the catalogue's; only the volume is uncertain


def _why(latency: str, bursts: Bursts) -> str:
    if latency == Latency.BACKGROUND:
        return "marked latency-insensitive"
    return (
        f"{bursts.burst_share:.0%} of its calls arrive in bursts (up to {bursts.peak_per_minute:,} a minute), "
        "as a background job's do"
    )


def detect(scan: Scan, traffic: Traffic, traits: dict[str, str]) -> list[Finding]:
    findings = []
    for endpoint in scan.endpoints():
        latency = traits.get(endpoint, Latency.AUTO)
        seen = traffic.endpoint(endpoint)
        bursts = traffic.bursts.get(endpoint, Bursts())
        if latency == Latency.USER_FACING or not seen.calls or seen.streamed > MAX_STREAMED * seen.calls:
            continue
        if latency != Latency.BACKGROUND and bursts.burst_share < MIN_BURST_SHARE:
            continue
        finding = _finding(scan, endpoint, latency, bursts)
        if finding is not None:
            finding.evidence |= {
                "calls": seen.calls,
                "streamed_share": round(seen.streamed / seen.calls, 4),
                "burst_share": round(bursts.burst_share, 4),
                "peak_calls_per_minute": bursts.peak_per_minute,
                "without_user_share": round(seen.without_user / seen.calls, 4),
                "p50_latency_ms": round(seen.p50_latency_ms),
                "p95_latency_ms": round(seen.p95_latency_ms),
            }
            findings.append(finding)
    return findings


def _finding(scan: Scan, endpoint: str, latency: str, bursts: Bursts) -> Finding | None:
    by_day: dict[int, float] = defaultdict(float)
    models: list[dict[str, object]] = []
    tiers: dict[str, float] = defaultdict(float)
    discounts: list[float] = []
    for key, tokens in scan.tokens_by_model(endpoint, tiers=("standard",)).items():
        standard = scan.prices(key.provider, key.model)
        if standard is None or not standard.cost(tokens):
            continue
        offers = [
            p for t in ("batch", "flex") if (p := scan.prices(key.provider, key.model, t)) and p.tier == t
        ]
        if not offers:
            continue
        best = min(offers, key=lambda p: p.cost(tokens))
        keep = best.cost(tokens) / standard.cost(tokens)
        if keep >= 1:
            continue
        stored = 0
        for row in scan.rows_of(endpoint):
            if row.key == key and row.tier == "standard":
                by_day[row.day] += row.cost_nano * (1 - keep)
                stored += row.cost_nano
        tiers[best.tier] += stored * (1 - keep)
        discounts.append(1 - keep)
        models.append({"model": key.model_key, "calls": tokens.calls, "tier": best.tier, "discount": round(1 - keep, 4),
                       "window_spend_nano": stored})  # fmt: skip
    if not models:
        return None
    estimate = monthly(scan.series(endpoint, by_day), model_rel=MODEL_REL)
    if not worth_it(estimate, scan.spend(endpoint)):
        return None
    tier = max(tiers, key=lambda t: tiers[t])
    providers = sorted({str(m["model"]).split("/", 1)[0] for m in models})
    discount = max(discounts)
    return Finding(
        endpoint=endpoint,
        kind=Kind.TIER,
        subject="",
        title=f"Background work at full price: the {tier} tier costs {discount:.0%} less ({_why(latency, bursts)})",
        monthly=estimate,
        acts_on=ActsOn.ALL,
        evidence={"why": _why(latency, bursts), "tier": tier, "models": models, "marked": latency},
        change=tier_change(providers, tier),
        baseline={"metric": "cost_per_call"},
    )
