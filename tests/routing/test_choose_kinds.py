"""The rule for learned routers (apps/routing/choose.py): a learned option must beat random routing
with confidence, and the encoder router stands in for the linear one only where the project's SDKs
run it and it beats the linear router with confidence. Pure: estimates built by hand."""

from __future__ import annotations

from typing import Any

from apps.routing.choose import choose, describe
from apps.routing.options import ENCODER, HASHED, Estimate, KindComparison, Option

TARGET = "openai/gpt-4o-mini"


def _option(strategy: str, savings: float, *, router: str = "", gain_low: float | None = None, **extra: Any) -> Option:
    gain = None if gain_low is None else gain_low + 50.0
    return Option(
        strategy=strategy, provider="openai", model="gpt-4o-mini", samples=200, groups=200,
        retention=0.99, retention_low=0.96, retention_high=1.0, cost_per_call_nano=10_000 - savings,
        savings_per_call_nano=savings, savings_per_call_low_nano=savings * 0.8,
        savings_per_call_high_nano=savings * 1.2, monthly_savings_nano=round(savings * 1000),
        monthly_savings_low_nano=round(savings * 800), monthly_savings_high_nano=round(savings * 1200),
        latency_p50_change_ms=0.0, latency_p95_change_ms=0.0, candidate_share=0.5,
        screen_retention_low=0.96, screen_savings_low_nano=savings * 0.8, screen_savings_nano=savings,
        share=0.5 if strategy == "learned" else None, threshold=0.1 if strategy == "learned" else None,
        router=router, gain_over_random_nano=gain, gain_over_random_low_nano=gain_low,
        gain_over_random_high_nano=None if gain is None else gain + 50.0,
        screen_gain_over_random_low_nano=gain_low, **extra,
    )  # fmt: skip


def _estimate(options: list[Option], kinds: dict[str, KindComparison] | None = None) -> Estimate:
    return Estimate(samples=300, groups=300, baseline_cost_per_call_nano=10_000, monthly_calls=1000,
                    options=options, kinds=kinds or {})  # fmt: skip


BETTER = {TARGET: KindComparison(difference_nano=300.0, low_nano=40.0, high_nano=560.0, shares=9)}
UNSURE = {TARGET: KindComparison(difference_nano=300.0, low_nano=-20.0, high_nano=620.0, shares=9)}


def test_a_learned_option_no_better_than_random_is_not_recommended_over_an_override() -> None:
    override = _option("override", 3000.0)
    coin = _option("learned", 5000.0, router=HASHED, gain_low=-100.0)  # saves more, but as a coin would
    assert choose(_estimate([override, coin]), bar=0.95).chosen == override
    # with no plain option to prefer, it is a share of calls sent to the candidate: its promise holds
    assert choose(_estimate([coin]), bar=0.95).chosen == coin
    earned = _option("learned", 5000.0, router=HASHED, gain_low=100.0)
    chosen = choose(_estimate([override, earned]), bar=0.95).chosen
    assert chosen == earned
    assert "more than routing at random at the same quality (99 % CI $0.0001–$0.0002)" in describe(
        earned, _estimate([earned])
    )


def test_the_encoder_router_only_where_sdks_run_it_and_it_beats_the_linear_one() -> None:
    linear = _option("learned", 4000.0, router=HASHED, gain_low=100.0)
    enc = _option("learned", 6000.0, router=ENCODER, gain_low=300.0)
    assert enc.key == f"learned:{TARGET}@50:encoder" and linear.key == f"learned:{TARGET}@50"
    # confidently better, and every SDK runs it: the encoder router
    assert choose(_estimate([linear, enc], BETTER), bar=0.95, encoder_ok=True).chosen == enc
    # the SDKs cannot run it: the linear router, and the reason says why
    decision = choose(_estimate([linear, enc], BETTER), bar=0.95, encoder_ok=False)
    assert decision.chosen == linear and "switchyard-sdk[encoder]" in decision.reason
    # better on its point estimate only: the linear router
    assert choose(_estimate([linear, enc], UNSURE), bar=0.95, encoder_ok=True).chosen == linear
    # when the encoder is the candidate's kind, its linear options are not considered, even if richer
    rich_linear = _option("learned", 9000.0, router=HASHED, gain_low=100.0)
    assert choose(_estimate([rich_linear, enc], BETTER), bar=0.95, encoder_ok=True).chosen == enc


def test_estimates_stored_before_encoder_routers_read_as_linear() -> None:
    raw = _estimate([_option("learned", 4000.0, router=HASHED, gain_low=1.0)]).as_json()
    for o in raw["options"]:
        o.pop("router")
        o.pop("gain_over_random_low_nano")
    for key in ("encoder_routers", "encoder", "kinds", "encoder_note"):
        raw.pop(key)
    back = Estimate.from_json(raw)
    assert back.options[0].router == HASHED and back.kinds == {} and back.encoder is None
    assert not back.options[0].beats_random  # no figure, no claim
