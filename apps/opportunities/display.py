"""A finding's evidence as the facts a page shows, per kind (label, text): counts, shares, prices."""

from __future__ import annotations

from typing import Any

from apps.opportunities.models import Kind, Opportunity


def _pct(value: Any) -> str:
    return f"{float(value or 0):.0%}"


def _n(value: Any) -> str:
    return f"{int(value or 0):,}"


def _gap(seconds: Any) -> str:
    if seconds is None:
        return "—"
    s = float(seconds)
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.0f} min" if s < 7200 else f"{s / 3600:.1f} h"


def _caching(e: dict[str, Any]) -> list[tuple[str, str]]:
    prices = e.get("prices_per_mtok", {})
    return [
        ("Model", e.get("model", "")),
        ("Calls (with a prompt prefix)", f"{_n(e.get('calls'))} ({_n(e.get('calls_with_prefix'))})"),
        ("Prompt tokens a call that repeat", _n(e.get("cacheable_tokens_per_call"))),
        ("Read from the cache now", _pct(e.get("cached_share_now"))),
        ("Calls whose prefix repeats (median gap)", f"{_n(e.get('repeats'))} ({_gap(e.get('median_gap_s'))})"),
        ("Provider's minimum cacheable prompt", f"{_n(e.get('min_cacheable_tokens'))} tokens"),
        ("Cache lifetime priced", e.get("lifetime", "")),
        ("Input / cached / write, per 1M tokens",
         f"${prices.get('input', 0):g} / ${prices.get('cached', 0):g} / ${prices.get('write', 0):g}"),
    ]  # fmt: skip


def _tier(e: dict[str, Any]) -> list[tuple[str, str]]:
    models = ", ".join(f"{m['model']} ({m['tier']} −{float(m['discount']):.0%})" for m in e.get("models", []))
    return [
        ("Why it looks like background work", e.get("why", "")),
        ("Calls", _n(e.get("calls"))),
        ("Streamed", _pct(e.get("streamed_share"))),
        ("In bursts (peak a minute)", f"{_pct(e.get('burst_share'))} ({_n(e.get('peak_calls_per_minute'))})"),
        ("Without an end user", _pct(e.get("without_user_share"))),
        ("Latency p50 / p95", f"{_n(e.get('p50_latency_ms'))} / {_n(e.get('p95_latency_ms'))} ms"),
        ("Models and their cheaper tier", models),
    ]


def _output(e: dict[str, Any]) -> list[tuple[str, str]]:
    out = [
        ("Answers cut at the limit (asked again)", f"{_n(e.get('cut'))} ({_n(e.get('retried'))})"),
        ("Answers over 3× the typical length", _n(e.get("long_answers"))),
    ]
    for m in e.get("models", []):
        out.append((
            m["model"],
            f"typical answer {_n(m.get('median_output'))} tokens, p99 {_n(m.get('p99_output'))}, "
            f"max_tokens ≈{_n(m.get('typical_max_tokens'))}",
        ))  # fmt: skip
    return out


def _context(e: dict[str, Any]) -> list[tuple[str, str]]:
    out = [
        ("Share of the endpoint's spend that is history", _pct(e.get("history_share_of_spend"))),
        ("History kept by the change", f"{_n(e.get('budget_tokens'))} tokens"),
        ("History passes that at turn", f"{float(e.get('turn_history_passes_budget') or 0):.0f}"),
    ]
    for m in e.get("models", []):
        out.append((
            m["model"],
            f"{_n(m.get('growing_conversations'))} growing of {_n(m.get('long_conversations'))} conversations "
            f"of 4+ turns, median {float(m.get('median_turns') or 0):.0f} turns; "
            f"{_pct(m.get('history_share_of_prompt'))} of their prompt tokens are history",
        ))  # fmt: skip
    return out


def _model(e: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("Model", e.get("model", "")),
        ("Successor", e.get("successor") or "none named"),
        ("Deprecated", e.get("deprecated_on") or "—"),
        ("Retires", e.get("retires_on") or "—"),
        ("Successor's cost for the same tokens", _pct(e.get("cost_ratio"))),
        ("Calls", _n(e.get("calls"))),
    ]


_BY_KIND = {
    Kind.CACHING: _caching,
    Kind.TIER: _tier,
    Kind.OUTPUT: _output,
    Kind.CONTEXT: _context,
    Kind.MODEL: _model,
}


def facts(o: Opportunity) -> list[tuple[str, str]]:
    build = _BY_KIND.get(Kind(o.kind)) if o.kind in Kind.values else None
    return build(o.evidence or {}) if build else []
