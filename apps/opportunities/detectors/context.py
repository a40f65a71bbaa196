"""Context growth: multi-turn conversations that resend their whole history every turn.

context.sql finds the conversations that grow (4 turns or more, nearly every turn longer than the
last, the last 1.5 times the first) and, turn by turn, the history each carries beyond the first
turn's prompt. The change priced: keep the system prompt, the newest turns and a running summary
within HISTORY_BUDGET tokens of history. The saving is the history above the budget, at the price
each trimmed token was paid (input, or cached input where it was read from cache), less what the
summaries cost (each trimmed token read once more, and a quarter of the budget written per budget
read, at the same model's prices). Reported only when most long conversations grow (a few growing
by chance are not a pattern).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from apps.opportunities.detectors.base import Finding, Key, Scan, per_endpoint, worth_it
from apps.opportunities.models import ActsOn, Kind
from apps.opportunities.projection import monthly
from apps.opportunities.rules import Change

HISTORY_BUDGET = 2_000  # tokens of history kept (recent turns and a summary)
MIN_GROWING_SHARE = 0.5
MODEL_REL = 0.15  # what a summary costs and keeps is the app's to tune


@dataclass
class _Acc:
    turns: int = 0
    growing: int = 0
    long: int = 0
    history: float = 0.0
    prompt: float = 0.0
    trimmed: float = 0.0
    trimmed_cached: float = 0.0
    over_turn: list[float] = field(default_factory=list)
    median_turns: list[float] = field(default_factory=list)
    example: str = ""
    by_day: dict[int, tuple[float, float, float, float]] = field(default_factory=dict)


def detect(scan: Scan) -> list[Finding]:
    acc: dict[Key, _Acc] = defaultdict(_Acc)
    rows = scan.query("context", {"budget": float(HISTORY_BUDGET)} | scan.rule_params()).dicts()
    for r in rows:
        a = acc[Key(r["endpoint"], r["provider"], r["model"])]
        a.turns += int(r["turn_calls"])
        a.growing += int(r["growing_conversations"])
        a.long += int(r["long_conversations"])
        a.history += float(r["history"])
        a.prompt += float(r["prompt_tokens"])
        a.trimmed += float(r["trimmed"])
        a.trimmed_cached += float(r["trimmed_cached"])
        if r["growing_conversations"]:
            a.over_turn.append(float(r["median_turn_over_budget"]))
            a.median_turns.append(float(r["median_turns"]))
            a.example = a.example or str(r["example_id"])
        a.by_day[int(r["day"])] = (r["trimmed"], r["trimmed_cached"], r["summary_in"], r["summaries"])
    growing = {key: a for key, a in acc.items() if a.long and a.growing >= MIN_GROWING_SHARE * a.long}
    return per_endpoint(scan, growing, _finding)


def _median(values: list[float]) -> float:
    ordered = sorted(v for v in values if v == v)  # NaN: no conversation passed the budget that day
    return ordered[len(ordered) // 2] if ordered else 0.0


def _finding(scan: Scan, endpoint: str, items: list[tuple[Key, _Acc]]) -> Finding | None:
    by_day: dict[int, float] = defaultdict(float)
    models: list[dict[str, Any]] = []
    history_cost = 0.0
    examples = []
    for key, a in items:
        prices = scan.prices(key.provider, key.model)
        if prices is None:
            continue
        for day, (trimmed, trimmed_cached, summary_in, summaries) in a.by_day.items():
            summary = summary_in * prices.input + summaries * HISTORY_BUDGET / 4 * prices.output
            by_day[day] += trimmed * prices.input + trimmed_cached * prices.cached - summary
        history_cost += a.history * prices.input
        examples.append(a.example)
        models.append({
            "model": key.model_key, "growing_conversations": a.growing, "long_conversations": a.long,
            "turns": a.turns, "history_tokens": round(a.history), "history_share_of_prompt":
            round(a.history / a.prompt, 4) if a.prompt else 0.0, "median_turns": _median(a.median_turns),
            "turn_history_passes_budget": _median(a.over_turn),
        })  # fmt: skip
    if not models:
        return None
    estimate = monthly(scan.series(endpoint, by_day), model_rel=MODEL_REL)
    spend = scan.spend(endpoint)
    if not worth_it(estimate, spend):
        return None
    window_spend = spend.monthly_nano * scan.day_count(endpoint) / (365.25 / 12)
    history_share = history_cost / window_spend if window_spend else 0.0
    over = _median([float(m["turn_history_passes_budget"]) for m in models])
    return Finding(
        endpoint=endpoint,
        kind=Kind.CONTEXT,
        subject="",
        title=f"Conversations resend their history: ≈{history_share:.0%} of spend is history",
        monthly=estimate,
        acts_on=ActsOn.INPUT,
        evidence={
            "history_share_of_spend": round(history_share, 4),
            "budget_tokens": HISTORY_BUDGET,
            "turn_history_passes_budget": over,
            "models": models,
        },
        change=Change(
            f"Keep at most {HISTORY_BUDGET:,} tokens of history: recent turns and a running summary",
            (
                "Send the system prompt, the last two or three turns, and a summary of the turns before them, "
                f"instead of every turn so far; refresh the summary when the history passes {HISTORY_BUDGET:,} "
                "tokens" + (f" (around turn {over:.0f} here)." if over else "."),
                "Summarise with a small model, or trim tool results and long documents the model has already used.",
                "Keep the system prompt and summary first so a prompt cache still hits.",
            ),
        ),
        examples=[e for e in examples if e][:3],
        baseline={"metric": "input_cost_per_call"},
    )
