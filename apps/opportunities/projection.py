"""From a window's daily savings to dollars a month, with a 95 % interval.

A finding's saving is measured day by day over the window (7 days by default). A month is
365.25 / 12 days of the same traffic: the estimate is the daily mean times that. The interval is
for *next month's* saving, so it covers two things: how well the window's days pin the mean
(Student's t over the days) and how much a month of such days still varies (the same spread over a
month's days), combined as sd · √(1/n + 1/30.44) per day; plus each detector's own modelling
margin (`model_rel`: what its arithmetic cannot know, e.g. whether a truncated answer was really
retried), added in quadrature. Never below zero.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

DAYS_PER_MONTH = 365.25 / 12
# Two-sided 95 % Student's t quantiles by degrees of freedom (1 … 30); 1.96 beyond.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042)  # fmt: skip


@dataclass(frozen=True)
class Monthly:
    nano: int
    low_nano: int
    high_nano: int

    @property
    def usd(self) -> float:
        return self.nano / 1e9


def t95(df: int) -> float:
    return _T95[df - 1] if 1 <= df <= len(_T95) else 1.96


def monthly(per_day: Sequence[float], *, model_rel: float) -> Monthly:
    """Daily savings (nano-USD, one per day of the window the endpoint had traffic) → a month."""
    days = list(per_day)
    if not days:
        return Monthly(0, 0, 0)
    mean = statistics.fmean(days)
    month = mean * DAYS_PER_MONTH
    spread = 0.0
    if len(days) > 1:
        sd = statistics.stdev(days)
        spread = t95(len(days) - 1) * sd * DAYS_PER_MONTH * math.sqrt(1 / len(days) + 1 / DAYS_PER_MONTH)
    half = math.hypot(spread, abs(month) * model_rel)
    return Monthly(round(max(month, 0.0)), round(max(month - half, 0.0)), round(max(month + half, 0.0)))


def per_month(total_nano: float, days: float) -> int:
    """A total over `days` days as an amount a month."""
    return round(total_nano / days * DAYS_PER_MONTH) if days > 0 else 0
