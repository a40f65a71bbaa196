"""The recommendation rule: which option of an estimate to propose for a quality bar, or why none.

On the screening third of the samples (apps.routing.estimate), an option qualifies when the low
end of its 95 % retention interval clears the bar and the low end of its savings interval is above
zero; the qualifying option with the most savings is picked (the simpler strategy on a tie). It is
recommended only if the confirming two thirds — whose 99 % interval every page shows — clear the
same bar; no second pick is tried, so the shown interval never pays for a choice, and a pick that
scraped past the bar by luck rarely confirms. Thin evidence is
never a recommendation:

- fewer than `MIN_GROUPS` independent samples (conversations count once) → "not enough evidence
  yet", with how many more to replay;
- no option qualifies, but one would on its point estimate → "not enough evidence yet: N more
  samples needed", N from that option's own spread (the interval shrinks as 1/√n, down to what
  the endpoint's monthly volume allows);
- otherwise "no change", naming the option that came closest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from apps.routing.estimate import SIMPLICITY, Estimate, Option, usd

MIN_GROUPS = 60  # 20 to pick an option and 40 to confirm it
MAX_SAMPLES_NEEDED = 100_000


@dataclass(frozen=True)
class Choice:
    chosen: Option | None
    reason: str
    samples_needed: int | None = None  # total samples to replay for the nearest option to qualify


def samples_needed(o: Option, est: Estimate, *, bar: float) -> int | None:
    """Replayed samples at which this option's retention bound would clear the bar, its spread
    unchanged; None when no number of samples can (its point estimate is below the bar, or the
    endpoint's monthly volume alone varies more than the margin allows). The bound comes from the
    confirming part of the samples, so the replay needs that much more in all."""
    margin = o.retention - bar
    if margin <= 0 or o.retention_sd <= 0:
        return None
    month = est.monthly_calls
    critical = est.critical.get("retention", 2.0)
    room = (margin / (critical * o.retention_sd)) ** 2 - (1.0 / month if month > 0 else 0.0)
    if room <= 0:
        return None
    needed = math.ceil(1.0 / room * est.samples / max(o.samples, 1))
    return needed if needed <= MAX_SAMPLES_NEEDED else None


def qualifies(o: Option, bar: float) -> bool:
    return o.retention_low >= bar and o.savings_per_call_low_nano > 0


def choose(est: Estimate, *, bar: float, excluded: Mapping[str, str] | None = None) -> Choice:
    """The option to recommend under `bar` (or None, saying why); `excluded` candidates are skipped."""
    left_out = {**est.excluded, **(excluded or {})}
    options = [o for o in est.options if o.target not in left_out]
    notes = [f"{key} left out: {why}." for key, why in sorted(left_out.items())]
    if est.groups < MIN_GROUPS:
        more = MIN_GROUPS - est.groups
        return Choice(
            None,
            " ".join(
                [
                    f"Not enough evidence yet: {more} more samples needed. The replay has {est.samples} samples "
                    f"({est.groups} independent); at least {MIN_GROUPS} are needed before routing is recommended.",
                    *notes,
                ]
            ),
            samples_needed=est.samples + more,
        )
    screened = [o for o in options if o.screen_retention_low >= bar and o.screen_savings_low_nano > 0]
    pick = max(screened, key=lambda o: (o.screen_savings_nano, -SIMPLICITY[o.strategy]), default=None)
    if pick is not None and qualifies(pick, bar):
        return Choice(pick, describe(pick, est))
    near = [(o, samples_needed(o, est, bar=bar)) for o in options if o.savings_per_call_nano > 0]
    reachable = [(o, n) for o, n in near if n is not None and n > est.samples]
    if reachable:
        o, n = max(reachable, key=lambda pair: (pair[0].savings_per_call_nano, -pair[1]))
        more = n - est.samples
        return Choice(
            None,
            " ".join(
                [
                    f"Not enough evidence yet: {more:,} more samples needed. On its point estimate, {o.label} keeps "
                    f"{o.retention:.1%} (99% CI {o.retention_low:.1%}–{o.retention_high:.1%}); with about {n:,} "
                    f"replayed samples its bound would clear the {bar:.0%} bar if the spread stays as it is.",
                    *notes,
                ]
            ),
            samples_needed=n,
        )
    return Choice(None, " ".join([_why_none(options, bar), *notes]))


def describe(o: Option, est: Estimate) -> str:
    how = {
        "override": f"Send every call to {o.target}",
        "cascade": f"Try {o.target} first and escalate to the app's model when {' / '.join(o.checks)} fires",
        "learned": f"Route the prompts the learned router scores highest to {o.target} ({o.candidate_share:.0%} of calls)",
    }[o.strategy]
    text = (
        f"{how}: keeps {o.retention:.1%} of quality (99% CI {o.retention_low:.1%}–{o.retention_high:.1%}) "
        f"and saves {usd(o.monthly_savings_nano)}/month "
        f"(99% CI {usd(o.monthly_savings_low_nano)}–{usd(o.monthly_savings_high_nano)})."
    )
    if est.simulated:
        text += f" Simulated ({' and '.join(est.simulated)}): not real advice until replayed on real models."
    return text


def _why_none(options: list[Option], bar: float) -> str:
    cheaper = [o for o in options if o.savings_per_call_nano > 0]
    if cheaper:
        best = max(cheaper, key=lambda o: o.retention_low)
        return (
            f"No option clears the {bar:.0%} quality bar: the closest, {best.label}, keeps {best.retention:.1%} "
            f"(99% CI {best.retention_low:.1%}–{best.retention_high:.1%})."
        )
    if options:
        return "No candidate is cheaper than the baseline on this traffic."
    return "No candidate could be evaluated."
