"""How each endpoint's calls arrive (traffic.sql, bursts.sql): read once per run, used by several
detectors (prefix coverage for caching, streaming and burstiness for the batch tier)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from apps.opportunities.detectors.base import Key, Scan


@dataclass(frozen=True)
class ModelTraffic:
    calls: int = 0
    ok_calls: int = 0
    with_prefix: int = 0
    streamed: int = 0
    not_streamed: int = 0
    without_user: int = 0
    without_conversation: int = 0
    discounted: int = 0
    with_finish: int = 0
    p50_latency_ms: float = 0.0
    p95_latency_ms: float = 0.0


@dataclass(frozen=True)
class Bursts:
    calls: int = 0
    burst_calls: int = 0
    burst_minutes: int = 0
    peak_per_minute: int = 0
    active_minutes: int = 0

    @property
    def burst_share(self) -> float:
        return self.burst_calls / self.calls if self.calls else 0.0


@dataclass(frozen=True)
class Traffic:
    by_model: dict[Key, ModelTraffic]
    bursts: dict[str, Bursts]

    def endpoint(self, endpoint: str) -> ModelTraffic:
        """The endpoint's models added up (latencies: the busiest model's)."""
        rows = [t for k, t in self.by_model.items() if k.endpoint == endpoint]
        if not rows:
            return ModelTraffic()
        busiest = max(rows, key=lambda t: t.calls)
        sums = {
            f.name: sum(getattr(t, f.name) for t in rows)
            for f in fields(ModelTraffic)
            if "latency" not in f.name
        }
        return ModelTraffic(
            **sums, p50_latency_ms=busiest.p50_latency_ms, p95_latency_ms=busiest.p95_latency_ms
        )


_COUNTS = [f.name for f in fields(ModelTraffic)]
_BURSTS = [f.name for f in fields(Bursts)]


def read_traffic(scan: Scan) -> Traffic:
    by_model = {
        Key(r["endpoint"], r["provider"], r["model"]): ModelTraffic(**{n: r[n] for n in _COUNTS})
        for r in scan.query("traffic").dicts()
    }
    minutes = max(1.0, scan.days * 1440)
    bursts = {
        r["endpoint"]: Bursts(**{n: int(r[n]) for n in _BURSTS})
        for r in scan.query("bursts", {"minutes": minutes}).dicts()
    }
    return Traffic(by_model, bursts)
