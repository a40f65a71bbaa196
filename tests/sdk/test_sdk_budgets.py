"""Budget actions in the SDK (docs/protocol.md, "Budgets"): a signed config with exhausted
budgets makes the real ``openai`` client, wrapped, raise BudgetExceededError (block) or send to
the cheaper model (downgrade), per scope; never silently, and not after the period resets."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import switchyard
from conftest import policy, policy_config
from switchyard._budgets import applicable
from switchyard._config import parse_config
from switchyard._context import Scope
from sy_fake_providers import ProviderState
from sy_fake_switchyard import SwitchyardState

openai = pytest.importorskip("openai")

MSGS = [{"role": "user", "content": "Summarise my week"}]
LATER = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
EARLIER = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def entry(budget_id: int, kind: str, value: str, action: str, resets_at: str = LATER, **extra: Any) -> dict[str, Any]:
    return {"budget_id": budget_id, "name": f"budget {budget_id}", "scope": {"kind": kind, "value": value},
            "period": "day", "limit_usd": 25.0, "resets_at": resets_at, "action": action, **extra}  # fmt: skip


CHEAP = {"downgrade_to": {"provider": "openai", "model": "gpt-4o-mini"}}


def budgets_config(
    version: int, *entries: dict[str, Any], customer_key: str = "customer_id", policies: tuple[Any, ...] = ()
) -> dict[str, Any]:
    return policy_config(version, *policies, budgets={"customer_key": customer_key, "exhausted": list(entries)})


def ask(client: Any, **sy: Any) -> str:
    reply = client.chat.completions.create(model="gpt-4o", messages=MSGS, switchyard=sy)
    return str(reply.choices[0].message.content)


def test_block_raises_a_catchable_error_and_spends_nothing(
    start_sdk: Callable[..., Any], sink: SwitchyardState, openai_peer: ProviderState, openai_client: Any
) -> None:
    sink.publish(budgets_config(1, entry(7, "user", "u-greedy", "block")))
    start_sdk()
    assert switchyard.wait_for_config(5.0)
    client = switchyard.wrap(openai_client)
    with pytest.raises(switchyard.BudgetExceededError) as caught:
        ask(client, endpoint="chat", user_id="u-greedy")
    error = caught.value
    assert isinstance(error, switchyard.SwitchyardError)
    assert (error.budget_id, error.scope_kind, error.scope_value, error.period) == (7, "user", "u-greedy", "day")
    assert error.resets_at == datetime.strptime(LATER, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert "budget 'budget 7'" in str(error) and "blocked" in str(error)
    assert openai_peer.requests == []  # nothing was sent, nothing was spent
    assert ask(client, endpoint="chat", user_id="u-fine") == "answer from gpt-4o"  # other users go through
    with (
        switchyard.attributes(user_id="u-greedy"),
        pytest.raises(switchyard.BudgetExceededError),
        switchyard.track(provider="openai", model="gpt-4o"),
    ):
        pass
    assert switchyard.stats().budget_blocked == 2


def test_downgrade_routes_to_the_cheaper_model_and_says_so(
    start_sdk: Callable[..., Any], sink: SwitchyardState, openai_peer: ProviderState, openai_client: Any
) -> None:
    routing = policy("chat", "override", [{"provider": "openai", "model": "gpt-4.1"}])
    sink.publish(budgets_config(1, entry(3, "customer", "acme", "downgrade", **CHEAP), policies=(routing,),
                                customer_key="metadata:account"))  # fmt: skip
    start_sdk()
    assert switchyard.wait_for_config(5.0)
    client = switchyard.wrap(openai_client)
    assert ask(client, endpoint="chat", metadata={"account": "acme"}) == "answer from gpt-4o-mini"  # budget wins
    assert ask(client, endpoint="chat", metadata={"account": "globex"}) == "answer from gpt-4.1"  # its policy
    assert ask(client, endpoint="chat", customer_id="acme") == "answer from gpt-4o-mini"
    assert switchyard.flush(5.0)
    events = sorted(sink.wait_for_events(3), key=lambda e: e["ts"])
    assert events[0]["routing"] == {"policy_version": 0, "arm": "candidate", "target": "openai/gpt-4o-mini",
                                    "reason": "budget:3"}  # fmt: skip
    assert events[2]["customer_id"] == "acme" and events[2]["model"] == "gpt-4o-mini"
    assert switchyard.stats().budget_downgraded == 2


def test_a_downgrade_without_routing_keeps_the_model_and_records_why(
    start_sdk: Callable[..., Any], sink: SwitchyardState, openai_peer: ProviderState, openai_client: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    sink.publish(budgets_config(1, entry(4, "project", "", "downgrade", **CHEAP)))
    start_sdk(enable_routing=False)
    assert switchyard.wait_for_config(5.0)
    client = switchyard.wrap(openai_client)
    assert ask(client, endpoint="chat") == "answer from gpt-4o"
    assert switchyard.flush(5.0)
    (event,) = sink.wait_for_events(1)
    assert event["routing"]["reason"] == "budget:4:routing_disabled"
    assert "routing is off" in caplog.text


def test_scopes_periods_and_precedence() -> None:
    config = parse_config(json.dumps(budgets_config(
        1,
        entry(1, "endpoint", "chat", "downgrade", **CHEAP),
        entry(2, "model", "gpt-4o", "block"),
        entry(3, "user", "u1", "block", resets_at=EARLIER),  # its period has reset: ignored
        entry(4, "customer", "acme", "block"),
        customer_key="tag:customer",
    )).encode())  # fmt: skip
    rules, key = config.budgets, config.customer_key

    def rule(scope: Scope, endpoint: str = "chat", model: str = "gpt-4o-mini") -> int | None:
        found = applicable(rules, key, scope, endpoint=endpoint, model=model)
        return found.budget_id if found else None

    assert rule(Scope()) == 1  # the endpoint's downgrade
    assert rule(Scope(), model="gpt-4o") == 2  # a block comes before a downgrade
    assert rule(Scope(user_id="u1"), endpoint="other") is None
    assert rule(Scope(tags=("tier:pro", "customer:acme")), endpoint="other") == 4
    assert rule(Scope(customer_id="globex", tags=("customer:acme",)), endpoint="other") is None


@pytest.mark.parametrize(
    ("budgets", "message"),
    [
        ({"exhausted": [{"budget_id": 1, "scope": {"kind": "team"}, "action": "block"}]}, "scope"),
        ({"exhausted": [entry(1, "user", "u", "downgrade")]}, "downgrade_to"),
        ({"exhausted": [entry(1, "user", "u", "refund")]}, "action"),
        ({"exhausted": [{**entry(1, "user", "u", "block"), "resets_at": "soon"}]}, "resets_at"),
    ],
)
def test_a_malformed_budget_rejects_the_config(budgets: dict[str, Any], message: str) -> None:
    with pytest.raises(switchyard.InvalidConfigError, match=message):
        parse_config(json.dumps(policy_config(1, budgets=budgets)).encode())


def test_a_new_config_lifts_the_block(
    start_sdk: Callable[..., Any], sink: SwitchyardState, openai_peer: ProviderState, openai_client: Any
) -> None:
    sink.publish(budgets_config(1, entry(9, "project", "", "block")))
    start_sdk(config_poll_interval=0.1)
    assert switchyard.wait_for_config(5.0)
    client = switchyard.wrap(openai_client)
    with pytest.raises(switchyard.BudgetExceededError):
        ask(client)
    sink.publish(policy_config(2))  # the budget was raised: no budgets in the config any more
    deadline = time.monotonic() + 5
    while switchyard.stats().config_version != 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ask(client) == "answer from gpt-4o"
