"""How much of the reachable routing gain does each learned-router design capture, and how fast?

On the shared sets (`../shared/data/routing-eval/v1/alpaca_eval.jsonl`, `mmlu.jsonl`), over
repeated grouped splits (each endpoint's groups halved at random, as `evaluate_routing` does),
every design trains on the training halves and ranks the held-out prompts; the savings it reaches
at ≥ 95 % retention sit between a random router's and a per-item oracle's (apps.policies.evaluation
.curves). The share of that gap, pooled per candidate over endpoints and averaged over candidates,
is reported as mean ± sd over splits. Designs:

- `per_endpoint` — the hashed linear router trained on each endpoint's evidence alone (before
  pooling; the baseline);
- `pooled` — the same router trained on every endpoint's training half at once, with a term per
  endpoint (apps.routing.pool): what ships;
- `pooled_unigrams` — pooled, words only (no word pairs): half the features to hash in the SDK.

Then the shipped router's speed in the SDK: `decision_p99_us` scores a 2,000-character prompt with
the SDK's own `LearnedModel` (a pooled MMLU router, five members), against a baseline measured in
the same run (the SDK deciding an `override` policy, no scoring); `model_bytes` is that router's
JSON in the config. Encoder routers are not built yet: their keys print null.

    .venv/bin/python bench/router.py [--splits 5] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "routing-eval" / "v1"
DESIGNS = ("per_endpoint", "pooled", "pooled_unigrams")
BAR = 0.95


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "sdk" / "src"))
    import django

    django.setup()


def _split(path: str, split: int) -> dict[str, dict[str, dict[str, float]]]:
    """{design: {candidate: {learned, random, oracle}}} summed over endpoints, for one split."""
    _setup()
    import numpy as np

    from apps.policies.evaluation import dataset
    from apps.policies.evaluation.curves import curves
    from apps.policies.evaluation.grading import make_grader
    from apps.policies.evaluation.harness import PROVIDER, cost_items, prepare_split
    from apps.policies.evaluation.runner import pricer_for
    from apps.routing import learned
    from apps.routing.pool import RouterPool

    items = dataset.read_items(Path(path))
    price, _ = pricer_for(Path(path), None)
    costed, _ = cost_items(items, price)
    halves = []
    for name, endpoint_items in dataset.by_endpoint([c.item for c in costed]):
        ids = {i.id for i in endpoint_items}
        mine = [c for c in costed if c.item.id in ids]
        halves.append(prepare_split(mine, endpoint=name, split=split, seed=0, grader=make_grader("labels")))
    pooled = RouterPool([h.evidence for h in halves])
    unigrams = RouterPool([h.evidence for h in halves], spec=learned.HashSpec(ngrams=(1,)))
    out: dict[str, dict[str, dict[str, float]]] = {
        d: defaultdict(lambda: defaultdict(float)) for d in DESIGNS
    }
    for half in halves:
        own = RouterPool([half.evidence])
        for model in sorted({m for c in half.test for m in c.candidate_cost}):
            key = f"{PROVIDER}/{model}"
            ids = [s.sample_id for s in half.evidence.samples if key in s.candidates]
            rows = [c for c in half.test if model in c.candidate_cost]
            if len(ids) < 10 or not rows:
                continue
            for design, pool in (("per_endpoint", own), ("pooled", pooled), ("pooled_unigrams", unigrams)):
                members = pool.cross_fit(key, half.endpoint, ids).members
                router = learned.Scorer(learned.export_members(members, threshold=0.0, spec=pool.spec))
                found = curves(
                    scores=np.asarray([router.score(c.item.prompt) for c in rows]),
                    quality=np.asarray([c.item.candidates[model].score for c in rows]),
                    baseline=np.asarray([c.item.baseline.score for c in rows]),
                    savings=np.asarray(
                        [c.baseline_cost - c.candidate_cost[model] for c in rows], dtype=np.float64
                    ),
                    baseline_cost=float(sum(c.baseline_cost for c in rows)),
                    bar=BAR,
                )
                if found is not None:
                    sums = out[design][model]
                    sums["learned"] += found.learned
                    sums["random"] += found.random
                    sums["oracle"] += found.oracle
    return {d: {m: dict(v) for m, v in by_model.items()} for d, by_model in out.items()}


def _gap(by_model: dict[str, dict[str, float]]) -> float:
    shares = [
        (s["learned"] - s["random"]) / (s["oracle"] - s["random"])
        for s in by_model.values()
        if s["oracle"] > s["random"]
    ]
    return statistics.fmean(shares) if shares else 0.0


def gap_shares(path: Path, splits: int, jobs: int) -> dict[str, list[float]]:
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(_split, [str(path)] * splits, range(splits)))
    return {d: [_gap(r[d]) for r in results] for d in DESIGNS}


def decision_latency(router: dict[str, Any], n: int = 3000) -> tuple[float, float]:
    """(p99 µs of a learned decision on 2,000-character prompts, p99 µs of the override baseline)."""
    from switchyard._config import parse_config
    from switchyard._routing import plan

    # Real text: AlpacaEval instructions followed by the baseline's answers, cut at 2,000 characters.
    rows = [json.loads(line) for line in (SHARED / "alpaca_eval.jsonl").read_text().splitlines()[:200]]
    prompts = [
        (r["messages"][-1]["content"] + "\n" + (r["baseline"]["output"] or "") * 3)[:2000] for r in rows
    ]

    def policy(name: str, strategy: str, **extra: Any) -> dict[str, Any]:
        return {
            "endpoint": name,
            "policy_version": 1,
            "baseline": {"provider": "openai", "model": "gpt-4o"},
            "strategy": strategy,
            "targets": [{"provider": "openai", "model": "gpt-4o-mini"}],
            **extra,
        }

    body = {
        "schema_version": 1,
        "config_version": 1,
        "policies": [policy("learned", "learned", learned=router), policy("override", "override")],
    }
    config = parse_config(json.dumps(body).encode())

    def timed(endpoint: str) -> float:
        samples = []
        for i in range(n):
            text = prompts[i % len(prompts)]
            started = time.perf_counter_ns()
            plan(config, endpoint=endpoint, provider="openai", model="gpt-4o", available={"openai"},
                 event_id="e", prompt=lambda t=text: t)  # fmt: skip
            samples.append((time.perf_counter_ns() - started) / 1000)
        samples.sort()
        return samples[int(0.99 * (len(samples) - 1))]

    timed("learned")  # warm up
    return timed("learned"), timed("override")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    _setup()
    results = {}
    for name in ("alpaca_eval", "mmlu"):
        started = time.perf_counter()
        shares = gap_shares(SHARED / f"{name}.jsonl", args.splits, args.jobs)
        results[name] = shares
        for design in DESIGNS:
            values = shares[design]
            print(
                f"{name:12s} {design:13s} gap share {statistics.fmean(values):6.1%} ± "
                f"{statistics.stdev(values) if len(values) > 1 else 0:.1%}  ({time.perf_counter() - started:.0f} s)"
            )
    router = _mmlu_router()
    p99, baseline = decision_latency(router)
    line = {
        "splits": args.splits,
        "alpaca_gap_share": statistics.fmean(results["alpaca_eval"]["pooled"]),
        "mmlu_gap_share": statistics.fmean(results["mmlu"]["pooled"]),
        "baseline_alpaca_gap_share": statistics.fmean(results["alpaca_eval"]["per_endpoint"]),
        "baseline_mmlu_gap_share": statistics.fmean(results["mmlu"]["per_endpoint"]),
        "alpaca_gap_share_sd": statistics.stdev(results["alpaca_eval"]["pooled"]) if args.splits > 1 else 0.0,
        "mmlu_gap_share_sd": statistics.stdev(results["mmlu"]["pooled"]) if args.splits > 1 else 0.0,
        "decision_p99_us": round(p99, 1),
        "baseline_decision_p99_us": round(baseline, 1),
        "model_bytes": len(json.dumps(router).encode()),
        "encoder_decision_p99_ms": None,
        "encoder_rss_mb": None,
    }
    print(
        f"SDK decision p99 {p99:.0f} µs (override baseline {baseline:.0f} µs); router {line['model_bytes']:,} bytes"
    )
    print(json.dumps(line, sort_keys=True))


def _mmlu_router() -> dict[str, Any]:
    """A shipped pooled router for one MMLU subject (five members, trained on every subject)."""
    from apps.policies.evaluation import dataset
    from apps.policies.evaluation.grading import make_grader
    from apps.policies.evaluation.harness import PROVIDER, cost_items, prepare_split
    from apps.policies.evaluation.runner import pricer_for
    from apps.routing import learned
    from apps.routing.pool import RouterPool

    path = SHARED / "mmlu.jsonl"
    costed, _ = cost_items(dataset.read_items(path), pricer_for(path, None)[0])
    halves = []
    for name, endpoint_items in dataset.by_endpoint([c.item for c in costed]):
        ids = {i.id for i in endpoint_items}
        mine = [c for c in costed if c.item.id in ids]
        halves.append(prepare_split(mine, endpoint=name, split=0, seed=0, grader=make_grader("labels")))
    half = halves[0]
    key = f"{PROVIDER}/{next(iter(half.train[0].candidate_cost))}"
    ids = [s.sample_id for s in half.evidence.samples]
    members = RouterPool([h.evidence for h in halves]).cross_fit(key, half.endpoint, ids).members
    return learned.export_members(members, threshold=0.0)


if __name__ == "__main__":
    main()
