"""Output waste: answers cut at the limit and asked again, and answers far longer than needed.

Two parts, priced separately and added:

- **cut and retried**: a call that stopped at its output limit (finish_reason `length`) whose whole
  prompt the endpoint sends again within 10 minutes (retries.sql) was paid for and thrown away; its
  stored cost is the waste. The change: a limit the complete answers fit (their p99).
- **longer than needed**: the endpoint's typical need is the median output of its complete answers;
  what complete answers spend above three times that (output.sql) is the waste, counted only when it
  is at least 5 % of those answers' output (a normal spread of lengths is not waste). The change:
  ask for brevity and set max_tokens to three times the median.

The evidence compares the max_tokens the requests set with what answers use.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from apps.opportunities.detectors.base import Finding, Key, Scan, per_endpoint, worth_it
from apps.opportunities.models import ActsOn, Kind
from apps.opportunities.projection import monthly
from apps.opportunities.rules import Change

MODEL_REL = 0.20  # whether a cut answer was really retried, whether a capped answer still serves
MIN_EXCESS_SHARE = 0.05


@dataclass
class _Acc:
    calls: int = 0
    with_finish: int = 0
    cut: int = 0
    retried: int = 0
    long_answers: int = 0
    excess: float = 0.0
    complete_tokens: float = 0.0
    median: float = 0.0
    p99: float = 0.0
    typical_max: float = 0.0
    examples: list[str] = field(default_factory=list)
    retried_by_day: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    excess_by_day: dict[int, float] = field(default_factory=lambda: defaultdict(float))


def _round_up(value: float, step: int = 64) -> int:
    return max(step, int(math.ceil(value / step) * step))


def detect(scan: Scan) -> list[Finding]:
    acc: dict[Key, _Acc] = defaultdict(_Acc)
    for r in scan.query("output").dicts():
        a = acc[Key(r["endpoint"], r["provider"], r["model"])]
        day = int(r["day"])
        a.calls += int(r["calls"])
        a.with_finish += int(r["with_finish"])
        a.cut += int(r["cut"])
        a.long_answers += int(r["long_answers"])
        a.excess += float(r["excess_tokens"])
        a.excess_by_day[day] += float(r["excess_tokens"])
        a.complete_tokens += float(r["complete_tokens"])
        a.median, a.p99 = float(r["median_out"]), float(r["p99_out"])
        a.typical_max = max(a.typical_max, float(r["typical_max_tokens"] or 0))
        if r["long_answers"] and len(a.examples) < 2:
            a.examples.append(str(r["longest_id"]))
    for r in scan.query("retries").dicts():
        a = acc[Key(r["endpoint"], r["provider"], r["model"])]
        a.retried += int(r["retried"])
        a.retried_by_day[int(r["day"])] += float(r["retried_cost_nano"])
        a.examples[:0] = [str(e) for e in r["example_ids"][:2]]
    return per_endpoint(scan, acc, _finding)


def _finding(scan: Scan, endpoint: str, items: list[tuple[Key, _Acc]]) -> Finding | None:
    by_day: dict[int, float] = defaultdict(float)
    models: list[dict[str, Any]] = []
    steps: list[str] = []
    examples: list[str] = []
    cut = retried = long_answers = 0
    for key, a in items:
        prices = scan.prices(key.provider, key.model)
        if prices is None or not a.with_finish:
            continue
        verbose = a.complete_tokens and a.excess >= MIN_EXCESS_SHARE * a.complete_tokens
        for day, nano in a.retried_by_day.items():
            by_day[day] += nano
        if verbose:
            for day, tokens in a.excess_by_day.items():
                by_day[day] += tokens * prices.output
        if not (a.retried or verbose):
            continue
        cap = _round_up(3 * a.median)
        fit = _round_up(a.p99 * 1.1)
        if a.retried:
            steps.append(
                f"{key.model}: {a.cut:,} answers stopped at max_tokens (≈{a.typical_max:,.0f}) and {a.retried:,} "
                f"were sent again: set max_tokens to {fit:,} (the longest complete answers use {a.p99:,.0f}), "
                "so the first call completes."
            )
        if verbose:
            steps.append(
                f"{key.model}: {a.long_answers:,} answers ran past three times the typical length "
                f'({a.median:,.0f} tokens): ask for brevity in the prompt (or verbosity="low" on GPT-5) and '
                f"set max_tokens to {cap:,}"
                + (f" (now ≈{a.typical_max:,.0f})" if a.typical_max else "")
                + "."
            )
        cut, retried, long_answers = (
            cut + a.cut,
            retried + a.retried,
            long_answers + (a.long_answers if verbose else 0),
        )
        examples.extend(a.examples)
        models.append({
            "model": key.model_key, "calls": a.calls, "cut": a.cut, "retried": a.retried,
            "long_answers": a.long_answers, "excess_tokens": round(a.excess), "median_output": round(a.median),
            "p99_output": round(a.p99), "typical_max_tokens": round(a.typical_max), "verbose": bool(verbose),
        })  # fmt: skip
    if not models:
        return None
    estimate = monthly(scan.series(endpoint, by_day), model_rel=MODEL_REL)
    if not worth_it(estimate, scan.spend(endpoint)):
        return None
    parts = []
    if retried:
        parts.append(f"{retried:,} answers cut at the limit and asked again")
    if long_answers:
        parts.append(f"{long_answers:,} answers over 3× the typical length")
    return Finding(
        endpoint=endpoint,
        kind=Kind.OUTPUT,
        subject="",
        title="; ".join(parts),
        monthly=estimate,
        acts_on=ActsOn.OUTPUT,
        evidence={"cut": cut, "retried": retried, "long_answers": long_answers, "models": models},
        change=Change("Fit max_tokens to what answers need", tuple(steps)),
        examples=examples[:4],
        baseline={"metric": "output_cost_per_call"},
    )
