"""Do the estimates' promises hold on data they never saw? `evaluate_routing` on every labelled set.

Runs `manage.py evaluate_routing` (20 grouped splits each, bar 95 %) on the shared sets
(`../shared/data/routing-eval/v1/`: AlpacaEval with the judge's verdicts as labels, MMLU with
right/wrong) and on the synthetic sets of `bench/synthetic_routing.py` (worked maths, two-turn
chat, multiple choice below/near/above the bar — each with `--evaluator labels`, and with `auto`,
where the product picks and runs its own evaluator on the recorded answers), then prints a table
and one JSON line last:

- per set and overall: `lower_bound_held` (share of recommendations whose claimed retention lower
  bound was at or below what the held-out half realised), `savings_interval_covered`,
  `recommended_share`, `realised_savings`, `realised_retention`, `learned_gap_share_mean` / `_sd`;
  `evaluator_agreement` for the `auto` runs where the truth is right/wrong;
- speed: `mmlu_seconds` (57 endpoints, 14,042 items) against `mmlu_read_seconds`, the baseline
  measured in the same run (reading and pricing the same file, no estimate), and their ratio.

    .venv/bin/python bench/calibration.py [--splits 20] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "routing-eval" / "v1"
KEYS = (
    "lower_bound_held",
    "lower_bound_pairs",
    "savings_interval_covered",
    "recommended_share",
    "realised_savings",
    "realised_retention",
    "learned_gap_share_mean",
    "learned_gap_share_sd",
    "evaluator_agreement",
)


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _run(path: Path, evaluator: str, splits: int, jobs: int) -> tuple[dict[str, Any], float]:
    from apps.policies.evaluation.runner import Settings, evaluate

    started = time.perf_counter()
    summary = evaluate(path, settings=Settings(splits=splits, evaluator=evaluator), jobs=jobs)
    return summary["overall"], time.perf_counter() - started


def _read_only(path: Path) -> float:
    from apps.policies.evaluation import dataset
    from apps.policies.evaluation.harness import cost_items
    from apps.policies.evaluation.runner import pricer_for

    started = time.perf_counter()
    items = dataset.read_items(path)
    price, _ = pricer_for(path, None)
    cost_items(items, price)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    _setup()
    from bench.synthetic_routing import write

    synthetic = write(Path(tempfile.mkdtemp(prefix="sy-calibration-")))
    runs = [
        ("alpaca_eval", SHARED / "alpaca_eval.jsonl", "labels"),
        ("mmlu", SHARED / "mmlu.jsonl", "labels"),
        *[(f"synthetic_{name}", path, "labels") for name, path in synthetic.items()],
        *[(f"synthetic_{name}_auto", path, "auto") for name, path in synthetic.items() if name != "chat"],
    ]
    results: dict[str, dict[str, Any]] = {}
    timings: dict[str, float] = {}
    print(
        f"{'set':24s} {'rec':>5s} {'bound held':>10s} {'$ covered':>9s} {'saved':>6s} {'kept':>6s} {'gap':>6s}  agree"
    )
    for name, path, evaluator in runs:
        overall, seconds = _run(path, evaluator, args.splits, args.jobs)
        results[name] = {k: overall.get(k) for k in KEYS}
        timings[name] = seconds
        agree = overall.get("evaluator_agreement")
        print(
            f"{name:24s} {overall['recommended_share']:5.0%} {overall['lower_bound_held']:7.0%} "
            f"({overall['lower_bound_pairs']:3d}) {overall['savings_interval_covered']:9.0%} "
            f"{overall['realised_savings']:6.1%} {overall['realised_retention']:6.1%} "
            f"{overall['learned_gap_share_mean']:6.1%}  {'' if agree is None else f'{agree:.0%}'}  ({seconds:.0f} s)"
        )
    pairs = sum(r["lower_bound_pairs"] for r in results.values())
    held = sum(r["lower_bound_held"] * r["lower_bound_pairs"] for r in results.values())
    covered = sum(r["savings_interval_covered"] * r["lower_bound_pairs"] for r in results.values())
    read = _read_only(SHARED / "mmlu.jsonl")
    line = {
        "splits": args.splits,
        "sets": results,
        "lower_bound_held": held / pairs if pairs else 1.0,
        "savings_interval_covered": covered / pairs if pairs else 1.0,
        "recommended_pairs": pairs,
        "alpaca_gap_share": results["alpaca_eval"]["learned_gap_share_mean"],
        "mmlu_gap_share": results["mmlu"]["learned_gap_share_mean"],
        "mmlu_seconds": round(timings["mmlu"], 1),
        "mmlu_read_seconds": round(read, 2),
        "mmlu_ratio_to_read": round(timings["mmlu"] / read, 1) if read else None,
    }
    print(json.dumps(line, sort_keys=True))


if __name__ == "__main__":
    main()
