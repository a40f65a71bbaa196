"""How much of the reachable routing gain does each learned-router design capture, and how fast?

On the shared sets (`../shared/data/routing-eval/v1/alpaca_eval.jsonl`, `mmlu.jsonl`), over
repeated grouped splits (each endpoint's groups halved at random, as `evaluate_routing` does),
every design trains on the training halves and ranks the held-out prompts; the savings it reaches
at ≥ 95 % retention sit between a random router's and a per-item oracle's (apps.policies.evaluation
.curves). The share of that gap, pooled per candidate over endpoints and averaged over candidates,
is reported as mean ± sd over splits.

`--folds` runs the protocol of ../shared/notes/router-research.md instead, where the issue's
starting figures come from: each split deals every endpoint's groups into 5 folds, the designs train
on four and score the fifth, five times, and each (endpoint, candidate)'s curves are read off all its
prompts, each scored by routers trained without it. Every design then trains on 4/5 of the data
rather than half, and the curves are read off twice as many prompts. One ranking then mixes the
scores of five trainings, so a design whose scores shift in level from one training to the next is
read worse than it ranks (the blended encoder router was, until it added the linear score less its
endpoint mean: λ × the linear router's level, ~15, moved with λ). `<design>/apart` reads each fold's
curves on their own and adds them up instead; on a fifth of an endpoint the best prefix is mostly
noise and every design reads near zero there, so neither view is the whole story. Designs:

- `per_endpoint` — the hashed linear router trained on each endpoint's evidence alone (before
  pooling; the baseline);
- `pooled` — the same features trained on every endpoint's training half at once, with a term per
  endpoint, by plug-in heads (a saving head and a quality-loss head, apps.routing.pool): the linear
  router that ships;
- `pooled_label` — pooled, but regressing the baseline's single label (ln saving + 0.3 · logit
  quality): what the encoder router blends in (apps.routing.encoder_pool.BLEND_HEADS);
- `pooled_unigrams` — pooled plug-in heads, words only (no word pairs): half the features to hash in the SDK;
- `encoder_alone` — plug-in heads on all-MiniLM-L6-v2 embeddings (the exported int8 ONNX encoder the
  SDK runs, apps.routing.encoder_pool: a saving head per candidate, a quality-loss head over every
  candidate, combined into one linear score), pooled, not blended;
- `encoder_per_endpoint`, `encoder_pooled` — the encoder router as it ships: those heads with the
  linear router's score blended in (apps.routing.encoder_pool), per endpoint (with the per-endpoint
  baseline) and pooled (with `pooled_label`);
- `shipped` — what the recommender would ship: per candidate, the encoder router where the
  project's out-of-fold scores show it beating the linear one by more than a standard error
  (apps.routing.kinds, the comparison each endpoint's estimate carries; its SDKs taken to run it),
  else the pooled linear router. Its means are the JSON line's `alpaca_gap_share`
  and `mmlu_gap_share`; `encoder_chosen` says how often it was the encoder.

Then speed in the SDK: `decision_p99_us` scores a 2,000-character prompt with the SDK's own
`LearnedModel` (a pooled MMLU router, five members), in a fresh process with the SDK alone, against a
baseline measured in the same process (the SDK deciding an `override` policy, no scoring); `model_bytes` is that router's JSON in the config.
`encoder_decision_p99_ms` and `encoder_rss_mb` come from bench/encoder_sdk.py in a fresh process: the
SDK's whole decision with the encoder on the same prompts, and the memory it adds to the app.
`BENCH_ENCODER=0` runs the linear designs only.

    .venv/bin/python bench/router.py [--splits 5] [--jobs 2] [--sets alpaca_eval,mmlu] [--folds]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "routing-eval" / "v1"
LINEAR = ("per_endpoint", "pooled", "pooled_label", "pooled_unigrams")
ENCODERS = ("encoder_alone", "encoder_per_endpoint", "encoder_pooled", "shipped")
BAR = 0.95
FOLDS = 5  # --folds: each split deals every endpoint's groups into this many folds
ENCODER = os.environ.get("BENCH_ENCODER", "1") != "0"  # BENCH_ENCODER=0: the linear designs only
PENALTIES = os.environ.get("BENCH_ENCODER_PENALTIES")  # e.g. "0.01": one penalty, not the screening's pick


def designs() -> tuple[str, ...]:
    return LINEAR + (ENCODERS if ENCODER else ())


def reported(folds: bool) -> tuple[str, ...]:
    """The designs, and with --folds each one's fold-by-fold reading too."""
    return designs() + (tuple(f"{d}/apart" for d in designs()) if folds else ())


def _penalties() -> tuple[float, ...]:
    from apps.routing import encoder_pool

    return tuple(float(x) for x in PENALTIES.split(",")) if PENALTIES else encoder_pool.PENALTIES


def _shipped_kinds(pooled: Any, encoders: Any, split: int) -> dict[str, str]:
    """Per candidate, the kind of learned router the recommender would propose, its SDKs taken to run
    the encoder: apps.routing.kinds.compare on the project's pools, the very answer every endpoint's
    estimate carries (kept on the encoder pool) and apps.routing.choose.uses_encoder reads. One answer
    for the project, so an endpoint too small for learned options of its own (AlpacaEval's vicuna:
    40 prompts in a training half, under estimate.LEARNED_MIN_GROUPS) gets it too."""
    from apps.routing import kinds

    project = kinds.compare(pooled, encoders, seed=split)
    better = project is not None and project.encoder_better
    return {key: "encoder_pooled" if better else "pooled" for key in set(pooled.keys()) & set(encoders.keys())}


def _held_out_scores(pool: Any, key: str, endpoint: str, ids: list[str], prompts: list[str]) -> Any:
    """The held-out prompts scored by the members this endpoint would ship (threshold aside)."""
    import numpy as np

    from apps.routing import learned
    from apps.routing.encoder_pool import EncoderPool, EncoderScorer, export

    members = pool.cross_fit(key, endpoint, ids).members
    if isinstance(pool, EncoderPool):
        fallback = None
        if pool.linear is not None:  # blended: the linear members ship as its fallback
            linear_members = pool.linear.cross_fit(key, endpoint, ids).members
            fallback = learned.export_members(linear_members, threshold=0.0, spec=pool.linear.spec)
        shipped = export(members, threshold=0.0, encoder_spec=pool.encoder_spec, fallback=fallback)
        return EncoderScorer(shipped).scores(prompts)
    router = learned.Scorer(learned.export_members(members, threshold=0.0, spec=pool.spec))
    return np.asarray([router.score(p) for p in prompts])


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "sdk" / "src"))
    import django

    django.setup()


def _part(path: str, split: int, fold: int | None) -> dict[str, Any]:
    """Every design's scores on the held-out prompts of one split (or one fold of it), with what the
    curves need: {design: {(endpoint, candidate): (scores, quality, baseline, savings, baseline
    costs)}}, and under "kinds" {kind shipped: {candidate: endpoints}}."""
    _setup()
    import numpy as np

    from apps.policies.evaluation import dataset
    from apps.policies.evaluation.grading import make_grader
    from apps.policies.evaluation.harness import PROVIDER, cost_items, prepare_split
    from apps.policies.evaluation.runner import pricer_for
    from apps.routing import learned
    from apps.routing.encoder_pool import BLEND_HEADS, EncoderPool
    from apps.routing.pool import RouterPool

    held = None if fold is None else (fold, FOLDS)  # a half held out, or one of FOLDS folds
    items = dataset.read_items(Path(path))
    price, _ = pricer_for(Path(path), None)
    costed, _ = cost_items(items, price)
    halves = []
    for name, endpoint_items in dataset.by_endpoint([c.item for c in costed]):
        ids = {i.id for i in endpoint_items}
        mine = [c for c in costed if c.item.id in ids]
        halves.append(
            prepare_split(mine, endpoint=name, split=split, seed=0, grader=make_grader("labels"), fold=held)
        )
    everyone = [h.evidence for h in halves]
    pools: dict[str, Any] = {
        "pooled": RouterPool(everyone),
        "pooled_unigrams": RouterPool(everyone, spec=learned.HashSpec(ngrams=(1,))),
        "pooled_label": RouterPool(everyone, heads=BLEND_HEADS),
    }
    if ENCODER:
        pools["encoder_alone"] = EncoderPool(everyone, penalties=_penalties())
        pools["encoder_pooled"] = pools["encoder_alone"].with_linear(pools["pooled_label"])  # BLEND_HEADS
    out: dict[str, Any] = {d: {} for d in designs()}
    out["kinds"] = defaultdict(lambda: defaultdict(int))
    kinds = _shipped_kinds(pools["pooled"], pools["encoder_pooled"], split) if ENCODER else {}
    for half in halves:
        own: dict[str, Any] = {"per_endpoint": RouterPool([half.evidence], heads="label"), **pools}
        if ENCODER:
            own["encoder_per_endpoint"] = EncoderPool(
                [half.evidence], penalties=_penalties(), linear=own["per_endpoint"]
            )
        for model in sorted({m for c in half.test for m in c.candidate_cost}):
            key = f"{PROVIDER}/{model}"
            ids = [s.sample_id for s in half.evidence.samples if key in s.candidates]
            rows = [c for c in half.test if model in c.candidate_cost]
            if len(ids) < 10 or not rows:
                continue
            prompts = [c.item.prompt for c in rows]
            scored: dict[str, Any] = {}
            for design, pool in own.items():
                scored[design] = _held_out_scores(pool, key, half.endpoint, ids, prompts)
            if ENCODER:
                scored["shipped"] = scored[kinds.get(key, "pooled")]
                out["kinds"][kinds.get(key, "pooled")][model] += 1
            truth = (
                np.asarray([c.item.candidates[model].score for c in rows], dtype=np.float64),
                np.asarray([c.item.baseline.score for c in rows], dtype=np.float64),
                np.asarray([c.baseline_cost - c.candidate_cost[model] for c in rows], dtype=np.float64),
                np.asarray([c.baseline_cost for c in rows], dtype=np.float64),
            )
            for design, scores in scored.items():
                out[design][(half.endpoint, model)] = (np.asarray(scores, dtype=np.float64), *truth)
    out["kinds"] = {k: dict(v) for k, v in out["kinds"].items()}
    return out


def _sums(parts: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """{design: {candidate: {learned, random, oracle}}} summed over endpoints, for one split: each
    (endpoint, candidate)'s curves on its held-out prompts, those of every fold together (each
    scored by the routers trained without it, as cross-validation does)."""
    import numpy as np

    from apps.policies.evaluation.curves import curves

    out: dict[str, dict[str, dict[str, float]]] = {}
    for design in designs():
        sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for endpoint, model in sorted({k for part in parts for k in part[design]}):
            arrays = [part[design][(endpoint, model)] for part in parts if (endpoint, model) in part[design]]
            scores, quality, baseline, savings, costs = (np.concatenate(a) for a in zip(*arrays, strict=True))
            found = curves(
                scores=scores, quality=quality, baseline=baseline, savings=savings,
                baseline_cost=float(costs.sum()), bar=BAR,
            )  # fmt: skip
            if found is not None:
                sums[model]["learned"] += found.learned
                sums[model]["random"] += found.random
                sums[model]["oracle"] += found.oracle
        out[design] = {m: dict(v) for m, v in sums.items()}
    return out


def _fold_sums(parts: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """As `_sums`, but each fold's curves read on their own and added up: the prompts are ranked by
    the one set of routers that scored them, never by five sets whose scores sit on different scales."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for part in parts:
        for design, by_model in _sums([part]).items():
            for model, sums in by_model.items():
                mine = out.setdefault(design, {}).setdefault(model, defaultdict(float))
                for k, v in sums.items():
                    mine[k] += v
    return out


def _gap(by_model: dict[str, dict[str, float]]) -> float:
    shares = [
        (s["learned"] - s["random"]) / (s["oracle"] - s["random"])
        for s in by_model.values()
        if s["oracle"] > s["random"]
    ]
    return statistics.fmean(shares) if shares else 0.0


def gap_shares(path: Path, splits: int, jobs: int, folds: bool = False) -> dict[str, list[float]]:
    tasks = [(split, fold) for split in range(splits) for fold in (range(FOLDS) if folds else [None])]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        parts = list(pool.map(_part, [str(path)] * len(tasks), *zip(*tasks, strict=True)))
    by_split = [[p for (s, _), p in zip(tasks, parts, strict=True) if s == split] for split in range(splits)]
    results = [_sums(mine) for mine in by_split]
    shares = {d: [_gap(r[d]) for r in results] for d in designs()}
    if folds:  # each fold's curves on its own, summed: every router ranks only the prompts it scored
        apart = [_fold_sums(mine) for mine in by_split]
        shares.update({f"{d}/apart": [_gap(r[d]) for r in apart] for d in designs()})
    chosen: dict[str, float] = defaultdict(float)
    for part in parts:
        for kind, by_model in part["kinds"].items():
            chosen[kind] += sum(by_model.values())
    total = sum(chosen.values()) or 1.0
    shares["encoder_chosen"] = [chosen["encoder_pooled"] / total]  # share of (endpoint, candidate) pairs
    return shares


def decision_latency(router: dict[str, Any]) -> tuple[float, float]:
    """`_decision_latency` in a fresh process that imports the SDK alone, as an app would: this one
    holds both data sets and Django, millions of objects every full garbage collection walks."""
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(router, f)
        f.flush()
        found = subprocess.run(
            [sys.executable, __file__, "--decision-latency", f.name],
            capture_output=True, text=True, check=True, timeout=600,
        )  # fmt: skip
    p99, baseline = json.loads(found.stdout.strip().splitlines()[-1])
    return float(p99), float(baseline)


def _decision_latency(router: dict[str, Any], n: int = 3000) -> tuple[float, float]:
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
    parser.add_argument(
        "--folds", action="store_true",
        help=f"{FOLDS}-fold cross-validation in each split (train on {FOLDS - 1}/{FOLDS}, every prompt held out once) "
        "instead of halves",
    )  # fmt: skip
    parser.add_argument("--sets", default="alpaca_eval,mmlu", help="comma-separated (a partial run prints no JSON line)")
    parser.add_argument("--decision-latency", metavar="ROUTER_JSON", help=argparse.SUPPRESS)  # decision_latency's child
    args = parser.parse_args()
    if args.decision_latency:
        sys.path.insert(0, str(ROOT / "sdk" / "src"))
        print(json.dumps(_decision_latency(json.loads(Path(args.decision_latency).read_text()))))
        return
    _setup()
    results = {}
    for name in args.sets.split(","):
        started = time.perf_counter()
        shares = gap_shares(SHARED / f"{name}.jsonl", args.splits, args.jobs, folds=args.folds)
        results[name] = shares
        for design in reported(args.folds):
            values = shares[design]
            print(
                f"{name:12s} {design:13s} gap share {statistics.fmean(values):6.1%} ± "
                f"{statistics.stdev(values) if len(values) > 1 else 0:.1%}  ({time.perf_counter() - started:.0f} s)"
            )
        if ENCODER:
            print(f"{name:12s} encoder router chosen for {shares['encoder_chosen'][0]:.0%} of (endpoint, candidate) pairs")
    if set(results) != {"alpaca_eval", "mmlu"}:
        return
    router = _mmlu_router()
    p99, baseline = decision_latency(router)
    shipped = "shipped" if ENCODER else "pooled"
    line: dict[str, Any] = {
        "splits": args.splits,
        "protocol": f"{FOLDS}-fold" if args.folds else "halves",
        "alpaca_gap_share": statistics.fmean(results["alpaca_eval"][shipped]),
        "mmlu_gap_share": statistics.fmean(results["mmlu"][shipped]),
        "baseline_alpaca_gap_share": statistics.fmean(results["alpaca_eval"]["per_endpoint"]),
        "baseline_mmlu_gap_share": statistics.fmean(results["mmlu"]["per_endpoint"]),
        "alpaca_gap_share_sd": statistics.stdev(results["alpaca_eval"][shipped]) if args.splits > 1 else 0.0,
        "mmlu_gap_share_sd": statistics.stdev(results["mmlu"][shipped]) if args.splits > 1 else 0.0,
        "designs": {
            d: {n: round(statistics.fmean(results[n][d]), 4) for n in ("alpaca_eval", "mmlu")}
            for d in reported(args.folds)
        },
        "decision_p99_us": round(p99, 1),
        "baseline_decision_p99_us": round(baseline, 1),
        "model_bytes": len(json.dumps(router).encode()),
        "encoder_decision_p99_ms": None,
        "encoder_rss_mb": None,
    }
    if ENCODER:
        line["encoder_chosen"] = {n: round(results[n]["encoder_chosen"][0], 3) for n in ("alpaca_eval", "mmlu")}
        line.update(encoder_in_sdk())
        line["training_cpu_s"] = training_cpu()
    print(
        f"SDK decision p99 {p99:.0f} µs (override baseline {baseline:.0f} µs); router {line['model_bytes']:,} bytes; "
        f"encoder decision p99 {line['encoder_decision_p99_ms']} ms, +{line['encoder_rss_mb']} MB"
    )
    print(json.dumps(line, sort_keys=True))


def training_cpu(n: int = 1000) -> dict[str, float]:
    """CPU seconds to train each kind of router (five cross-fitted members, the penalty picked) for
    one candidate on a 1,000-sample endpoint (MMLU professional_law), prompts embedded from scratch
    (an empty embedding cache) for the encoder."""
    import shutil
    import tempfile

    from apps.policies.evaluation import dataset
    from apps.policies.evaluation.grading import make_grader
    from apps.policies.evaluation.harness import PROVIDER, build_evidence, cost_items
    from apps.policies.evaluation.runner import pricer_for
    from apps.routing import encoder
    from apps.routing.encoder_pool import EncoderPool
    from apps.routing.pool import RouterPool

    path = SHARED / "mmlu.jsonl"
    items = [i for i in dataset.read_items(path) if i.endpoint == "professional_law"][:n]
    costed, _ = cost_items(items, pricer_for(path, None)[0])
    grader = make_grader("labels")
    grader.prepare("professional_law", items)
    evidence = build_evidence(costed, endpoint="professional_law", grader=grader, monthly_calls=n, job_id=0)
    key = f"{PROVIDER}/{next(iter(costed[0].candidate_cost))}"
    ids = [s.sample_id for s in evidence.samples]
    out = {}
    started = time.process_time()
    RouterPool([evidence]).cross_fit(key, "professional_law", ids)
    out["linear"] = round(time.process_time() - started, 2)
    current = encoder.ensure()
    with tempfile.TemporaryDirectory() as folder:
        for name in (*current.manifest["files"], "encoder.json"):
            shutil.copyfile(current.folder / name, Path(folder) / name)
        fresh = encoder.Artefact(Path(folder), current.manifest)
        started = time.process_time()
        EncoderPool([evidence], artefact=fresh).cross_fit(key, "professional_law", ids)
        out["encoder"] = round(time.process_time() - started, 2)
    out["samples"] = len(ids)
    return out


def encoder_in_sdk() -> dict[str, Any]:
    """bench/encoder_sdk.py in a fresh process on the server's exported encoder."""
    from apps.routing import encoder

    artefact = encoder.ensure()
    found = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "encoder_sdk.py"), "--artefact", str(artefact.folder)],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    return dict(json.loads(found.stdout.strip().splitlines()[-1]))


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
