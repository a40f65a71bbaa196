"""Prompt caching: prefixes that repeat, on a model that caches, not read from the provider's cache.

For each endpoint and model whose catalogue price for cached input is below its input price,
`cache.sql` finds the prompt prefixes that repeat (by the prefix points ingest keeps) and, under
each cache lifetime the provider offers (rules.cache_rule), the tokens a cache would have served
(hits: a repeat within the lifetime of the one before) and written (misses of a prefix worth
caching), day by day. Priced at the model's own prices:

    ideal = hits × (input − cached) − writes × (write price − input, when above 0)

scaled up by the share of calls that carry a prefix (a payload). What the endpoint already saves
from its reported cache reads and writes is taken off, so an endpoint that already caches well has
nothing left to find. The lifetime that saves more is the one advised.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from apps.opportunities.detectors.base import Finding, Key, Scan, map_params, worth_it
from apps.opportunities.detectors.traffic import Traffic
from apps.opportunities.models import ActsOn, Kind
from apps.opportunities.prices import Tokens, UnitPrices
from apps.opportunities.projection import monthly, per_month
from apps.opportunities.rules import CacheRule, Lifetime, cache_rule, caching_change

MODEL_REL = 0.10  # tokens per byte are the call's average; a provider caches in steps (OpenAI: 128)
MIN_COVER = 0.01  # below 1 % of calls with a prefix, repeats cannot be told from chance


def _already(prices: UnitPrices, t: Tokens) -> float:
    """What the reported cache reads and writes already save (nano-USD)."""
    premium_5m = max(0.0, prices.cache_write - prices.input)
    premium_1h = max(0.0, prices.cache_write_1h - prices.input)
    return t.cached * (prices.input - prices.cached) - t.write_5m * premium_5m - t.write_1h * premium_1h


def _params(candidates: dict[Key, tuple[UnitPrices, CacheRule]], cover: dict[Key, float]) -> dict[str, Any]:
    pairs = sorted({k.model_key for k in candidates})
    by_pair = {k.model_key: value for k, value in candidates.items()}

    def lifetime(pair: str, i: int) -> Lifetime:
        lifetimes = by_pair[pair][1].lifetimes
        return lifetimes[min(i, len(lifetimes) - 1)]

    def extra(pair: str, i: int) -> float:
        prices = by_pair[pair][0]
        return max(0.0, prices.write_price(lifetime(pair, i).write) - prices.input)

    return {"pairs": pairs} | map_params(
        min_tokens={p: by_pair[p][1].min_tokens for p in pairs},
        ttl_a={p: lifetime(p, 0).seconds for p in pairs},
        ttl_b={p: lifetime(p, 1).seconds for p in pairs},
        save={p: by_pair[p][0].input - by_pair[p][0].cached for p in pairs},
        extra_a={p: extra(p, 0) for p in pairs},
        extra_b={p: extra(p, 1) for p in pairs},
        cover={f"{k.endpoint}\t{k.model_key}": c for k, c in cover.items()},
    )


def detect(scan: Scan, traffic: Traffic) -> list[Finding]:
    candidates: dict[Key, tuple[UnitPrices, CacheRule]] = {}
    cover: dict[Key, float] = {}
    for key, stats in traffic.by_model.items():
        prices = scan.prices(key.provider, key.model)
        share = stats.with_prefix / stats.ok_calls if stats.ok_calls else 0.0
        if prices is None or not prices.caches or share < MIN_COVER:
            continue
        candidates[key] = (prices, cache_rule(key.provider, key.model))
        cover[key] = share
    if not candidates:
        return []
    rows = scan.query("cache", _params(candidates, cover) | scan.rule_params()).dicts()
    read: dict[Key, dict[int, tuple[float, float, float, float]]] = defaultdict(dict)
    gaps: dict[Key, list[float]] = defaultdict(list)
    examples: dict[Key, list[str]] = defaultdict(list)
    repeats: dict[Key, int] = defaultdict(int)
    for r in rows:
        endpoint, (provider, model) = r["endpoint"], r["pair"].split("/", 1)
        key = Key(endpoint, provider, model)
        read[key][int(r["day"])] = (r["read_a"], r["write_a"], r["read_b"], r["write_b"])
        repeats[key] += int(r["repeats"])
        if r["repeats"]:
            gaps[key].append(float(r["median_gap_ms"]))
        if len(examples[key]) < 3:
            examples[key].extend(str(e) for e in r["example_ids"][: 3 - len(examples[key])])
    findings = []
    for key, days in read.items():
        prices, rule = candidates[key]
        finding = _finding(scan, traffic, key, days, prices, rule, cover[key])
        if finding is not None:
            finding.examples = examples[key]
            finding.evidence |= {
                "repeats": repeats[key],
                "median_gap_s": round(statistics.median(gaps[key]) / 1000 * cover[key], 1)
                if gaps[key]
                else None,
            }
            findings.append(finding)
    return findings


def _finding(
    scan: Scan,
    traffic: Traffic,
    key: Key,
    days: dict[int, tuple[float, float, float, float]],
    prices: UnitPrices,
    rule: CacheRule,
    cover: float,
) -> Finding | None:
    save = prices.input - prices.cached
    extras = [max(0.0, prices.write_price(lt.write) - prices.input) for lt in rule.lifetimes]
    already: dict[int, float] = defaultdict(float)
    usage = Tokens()
    for row in scan.rows_of(key.endpoint):
        if row.key == key:
            already[row.day] += _already(prices, row.tokens)
            usage = usage + row.tokens
    options = []  # (ideal saving over the window, lifetime, per day, tokens read), one per lifetime
    for i, lifetime in enumerate(rule.lifetimes):
        read_at, write_at = 2 * min(i, 1), 2 * min(i, 1) + 1  # the query's columns a or b
        ideal = {day: (v[read_at] * save - v[write_at] * extras[i]) / cover for day, v in days.items()}
        tokens_read = sum(v[read_at] for v in days.values()) / cover
        options.append((sum(ideal.values()), lifetime, ideal, tokens_read))
    _, lifetime, ideal, tokens_read = max(options, key=lambda o: o[0])
    by_day = {day: ideal.get(day, 0.0) - already.get(day, 0.0) for day in set(ideal) | set(already)}
    estimate = monthly(scan.series(key.endpoint, by_day), model_rel=MODEL_REL)
    spend = scan.spend(key.endpoint)
    if not worth_it(estimate, spend):
        return None
    stats = traffic.by_model[key]
    per_call = tokens_read / max(1, stats.ok_calls)
    cached_share = usage.cached / usage.prompt if usage.prompt else 0.0
    return Finding(
        endpoint=key.endpoint,
        kind=Kind.CACHING,
        subject=key.model_key,
        title=f"{key.model}: ≈{per_call:,.0f} prompt tokens a call repeat, {cached_share:.0%} read from cache",
        monthly=estimate,
        acts_on=ActsOn.INPUT,
        evidence={
            "model": key.model_key,
            "calls": stats.calls,
            "calls_with_prefix": stats.with_prefix,
            "cacheable_tokens_per_call": round(per_call),
            "cached_share_now": round(cached_share, 4),
            "min_cacheable_tokens": rule.min_tokens,
            "lifetime": lifetime.name,
            "lifetime_s": lifetime.seconds,
            "prices_per_mtok": {  # nano-USD a token → USD per 1M tokens
                "input": round(prices.input / 1000, 6),
                "cached": round(prices.cached / 1000, 6),
                "write": round(prices.write_price(lifetime.write) / 1000, 6),
            },
            "ideal_monthly_nano": {o[1].name: per_month(o[0], scan.day_count(key.endpoint)) for o in options},
        },
        change=caching_change(key.provider, key.model, lifetime, round(per_call)),
        baseline={"metric": "input_cost_per_call"},
    )
