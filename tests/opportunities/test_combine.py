"""Adding findings up without counting a dollar twice: with each other and with routing."""

from __future__ import annotations

import pytest

from apps.opportunities.combine import Figure, combine

SPEND, INPUT = 1_000, 600  # an endpoint's monthly spend and its input part (any unit)


def fig(kind: str, acts_on: str, saved: int, endpoint: str = "e") -> Figure:
    return Figure(endpoint, kind, acts_on, saved, saved // 2, saved * 2, SPEND, INPUT)


def test_one_finding_counts_whole_without_routing() -> None:
    total = combine([fig("caching", "input", 300)], {})
    assert (total.net_nano, total.net_low_nano, total.net_high_nano, total.overlap_nano) == (300, 150, 600, 0)


def test_routing_leaves_its_share_and_nothing_is_counted_twice() -> None:
    # Routing saves 40 % of the endpoint's spend; a 50 % cheaper tier then saves half of what is left.
    total = combine([fig("tier", "all", 500)], {"e": 400})
    assert total.net_nano == 300 and total.endpoints[0].left_share == pytest.approx(0.6)
    # Routing saving everything leaves nothing to save.
    assert combine([fig("tier", "all", 500)], {"e": 5_000}).net_nano == 0


def test_price_levers_stack_and_token_levers_count_on_what_they_leave() -> None:
    # A successor 20 % cheaper, then batch at half: 200 + 0.8 × 500 = 600 (not 700).
    assert combine([fig("model", "all", 200), fig("tier", "all", 500)], {}).net_nano == 600
    # Output savings after a 50 % tier: half of them.
    assert combine([fig("tier", "all", 500), fig("output", "output", 100)], {}).net_nano == 550


def test_caching_and_trimming_share_the_input_spend() -> None:
    # Caching would save 90 % of the input, trimming 60 %: together 1 − 0.1 × 0.4 = 96 % of it, not 150 %.
    total = combine([fig("caching", "input", 540), fig("context", "input", 360)], {})
    assert total.net_nano == round(INPUT * 0.96) and total.own_nano == 900
    # Never above what the endpoint spends, whatever the findings claim.
    assert combine([fig("caching", "input", 5_000), fig("output", "output", 5_000)], {}).net_nano == SPEND


def test_endpoints_add_up_and_are_ranked() -> None:
    total = combine([fig("caching", "input", 100, "a"), fig("tier", "all", 300, "b")], {"a": 500})
    assert [e.endpoint for e in total.endpoints] == ["b", "a"]
    assert total.net_nano == 300 + 50
