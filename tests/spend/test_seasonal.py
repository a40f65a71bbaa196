"""Anomaly detection on synthetic weekly-seasonal traffic: planted spikes are flagged, a month of
normal weeks raises nothing. Prints recall and false alarms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apps.spend.seasonal import HOUR, Point, baseline_hours, episode_step, judge
from tests.spend.synthetic import Spike, traffic

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
HISTORY_WEEKS, MONTH_WEEKS = 2, 4
MONTH_START = START + timedelta(weeks=HISTORY_WEEKS)
MONTH_END = MONTH_START + timedelta(weeks=MONTH_WEEKS)


def _day(week: int, weekday: int, hour: int) -> datetime:
    return MONTH_START + timedelta(weeks=week, days=weekday, hours=hour)


# (scope, peak calls per hour, metric, spikes planted in the simulated month, the monitor's
# smallest rise worth an alert in dollars: $1 by default, a few cents for small scopes)
SCOPES: list[tuple[str, float, str, tuple[Spike, ...], float | None]] = [
    (
        "project",
        600,
        "spend",
        (Spike(_day(0, 2, 10), 2, "calls", 2.5), Spike(_day(2, 5, 14), 3, "cost", 4.0)),
        None,
    ),
    (
        "project",
        600,
        "calls",
        (Spike(_day(1, 1, 3), 2, "calls", 4.0), Spike(_day(3, 0, 9), 1, "calls", 2.0)),
        None,
    ),
    (
        "endpoint",
        40,
        "spend",
        (Spike(_day(1, 3, 15), 2, "cost", 5.0), Spike(_day(3, 6, 11), 4, "calls", 6.0)),
        0.1,
    ),
    ("endpoint", 40, "error_rate", (Spike(_day(2, 2, 11), 2, "errors", 25.0),), None),
    ("endpoint", 40, "tokens_per_call", (Spike(_day(0, 4, 16), 2, "cost", 3.0),), None),
    ("customer", 8, "spend", (Spike(_day(2, 1, 10), 3, "calls", 12.0),), 0.1),
    ("quiet endpoint", 3, "spend", (), 0.05),
    ("quiet endpoint", 3, "calls", (), None),
]


def episodes_of(
    series: dict[datetime, Point], metric: str, min_abs: float | None = None
) -> list[tuple[datetime, datetime]]:
    episodes: list[tuple[datetime, datetime]] = []
    is_open, calm, opened = False, 0, MONTH_START
    hour = MONTH_START
    while hour < MONTH_END:
        verdict = judge(series, hour, metric, history_start=START, min_abs=min_abs)
        action, calm = episode_step(is_open=is_open, calm_hours=calm, anomalous=verdict.anomalous)
        if action == "open":
            is_open, opened = True, hour
        elif action == "resolve":
            is_open = False
            episodes.append((opened, hour))
        hour += HOUR
    if is_open:
        episodes.append((opened, MONTH_END))
    return episodes


def test_planted_spikes_are_flagged_and_normal_weeks_stay_silent() -> None:
    planted = found = false_alarms = 0
    for seed, (scope, peak, metric, spikes, min_abs) in enumerate(SCOPES):
        series = traffic(
            start=START, weeks=HISTORY_WEEKS + MONTH_WEEKS, peak_calls=peak, seed=seed, spikes=spikes
        )
        episodes = episodes_of(series, metric, min_abs)
        for spike in spikes:
            planted += 1
            end = spike.start + spike.hours * HOUR
            # flagged while it lasts (an hour is judged once it is complete: within the next tick)
            found += any(opened < end and opened >= spike.start for opened, _ in episodes)
        for opened, _ in episodes:
            false_alarms += not any(s.start <= opened < s.start + (s.hours + 1) * HOUR for s in spikes)
        print(
            f"{scope:15} {metric:16} planted {len(spikes)} episodes {[o.strftime('%a %d %H:00') for o, _ in episodes]}"
        )
    recall = found / planted
    print(
        f"seasonal anomalies over a simulated month: recall {found}/{planted} = {recall:.2f}, false alarms {false_alarms}"
    )
    assert recall >= 0.9
    assert false_alarms == 0


def test_normal_month_of_a_busy_scope_is_silent_on_every_metric() -> None:
    series = traffic(start=START, weeks=HISTORY_WEEKS + MONTH_WEEKS, peak_calls=900, seed=99)
    for metric in ("spend", "calls", "tokens_per_call", "error_rate"):
        assert episodes_of(series, metric) == [], metric


def test_a_young_scope_is_compared_with_days_of_its_kind_then_judged() -> None:
    monday = START + timedelta(weeks=1, hours=10)  # history from the Wednesday before
    hours, basis = baseline_hours(monday, history_start=START + timedelta(days=2))
    assert basis == "3 days of the same hour" and {h.weekday() for h in hours} == {2, 3, 4}
    saturday = START + timedelta(days=12, hours=10)  # one weekend day of history: not judged
    assert baseline_hours(saturday, history_start=START + timedelta(days=4)) == (
        [],
        "not enough history yet (two weeks, or three days of the same kind)",
    )
    verdict = judge({}, START + timedelta(days=1), "spend", history_start=START)
    assert not verdict.anomalous and verdict.samples == 0 and "not enough history" in verdict.basis


def test_a_spike_reports_its_baseline_and_deviation() -> None:
    spike = Spike(_day(2, 2, 11), 1, "calls", 3.0)
    series = traffic(start=START, weeks=HISTORY_WEEKS + MONTH_WEEKS, peak_calls=600, seed=5, spikes=(spike,))
    verdict = judge(series, spike.start, "calls", history_start=START)
    assert verdict.anomalous and verdict.samples == 12 and verdict.basis == "4 weeks of the same hour"
    assert 2.3 < (verdict.ratio or 0) < 3.7 and verdict.score > 4
    assert verdict.observed > verdict.upper > verdict.expected
