"""What an estimate holds (apps.routing.estimate makes it): every option with its intervals, the
learned routers that ship with the learned options, and how the two kinds of learned router compare.

A learned option names its `router`: `hashed_linear` (the linear router over hashed n-grams,
apps.routing.learned, members in `Estimate.routers`) or `encoder_linear` (ridge heads on sentence
embeddings, apps.routing.encoder_pool, members in `Estimate.encoder_routers`, the encoder it needs
in `Estimate.encoder`). Learned options also carry their *gain over random*: the savings per call
beyond what routing a random share of calls to the same candidate would save at the same quality
retention (apps.routing.gain), with its interval — on the confirming part at 99 % and, for picking,
on the screening part at 95 %. `Estimate.kinds` compares the two kinds on the out-of-fold scores of
the project's samples (apps.routing.kinds): the savings per call each kind's ranking reaches,
encoder minus linear, with a one-standard-error band.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from apps.core.formatting import percent
from apps.routing import learned

HASHED = "hashed_linear"
ENCODER = "encoder_linear"
SIMPLICITY = {"override": 0, "cascade": 1, "learned": 2}
NEVER = 1e12  # a threshold no score reaches: a fallback that keeps every prompt on the app's model


@dataclass(frozen=True)
class Option:
    strategy: str
    provider: str
    model: str
    samples: int
    groups: int
    retention: float
    retention_low: float
    retention_high: float
    cost_per_call_nano: float
    savings_per_call_nano: float
    savings_per_call_low_nano: float
    savings_per_call_high_nano: float
    monthly_savings_nano: int
    monthly_savings_low_nano: int
    monthly_savings_high_nano: int
    latency_p50_change_ms: float
    latency_p95_change_ms: float
    candidate_share: float  # share of calls the candidate's answer is kept for
    retention_sd: float = 0.0  # per-sample spread behind the interval (for "samples needed")
    screen_retention_low: float = 0.0  # the screening part's bound (what picks the option)
    screen_savings_low_nano: float = 0.0
    screen_savings_nano: float = 0.0
    checks: tuple[str, ...] = ()
    share: float | None = None  # learned: the share of prompts it was set to route
    threshold: float | None = None  # learned: the score threshold that routes that share
    on_frontier: bool = False
    router: str = ""  # learned: HASHED or ENCODER
    gain_over_random_nano: float | None = None  # learned: per call, confirming part
    gain_over_random_low_nano: float | None = None  # 99 %
    gain_over_random_high_nano: float | None = None
    screen_gain_over_random_low_nano: float | None = None  # 95 %, screening part

    @property
    def target(self) -> str:
        return f"{self.provider}/{self.model}"

    @property
    def is_encoder(self) -> bool:
        return self.strategy == "learned" and self.router == ENCODER

    @property
    def key(self) -> str:
        if self.strategy != "learned":
            return f"{self.strategy}:{self.target}"
        kind = ":encoder" if self.is_encoder else ""
        return f"learned:{self.target}@{round((self.share or 0) * 100)}{kind}"

    @property
    def label(self) -> str:
        if self.strategy == "learned":
            name = "encoder router" if self.is_encoder else "learned router"
            return f"{name}, {percent(self.candidate_share, 0)} of calls → {self.target}"
        if self.strategy == "cascade":
            return f"cascade {self.target} → baseline on {' / '.join(self.checks)}"
        return f"override → {self.target}"

    @property
    def simplicity(self) -> int:
        return SIMPLICITY[self.strategy] + (1 if self.is_encoder else 0)

    @property
    def beats_random(self) -> bool:
        """A learned option's confirming part shows it saves more than random routing would (99 %)."""
        return self.gain_over_random_low_nano is not None and self.gain_over_random_low_nano > 0

    @property
    def screen_beats_random(self) -> bool:
        return self.screen_gain_over_random_low_nano is not None and self.screen_gain_over_random_low_nano > 0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["checks"] = list(self.checks)
        out["key"] = self.key
        out["label"] = self.label
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Option:
        names = set(cls.__dataclass_fields__)
        data = {k: v for k, v in raw.items() if k in names}
        data["checks"] = tuple(data.get("checks") or ())
        if data.get("strategy") == "learned" and not data.get("router"):
            data["router"] = HASHED  # estimates made before encoder routers
        return cls(**data)


@dataclass(frozen=True)
class KindComparison:
    """Encoder router against linear router over the project's samples, scored out of fold
    (apps.routing.kinds): the encoder stands in only when `low_nano` is above zero."""

    difference_nano: float  # encoder − linear: savings per call their rankings reach, mean over bars
    low_nano: float  # the difference less `kinds.KIND_Z` standard errors
    high_nano: float
    shares: int  # how many retention bars the difference averages over (0: nothing compared)

    @property
    def encoder_better(self) -> bool:
        return self.shares > 0 and self.low_nano > 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Estimate:
    samples: int
    groups: int
    baseline_cost_per_call_nano: float
    monthly_calls: int
    options: list[Option] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)  # "provider/model" → why not evaluated
    routers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # candidate → linear members
    critical: dict[str, float] = field(default_factory=dict)  # the normal quantiles of the shown intervals
    simulated: tuple[str, ...] = ()  # what in the evidence is simulated ("candidates", "judge")
    encoder_routers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # candidate → members
    encoder: dict[str, Any] | None = None  # the encoder the encoder routers need (protocol's `encoder`)
    kinds: dict[str, KindComparison] = field(default_factory=dict)  # candidate → encoder vs linear
    encoder_note: str = ""  # why there are no encoder options, when there are none

    def option(self, key: str) -> Option | None:
        return next((o for o in self.options if o.key == key), None)

    def router_for(self, option: Option) -> dict[str, Any] | None:
        """The learned router that ships for a learned option (its members, its threshold); an encoder
        router carries the linear router of its candidate at the nearest share as its fallback."""
        if option.strategy != "learned" or option.threshold is None:
            return None
        if option.is_encoder:
            from apps.routing.encoder_pool import export

            members = self.encoder_routers.get(option.target)
            if not members or self.encoder is None:
                return None
            return export(
                members,
                threshold=option.threshold,
                encoder_spec=self.encoder,
                fallback=self._fallback(option),
            )
        members = self.routers.get(option.target)
        return learned.export_members(members, threshold=option.threshold) if members else None

    def _fallback(self, option: Option) -> dict[str, Any] | None:
        linear = [
            o for o in self.options
            if o.strategy == "learned" and not o.is_encoder and o.target == option.target
        ]  # fmt: skip
        if not linear:
            # no linear option to stand in: its members still score the blend, and route nothing
            members = self.routers.get(option.target)
            return learned.export_members(members, threshold=NEVER) if members else None
        nearest = min(linear, key=lambda o: (abs((o.share or 0) - (option.share or 0)), o.share or 0))
        return self.router_for(nearest)

    def as_json(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "groups": self.groups,
            "baseline_cost_per_call_nano": self.baseline_cost_per_call_nano,
            "monthly_calls": self.monthly_calls,
            "options": [o.as_dict() for o in self.options],
            "excluded": dict(self.excluded),
            "routers": self.routers,
            "critical": self.critical,
            "simulated": list(self.simulated),
            "encoder_routers": self.encoder_routers,
            "encoder": self.encoder,
            "kinds": {k: v.as_dict() for k, v in self.kinds.items()},
            "encoder_note": self.encoder_note,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Estimate:
        return cls(
            samples=int(raw["samples"]),
            groups=int(raw["groups"]),
            baseline_cost_per_call_nano=float(raw["baseline_cost_per_call_nano"]),
            monthly_calls=int(raw["monthly_calls"]),
            options=[Option.from_dict(o) for o in raw.get("options", [])],
            excluded=dict(raw.get("excluded", {})),
            routers={k: list(v) for k, v in raw.get("routers", {}).items()},
            critical={k: float(v) for k, v in raw.get("critical", {}).items()},
            simulated=tuple(raw.get("simulated", ())),
            encoder_routers={k: list(v) for k, v in (raw.get("encoder_routers") or {}).items()},
            encoder=raw.get("encoder"),
            kinds={k: KindComparison(**v) for k, v in (raw.get("kinds") or {}).items()},
            encoder_note=str(raw.get("encoder_note") or ""),
        )


def frontier(options: list[Option], baseline_cost: float) -> list[Option]:
    """The options marked `on_frontier` where no other option (nor the baseline) is as cheap and as good."""
    points = [(o.cost_per_call_nano, o.retention) for o in options] + [(baseline_cost, 1.0)]
    out = []
    for o in options:
        dominated = any(
            cost <= o.cost_per_call_nano
            and retention >= o.retention
            and (cost, retention) != (o.cost_per_call_nano, o.retention)
            for cost, retention in points
        )
        out.append(replace(o, on_frontier=not dominated))
    return out


def usd(nano: float) -> str:
    value = nano / 1e9
    sign, value = ("-", -value) if value < 0 else ("", value)
    if value >= 100:
        return f"{sign}${value:,.0f}"
    if value >= 1:
        return f"{sign}${value:,.2f}"
    return f"{sign}${value:.4f}"
