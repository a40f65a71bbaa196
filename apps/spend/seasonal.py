"""Anomalies against a scope's own seasonal baseline (hour of day, day of week). Pure functions.

The baseline of an hour is the same hour of the week in up to four earlier weeks, with the hours
either side of each (up to 12 samples): a Monday 09:00 is compared with Mondays around 09:00, so a
weekly pattern — quiet weekends, a Monday-morning peak — is part of what is normal. A scope with
less than two weeks of history compares with the same hour of its last days of the same kind
(weekdays with weekdays, weekends with weekends); with less than three such days it is not judged.

An hour is anomalous only when all of these hold (`k` is the monitor's sensitivity, default 4):

- spend / calls: above median + k·scale, where scale is the largest of the samples' robust spread
  (1.4826·MAD), 10 % of the median and the noise the volume alone explains (√calls for counts;
  spend ÷ √calls for spend); at least 1.5× the median; and at least `min_abs` above it
  ($1 by default, 10 calls) — so a quiet scope's 3 calls instead of 1 never pages anyone;
- tokens per call: at least 30 calls, above median + k·scale (the larger of the samples' MAD, one
  call's spread over this hour's calls, 10 %) and ≥ 1.3× the median, for two hours in a row;
- error rate: at least 30 calls, errors above the baseline's pooled rate by k binomial standard
  deviations, as unlikely under that rate as k normal deviations (a Poisson tail), at least
  5 points and twice the baseline's rate.

Only rises are flagged: spend, calls and errors that jump. An episode opens on the first
anomalous hour and resolves after two normal hours in a row (apps.spend.services.anomalies).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
METRICS = ("spend", "calls", "tokens_per_call", "error_rate")
MIN_CALLS_FOR_RATIO = 30


@dataclass(frozen=True)
class Point:
    """One hour of a scope: calls, failed calls, cost (nano-USD) and tokens."""

    calls: int = 0
    errors: int = 0
    cost_nano: int = 0
    tokens: int = 0


ZERO = Point()


@dataclass(frozen=True)
class Verdict:
    hour: datetime
    metric: str
    observed: float | None
    expected: float  # the baseline (median, or the pooled rate)
    upper: float  # what the hour had to exceed
    score: float  # deviations above the baseline, in scales
    anomalous: bool
    samples: int  # baseline hours used (0 = not judged)
    basis: str  # "4 weeks of the same hour" / "5 days of the same hour" / why not judged

    @property
    def ratio(self) -> float | None:
        if self.observed is None or self.expected <= 0:
            return None
        return self.observed / self.expected


def baseline_hours(hour: datetime, history_start: datetime) -> tuple[list[datetime], str]:
    """The hours `hour` is compared with, and how they were chosen."""
    weeks = [hour - k * WEEK for k in range(1, 5) if hour - k * WEEK - HOUR >= history_start]
    if len(weeks) >= 2:
        return [w + d * HOUR for w in weeks for d in (-1, 0, 1)], f"{len(weeks)} weeks of the same hour"
    weekend = hour.weekday() >= 5
    days = [
        hour - k * DAY
        for k in range(1, 8)
        if hour - k * DAY - HOUR >= history_start and ((hour - k * DAY).weekday() >= 5) == weekend
    ]
    if len(days) >= 3:
        return [d + o * HOUR for d in days for o in (-1, 0, 1)], f"{len(days)} days of the same hour"
    return [], "not enough history yet (two weeks, or three days of the same kind)"


def _value(metric: str, p: Point) -> float | None:
    if metric == "spend":
        return p.cost_nano / 1e9
    if metric == "calls":
        return float(p.calls)
    if metric == "tokens_per_call":
        return p.tokens / p.calls if p.calls else None
    return p.errors / p.calls if p.calls else None


def _mad(values: list[float], center: float) -> float:
    return 1.4826 * statistics.median(abs(v - center) for v in values)


def judge(
    series: Mapping[datetime, Point],
    hour: datetime,
    metric: str,
    *,
    history_start: datetime,
    sensitivity: float = 4.0,
    min_abs: float | None = None,
) -> Verdict:
    """Is `hour` of `series` (hour → Point; missing hours are zero) far above its baseline?"""
    k = sensitivity
    now_point = series.get(hour, ZERO)
    observed = _value(metric, now_point)
    hours, basis = baseline_hours(hour, history_start)
    points = [series.get(h, ZERO) for h in hours]
    if not points:
        return Verdict(hour, metric, observed, 0.0, 0.0, 0.0, False, 0, basis)
    if metric == "error_rate":
        return _judge_errors(hour, now_point, points, k, basis)
    if metric == "tokens_per_call":
        pairs = [(v, p.calls) for p in points if p.calls >= 5 and (v := _value(metric, p)) is not None]
        if len(pairs) < 3 or observed is None or now_point.calls < MIN_CALLS_FOR_RATIO:
            return Verdict(hour, metric, observed, 0.0, 0.0, 0.0, False, 0, "too few calls to judge")
        ratios = [v for v, _ in pairs]
        median = statistics.median(ratios)
        # one call's spread, from how far each baseline hour's mean strayed given its calls (a
        # robust estimate: the median of a χ²(1) is 0.455), scaled to this hour's calls
        per_call = math.sqrt(statistics.median(n * (v - median) ** 2 for v, n in pairs) / 0.455)
        scale = max(_mad(ratios, median), per_call / math.sqrt(now_point.calls), 0.1 * median, 1e-9)
        upper = max(median + k * scale, 1.3 * median)
        # a few giant prompts can lift one hour's mean: a rise counts once it holds for two hours
        held = observed > upper and _ratio_high(series, hour - HOUR, upper)
        return Verdict(
            hour, metric, observed, median, upper, (observed - median) / scale, held, len(ratios), basis
        )
    values = [_value(metric, p) or 0.0 for p in points]
    median = statistics.median(values)
    calls_median = statistics.median(p.calls for p in points)
    if metric == "calls":
        noise = math.sqrt(max(median, 1.0))
        floor = 10.0 if min_abs is None else min_abs
    else:
        noise = median / math.sqrt(max(calls_median, 1.0))
        floor = 1.0 if min_abs is None else min_abs
    scale = max(_mad(values, median), 0.1 * median, noise, 1e-9)
    upper = max(median + k * scale, 1.5 * median, median + floor)
    value = observed or 0.0
    anomalous = value > upper
    return Verdict(
        hour, metric, value, median, upper, (value - median) / scale, anomalous, len(values), basis
    )


def _ratio_high(series: Mapping[datetime, Point], hour: datetime, upper: float) -> bool:
    point = series.get(hour, ZERO)
    return point.calls >= MIN_CALLS_FOR_RATIO and point.tokens / point.calls > upper


def _judge_errors(hour: datetime, now_point: Point, points: list[Point], k: float, basis: str) -> Verdict:
    calls = sum(p.calls for p in points)
    errors = sum(p.errors for p in points)
    rate = (errors + 1) / (calls + 50)  # a weak prior: a clean history is not a zero rate
    n = now_point.calls
    observed = now_point.errors / n if n else None
    if n < MIN_CALLS_FOR_RATIO or observed is None:
        return Verdict(hour, "error_rate", observed, rate, 0.0, 0.0, False, 0, "too few calls to judge")
    sd = math.sqrt(rate * (1 - rate) / n)
    score = (observed - rate) / sd if sd else 0.0
    # few errors are expected at a low rate, so the normal approximation is too eager: the count
    # must also be as unlikely under the baseline's rate as k standard deviations of a normal
    surprising = _poisson_tail(now_point.errors, n * rate) < math.erfc(k / math.sqrt(2)) / 2
    upper = max(rate + k * sd, rate + 0.05, 2 * rate)
    anomalous = observed > upper and surprising
    return Verdict(hour, "error_rate", observed, rate, upper, score, anomalous, len(points), basis)


def _poisson_tail(count: int, lam: float) -> float:
    """P(X >= count) for X ~ Poisson(lam)."""
    if count <= 0:
        return 1.0
    term = total = math.exp(-lam)
    for i in range(1, count):
        term *= lam / i
        total += term
    return max(0.0, 1.0 - total)


CALM_HOURS_TO_RESOLVE = 2


def episode_step(*, is_open: bool, calm_hours: int, anomalous: bool) -> tuple[str, int]:
    """One judged hour of an episode: ("open" | "resolve" | "", calm hours in a row since)."""
    if anomalous:
        return ("" if is_open else "open"), 0
    if not is_open:
        return "", 0
    calm_hours += 1
    return ("resolve", 0) if calm_hours >= CALM_HOURS_TO_RESOLVE else ("", calm_hours)
