"""The recommendation rule: which option of an estimate to propose for a quality bar, or why none.

On the screening third of the samples (apps.routing.estimate), an option qualifies when the low
end of its 95 % retention interval clears the bar and the low end of its savings interval is above
zero; the qualifying option with the most savings is picked (the simpler strategy on a tie). It is
recommended only if the confirming two thirds — whose 99 % interval every page shows — clear the
same bar; no second pick is tried, so the shown interval never pays for a choice, and a pick that
scraped past the bar by luck rarely confirms.

Learned routers must earn their place (apps.routing.gain, apps.routing.options):

- where a plain option (override or cascade) qualifies on the screening part, a learned option
  competes with it only if the screening part shows it saving more than routing the same candidate
  at random would at the same retention (95 % lower bound of its gain over random above zero), and
  is recommended only if the confirming part shows that too (99 %): a router no better than a coin
  is never recommended over a plain override. Where no plain option qualifies, a learned option
  is a share of calls sent to the candidate whose promise holds like any other (its gain over random
  is shown beside it);
- of the two kinds, one per candidate: the encoder router (sentence embeddings) stands in for the
  linear one only when the project's SDKs report they can run it (`encoder_ok`) and, over the
  project's samples (each scored out of fold), its rankings save more than the linear router's by
  more than a standard error of the paired difference (`Estimate.kinds`, apps.routing.kinds: both kinds are
  trained on the project's endpoints together, so the comparison uses all of them). Otherwise the
  candidate's linear options stand. The kind is a choice between two rankings of the same prompts,
  made before any option is picked.

Thin evidence is never a recommendation:

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

from apps.core.formatting import percent
from apps.routing.options import Estimate, Option, usd

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


def uses_encoder(est: Estimate, target: str, *, encoder_ok: bool) -> bool:
    """Whether `target`'s learned options are its encoder router's (see the module docstring)."""
    found = est.kinds.get(target)
    return encoder_ok and found is not None and found.encoder_better


def eligible(est: Estimate, o: Option, *, encoder_ok: bool) -> bool:
    """Whether the rule may consider this option: a learned option of the kind its candidate uses."""
    if o.strategy != "learned":
        return True
    return o.is_encoder == uses_encoder(est, o.target, encoder_ok=encoder_ok)


def _encoder_notes(est: Estimate, *, encoder_ok: bool) -> list[str]:
    better = sorted(t for t, k in est.kinds.items() if k.encoder_better)
    if better and not encoder_ok:
        return [
            f"The encoder router beats the linear one for {', '.join(better)}, but not every SDK of this "
            "project can run it yet (install switchyard-sdk[encoder]): the linear router stands in."
        ]
    return []


def choose(
    est: Estimate, *, bar: float, excluded: Mapping[str, str] | None = None, encoder_ok: bool = False
) -> Choice:
    """The option to recommend under `bar` (or None, saying why); `excluded` candidates are skipped;
    encoder routers only when `encoder_ok` (the project's SDKs can run them)."""
    left_out = {**est.excluded, **(excluded or {})}
    options = [o for o in est.options if o.target not in left_out and eligible(est, o, encoder_ok=encoder_ok)]
    kinds = _encoder_notes(est, encoder_ok=encoder_ok)  # said with a recommendation too
    notes = [f"{key} left out: {why}." for key, why in sorted(left_out.items())] + kinds
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
    plain = [o for o in screened if o.strategy != "learned"]
    if plain:  # a learned router must earn its place over a plain option that qualifies
        screened = [o for o in screened if o.strategy != "learned" or o.screen_beats_random]
    pick = max(screened, key=lambda o: (o.screen_savings_nano, -o.simplicity), default=None)
    earned = pick is not None and (pick.strategy != "learned" or not plain or pick.beats_random)
    if pick is not None and qualifies(pick, bar) and earned:
        return Choice(pick, " ".join([describe(pick, est), *kinds]))
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
                    f"{percent(o.retention)} (99 % CI {percent(o.retention_low)}–{percent(o.retention_high)}); with about {n:,} "
                    f"replayed samples its bound would clear the {percent(bar, 0)} bar if the spread stays as it is.",
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
        "learned": f"Route the prompts the {'encoder' if o.is_encoder else 'learned'} router scores highest "
        f"to {o.target} ({percent(o.candidate_share, 0)} of calls)",
    }[o.strategy]
    text = (
        f"{how}: keeps {percent(o.retention)} of quality (99 % CI {percent(o.retention_low)}–{percent(o.retention_high)}) "
        f"and saves {usd(o.monthly_savings_nano)}/month "
        f"(99 % CI {usd(o.monthly_savings_low_nano)}–{usd(o.monthly_savings_high_nano)})."
    )
    if o.strategy == "learned" and o.gain_over_random_nano is not None:
        month = est.monthly_calls
        text += (
            f" That is {usd(o.gain_over_random_nano * month)}/month more than routing at random at the same "
            f"quality (99 % CI {usd((o.gain_over_random_low_nano or 0) * month)}–"
            f"{usd((o.gain_over_random_high_nano or 0) * month)})."
        )
    if est.simulated:
        text += f" Simulated ({' and '.join(est.simulated)}): not real advice until replayed on real models."
    return text


def _why_none(options: list[Option], bar: float) -> str:
    cheaper = [o for o in options if o.savings_per_call_nano > 0]
    if cheaper:
        best = max(cheaper, key=lambda o: o.retention_low)
        return (
            f"No option clears the {percent(bar, 0)} quality bar: the closest, {best.label}, keeps {percent(best.retention)} "
            f"(99 % CI {percent(best.retention_low)}–{percent(best.retention_high)})."
        )
    if options:
        return "No candidate is cheaper than the baseline on this traffic."
    return "No candidate could be evaluated."
