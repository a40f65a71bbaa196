"""Known calls for dashboard tests, sent through POST /v1/ingest with the tenant's ingest key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apps.warehouse import client as warehouse
from apps.warehouse.client import ProjectScope
from tests.ingest.events import event, post_batch
from tests.tenancy import Tenant

# gpt-4o-mini: input $0.15/1M = 150 nano-USD per token, output $0.60/1M = 600 nano-USD per token.
MINI_IN, MINI_OUT = 150, 600
HAIKU_IN, HAIKU_OUT = 1000, 5000


def ts_text(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@dataclass
class CallSet:
    events: list[dict[str, Any]]
    now: datetime

    def by(self, **match: Any) -> list[dict[str, Any]]:
        return [e for e in self.events if all(e.get(k) == v for k, v in match.items())]

    @staticmethod
    def cost(e: dict[str, Any]) -> int | None:
        if e["model"] == "gpt-4o-mini":
            return e["input_tokens"] * MINI_IN + e["output_tokens"] * MINI_OUT
        if e["model"] == "claude-haiku-4-5":
            return e["input_tokens"] * HAIKU_IN + e["output_tokens"] * HAIKU_OUT
        return None


def build_calls(now: datetime, *, seed: int = 1) -> list[dict[str, Any]]:
    """36 calls: support-reply (gpt-4o-mini), summarise (claude-haiku-4-5), a custom model without a
    price; one error and one timeout; tags, users, conversations; all within the last 3 days."""
    out = []
    for i in range(36):
        endpoint = ("support-reply", "summarise", "support-reply", "tagger")[i % 4]
        provider, model = {
            "support-reply": ("openai", "gpt-4o-mini"),
            "summarise": ("anthropic", "claude-haiku-4-5"),
            "tagger": ("vllm", "house-llm-7b"),
        }[endpoint]
        status = "error" if i == 4 else "timeout" if i == 9 else "ok"
        out.append(
            event(
                event_id=str(uuid.UUID(int=(seed << 64) + i + 1)),
                ts=ts_text(now - timedelta(hours=2 * i, minutes=7)),
                endpoint=endpoint,
                provider=provider,
                model=model,
                input_tokens=100 * (i + 1),
                output_tokens=10 * (i + 1),
                latency_ms=200 + 50 * i,
                status=status,
                error_type="RateLimitError" if status == "error" else "",
                user_id=f"user-{i % 3}",
                conversation_id=f"conv-{i // 2}",
                tags=["tier:pro"] if i % 2 else ["tier:free"],
                metadata={"region": "eu"},
                request={
                    "messages": [{"role": "user", "content": f"Question {i}: mail me at jane{i}@example.com"}]
                },
                response={"content": f"Answer {i}"},
            )
        )
    return out


def store_calls(tenant: Tenant, *, now: datetime, seed: int = 1) -> CallSet:
    events = build_calls(now, seed=seed)
    response = post_batch(tenant.api("ingest"), events)
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == len(events), response.json()
    return CallSet(events, now)


def recompute(project_id: int, event_id: str, new_cost: int) -> None:
    """Write the call again as revision + 1 with a new cost, as apps.pricing's recompute does."""
    warehouse.system_command(
        """INSERT INTO llm_calls
           SELECT * REPLACE (revision + 1 AS revision, cost_nano_usd AS prev_cost_nano_usd,
                             toNullable(toInt64({cost:Int64})) AS cost_nano_usd)
           FROM llm_calls FINAL WHERE project_id = {p:UInt64} AND event_id = {e:UUID}""",
        {"p": project_id, "e": event_id, "cost": new_cost},
        feature="test",
    )


def stored_cost_sum(project_id: int) -> int:
    sql = "SELECT sum(cost_nano_usd) FROM llm_calls FINAL WHERE project_id = {project_id:UInt64}"
    return int(ProjectScope(project_id).query(sql, feature="test").scalar() or 0)
