"""Model choice already proven: calls on a model the catalogue marks superseded or deprecated.

A successor is the provider's replacement at the same or a better quality tier (the catalogue
says so: apps.pricing LlmModel.successor). The endpoint's tokens on the old model, at each tier
they were served at, are priced again at the successor's prices for that tier: saving = stored
cost × (1 − successor cost / current cost of the same tokens). A deprecated or retiring model is
reported even when moving saves nothing (its date is the point). The change: queue a replay of
the endpoint with the successor as candidate, then switch.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from apps.opportunities.detectors.base import Finding, Key, Scan, worth_it
from apps.opportunities.models import ActsOn, Kind
from apps.opportunities.projection import monthly
from apps.opportunities.rules import Change
from apps.pricing.selectors import Lifecycle

MODEL_REL = 0.05  # successors tokenise alike within a provider; only the volume is uncertain


def detect(scan: Scan, lifecycles: dict[int, Lifecycle], today: date) -> list[Finding]:
    findings = []
    keys = {r.key for r in scan.usage}
    for key in sorted(keys, key=lambda k: (k.endpoint, k.model_key)):
        resolved = scan.book.resolve(key.provider, key.model)
        life = lifecycles.get(resolved.model_id) if resolved else None
        if life is None:
            continue
        finding = _finding(scan, key, life, today)
        if finding is not None:
            findings.append(finding)
    return findings


def _finding(scan: Scan, key: Key, life: Lifecycle, today: date) -> Finding | None:
    by_day: dict[int, float] = defaultdict(float)
    keep_by_tier: dict[str, float] = {}
    for row in scan.rows_of(key.endpoint):
        if row.key != key:
            continue
        if row.tier not in keep_by_tier:
            now = scan.prices(key.provider, key.model, row.tier)
            new = (
                scan.prices(life.successor_provider, life.successor_name, row.tier)
                if life.successor_name
                else None
            )
            tokens = scan.tokens_by_model(key.endpoint, tiers=(row.tier,)).get(key)
            keep_by_tier[row.tier] = (
                new.cost(tokens) / now.cost(tokens) if now and new and tokens and now.cost(tokens) else 1.0
            )
        by_day[row.day] += row.cost_nano * max(0.0, 1 - keep_by_tier[row.tier])
    estimate = monthly(scan.series(key.endpoint, by_day), model_rel=MODEL_REL)
    retiring = life.retires_on is not None or life.deprecated_on is not None
    spend = scan.spend(key.endpoint)
    if not (worth_it(estimate, spend) or (retiring and by_day)):
        return None
    successor = f"{life.successor_provider}/{life.successor_name}" if life.successor_name else ""
    keep = min(keep_by_tier.values()) if keep_by_tier else 1.0
    status = []
    if life.deprecated_on:
        status.append(f"deprecated since {life.deprecated_on:%Y-%m-%d}")
    if life.retires_on:
        gone = "retired on" if life.retires_on <= today else "retires on"
        status.append(f"{gone} {life.retires_on:%Y-%m-%d}")
    title = f"{key.model} is " + (" and ".join(status) if status else "superseded")
    if successor:
        title += (
            f": {life.successor_name} costs {1 - keep:.0%} less"
            if keep < 1
            else f": move to {life.successor_name}"
        )
    steps = []
    if successor:
        steps.append(
            f"Queue a replay of this endpoint with {successor} as the candidate (the button below): it scores "
            "the successor's answers on a sample of this endpoint's own calls."
        )
        steps.append(
            f"When it keeps quality, change the model to {life.successor_name} (or approve the routing policy)."
        )
    else:
        steps.append("The catalogue names no successor: pick a current model and replay it first.")
    return Finding(
        endpoint=key.endpoint,
        kind=Kind.MODEL,
        subject=key.model_key,
        title=title,
        monthly=estimate,
        acts_on=ActsOn.ALL,
        evidence={
            "model": key.model_key,
            "successor": successor,
            "deprecated_on": life.deprecated_on.isoformat() if life.deprecated_on else None,
            "retires_on": life.retires_on.isoformat() if life.retires_on else None,
            "cost_ratio": round(keep, 4),
            "calls": sum(r.tokens.calls for r in scan.rows_of(key.endpoint) if r.key == key),
        },
        change=Change(
            f"Move {key.model} to {life.successor_name}" if successor else f"Move off {key.model}",
            tuple(steps),
        ),
        baseline={"metric": "cost_per_call", "model": key.model_key},
    )
