"""How every page writes a share: one function behind each app's `pct` template filter, so a
quality bar, a retention or an error rate reads the same on every page ("95 %", "97.1 %")."""

from __future__ import annotations

from typing import Any

UNKNOWN = "—"


def percent(share: Any, digits: int | str = 1) -> str:
    """A fraction as a percentage with a space before the sign: 0.971 → '97.1 %'.

    `digits` decimals, or with a minus sign at most that many, trailing zeros dropped
    (0.95 → '95 %' with -1, as Django's floatformat does); a share too small to show is
    '< 0.1 %', never '0.0 %'."""
    if share is None or share == "":
        return UNKNOWN
    places = int(digits)
    trim, places = places < 0, abs(places)
    number = float(share) * 100
    if 0 < abs(number) < 10 ** (-places) / 2:
        return f"< {10 ** (-places):g} %"
    text = f"{number:.{places}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} %"
