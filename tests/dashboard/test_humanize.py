"""Numbers for people."""

from __future__ import annotations

import pytest

from apps.dashboard.templatetags.humanize_money import compact, delta, ms, pct, tokens, trend, usd, usd_exact


@pytest.mark.parametrize(
    ("nano", "text"),
    [
        (None, "—"),
        (0, "$0"),
        (68_000, "$0.000068"),
        (4_200_000, "$0.0042"),
        (420_000_000, "$0.42"),
        (12_340_000_000, "$12.34"),
        (123_400_000_000, "$123"),
        (1_234_000_000_000, "$1.2k"),
        (98_700_000_000_000, "$98.7k"),
        (3_400_000_000_000_000, "$3.4M"),
        (-5_000_000_000, "-$5.00"),
    ],
)
def test_usd(nano: int | None, text: str) -> None:
    assert usd(nano) == text


def test_exact_and_counts() -> None:
    assert usd_exact(123_450) == "$0.000123450" and usd_exact(None) == "—"
    assert (
        compact(3_400_000) == "3.4M"
        and compact(1_234) == "1.2k"
        and compact(999) == "999"
        and compact(120_000) == "120k"
    )
    assert tokens(3_400_000) == "3.4M tokens"
    assert pct(0.034) == "3.4 %" and pct(0.00001, 2) == "< 0.01 %" and pct(None) == "—"
    assert pct(0.95, -1) == "95 %" and pct(0.955, -1) == "95.5 %" and pct(0.971) == "97.1 %"
    assert ms(850) == "850 ms" and ms(1234) == "1.23 s" and ms(65_000) == "1m 5s"


def test_deltas_are_coloured_by_what_is_good() -> None:
    assert 'class="delta worse">▲ 25%</span> vs previous' in delta(125, 100, "down")
    assert 'class="delta better">▼ 20%' in delta(80, 100, "down")
    assert 'class="delta neutral">▲ 25%' in delta(125, 100, "none")
    assert "no earlier data" in delta(5, 0) and "± 0%" in delta(100, 100)
    assert "▲ 5.0%</span>" in trend(0.05) and "vs previous" not in trend(0.05) and "new" in trend(None)
    assert delta(2, 1, label="vs last month").endswith("vs last month")
