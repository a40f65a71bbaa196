"""The columns of ClickHouse `replay_results` as the engine writes them, and the write itself."""

from __future__ import annotations

from typing import Any

from apps.warehouse import client as warehouse

RESULT_COLUMNS = (
    "project_id",
    "job_id",
    "sample_id",
    "candidate",
    "endpoint",
    "seq",
    "stratum",
    "call_ts",
    "conversation_id",
    "simulated",
    "prompt_text",
    "baseline_output",
    "baseline_cost_nano",
    "baseline_latency_ms",
    "output",
    "ok",
    "error",
    "failed_checks",
    "input_tokens",
    "output_tokens",
    "cost_nano",
    "eval_cost_nano",
    "charged_nano",
    "latency_ms",
    "attempts",
    "evaluator",
    "quality",
    "verdicts",
)


def store_results(rows: list[dict[str, Any]]) -> None:
    """Write result rows to ClickHouse `replay_results` (one insert)."""
    warehouse.system_insert(
        "replay_results",
        [[r[c] for c in RESULT_COLUMNS] for r in rows],
        RESULT_COLUMNS,
        feature="replay.results",
    )
