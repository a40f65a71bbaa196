"""From the (split, endpoint) runs to the summary `evaluate_routing` prints.

Rates over recommendations (`lower_bound_held`, `savings_interval_covered`) count only the pairs
where something was recommended; with none they are vacuously 1.0 and `recommended_pairs` says
so. `realised_savings` and `realised_retention` pool the recommended pairs' held-out halves: what
the recommended policies saved over what the baseline cost there, and the quality they served over
what the baseline served (per-pair mean and median beside them); `realised_savings_all` pools
every pair, declines included (they save nothing). The learned
router's share of the random→oracle gap is pooled per candidate over endpoints, averaged over
candidates, per split; its mean and standard deviation are over splits.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from apps.policies.evaluation.grading import Agreement
from apps.policies.evaluation.harness import Run


def _rate(hits: Iterable[bool | None]) -> tuple[float, int]:
    values = [h for h in hits if h is not None]
    return (sum(values) / len(values) if values else 1.0), len(values)


def _mean(values: list[float], empty: float) -> float:
    return float(statistics.fmean(values)) if values else empty


def _sd(values: list[float]) -> float:
    return float(statistics.stdev(values)) if len(values) > 1 else 0.0


def gap_shares(runs: list[Run], kind: str | None = None) -> dict[str, list[float]]:
    """Per split: the learned router's gap share and the three savings shares (of baseline cost); the
    shipped router's, or one kind's (`hashed_linear`, `encoder_linear`)."""
    by_split: dict[int, dict[str, dict[str, float]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(float))
    )
    for run in runs:
        for model, c in (run.curves if kind is None else run.kinds.get(kind, {})).items():
            sums = by_split[run.split][model]
            sums["learned"] += c.learned
            sums["random"] += c.random
            sums["oracle"] += c.oracle
            sums["cost"] += c.baseline_cost
    out: dict[str, list[float]] = defaultdict(list)
    for split in sorted(by_split):
        shares, learned, random_, oracle = [], [], [], []
        for sums in by_split[split].values():
            gap = sums["oracle"] - sums["random"]
            if sums["cost"] <= 0:
                continue
            learned.append(sums["learned"] / sums["cost"])
            random_.append(sums["random"] / sums["cost"])
            oracle.append(sums["oracle"] / sums["cost"])
            if gap > 0:
                shares.append((sums["learned"] - sums["random"]) / gap)
        if shares:
            out["gap_share"].append(float(statistics.fmean(shares)))
        if learned:
            out["learned"].append(float(statistics.fmean(learned)))
            out["random"].append(float(statistics.fmean(random_)))
            out["oracle"].append(float(statistics.fmean(oracle)))
    return out


def _block(runs: list[Run]) -> dict[str, Any]:
    rec = [r for r in runs if r.recommended]
    held, held_n = _rate(r.bound_held for r in rec)
    covered, covered_n = _rate(r.savings_covered for r in rec)
    fractions = [r.realised_savings_nano / r.baseline_nano for r in rec if r.baseline_nano > 0]
    retentions = [r.realised_retention for r in rec if r.realised_retention is not None]
    served = sum(r.served_quality for r in rec)
    reference = sum(r.baseline_quality for r in rec)
    saved = sum(r.realised_savings_nano for r in rec)
    rec_cost = sum(r.baseline_nano for r in rec)
    all_cost = sum(r.baseline_nano for r in runs)
    strategies: dict[str, int] = defaultdict(int)
    for r in rec:
        strategies[(r.option or {}).get("key", "").split(":", 1)[0]] += 1
    needs = [r.samples_needed for r in runs if not r.recommended and r.samples_needed]
    return {
        "pairs": len(runs),
        "recommended_pairs": len(rec),
        "recommended_share": len(rec) / len(runs) if runs else 0.0,
        "lower_bound_held": held,
        "lower_bound_pairs": held_n,
        "savings_interval_covered": covered,
        "savings_interval_pairs": covered_n,
        "realised_savings": saved / rec_cost if rec_cost else 0.0,
        "realised_retention": served / reference if reference else 1.0,
        "realised_savings_pair_mean": _mean(fractions, 0.0),
        "realised_retention_pair_median": float(statistics.median(retentions)) if retentions else 1.0,
        "realised_savings_all": saved / all_cost if all_cost else 0.0,
        "strategies": dict(strategies),
        "declined_for_evidence": sum(
            1 for r in runs if not r.recommended and r.reason.startswith("Not enough")
        ),
        "median_samples_needed": int(statistics.median(needs)) if needs else None,
    }


def summarize(
    runs: list[Run],
    *,
    splits: int,
    evaluator: str,
    skipped: dict[str, str],
    choices: dict[str, tuple[str, str]],
    agreement: dict[str, Agreement],
) -> dict[str, Any]:
    by_endpoint: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        by_endpoint[run.endpoint].append(run)
    per_split = defaultdict(list)
    for run in runs:
        per_split[run.split].append(run)
    split_held = [
        _block(rs)["lower_bound_held"] for rs in per_split.values() if any(r.recommended for r in rs)
    ]
    gaps = gap_shares(runs)
    agree = sum(a.agree for a in agreement.values())
    total = sum(a.total for a in agreement.values())
    endpoints: dict[str, Any] = {}
    for name, rs in sorted(by_endpoint.items()):
        block = _block(rs)
        g = gap_shares(rs)
        block["learned_gap_share_mean"] = _mean(g.get("gap_share", []), 0.0)
        if name in choices:
            block["evaluator"], block["evaluator_why"] = choices[name]
        if name in agreement and agreement[name].total:
            block["evaluator_agreement"] = agreement[name].share
        endpoints[name] = block
    overall = _block(runs)
    overall.update(
        {
            "splits": splits,
            "endpoints": len(by_endpoint),
            "evaluator": evaluator,
            "lower_bound_held_split_min": min(split_held) if split_held else 1.0,
            "learned_gap_share_mean": _mean(gaps.get("gap_share", []), 0.0),
            "learned_gap_share_sd": _sd(gaps.get("gap_share", [])),
            **{
                f"{name}_gap_share_mean": _mean(gap_shares(runs, kind).get("gap_share", []), 0.0)
                for name, kind in (("linear", "hashed_linear"), ("encoder", "encoder_linear"))
                if any(kind in r.kinds for r in runs)
            },
            "learned_savings_mean": _mean(gaps.get("learned", []), 0.0),
            "random_savings_mean": _mean(gaps.get("random", []), 0.0),
            "oracle_savings_mean": _mean(gaps.get("oracle", []), 0.0),
            "evaluator_agreement": agree / total if total else None,
            "simulated_pairs": sum(1 for r in runs if r.simulated),
            "skipped_endpoints": skipped,
        }
    )
    return {"overall": overall, "endpoints": endpoints}


def table(summary: dict[str, Any]) -> str:
    """A person's view of the summary: one line per endpoint, then the overall line."""
    head = (
        f"{'endpoint':32s} {'pairs':>5s} {'rec':>5s} {'bound ok':>8s} {'$ cover':>7s} "
        f"{'saved':>6s} {'kept':>6s} {'gap':>6s}  evaluator"
    )
    lines = [head]

    def row(name: str, b: dict[str, Any]) -> str:
        ev = b.get("evaluator", "")
        if b.get("evaluator_agreement") is not None:
            ev += f" (agrees {b['evaluator_agreement']:.0%})"
        return (
            f"{name[:32]:32s} {b['pairs']:5d} {b['recommended_share']:5.0%} {b['lower_bound_held']:8.0%} "
            f"{b['savings_interval_covered']:7.0%} {b['realised_savings']:6.1%} {b['realised_retention']:6.1%} "
            f"{b.get('learned_gap_share_mean', 0.0):6.1%}  {ev}"
        )

    for name, block in summary["endpoints"].items():
        lines.append(row(name, block))
    lines.append(row("OVERALL", summary["overall"]))
    o = summary["overall"]
    lines.append(
        f"learned router at ≥ bar on held-out prompts: random {o['random_savings_mean']:.1%}, learned "
        f"{o['learned_savings_mean']:.1%}, oracle {o['oracle_savings_mean']:.1%} of baseline cost; gap captured "
        f"{o['learned_gap_share_mean']:.1%} ± {o['learned_gap_share_sd']:.1%} over {o['splits']} splits"
    )
    if "encoder_gap_share_mean" in o:
        lines.append(
            f"by kind: linear {o.get('linear_gap_share_mean', 0.0):.1%}, encoder {o['encoder_gap_share_mean']:.1%}; "
            "the shipped router is the encoder where the project's out-of-fold scores show it beating the linear one"
        )
    return "\n".join(lines)
