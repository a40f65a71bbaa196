"""Budget state from the config (docs/protocol.md, "Budgets"): which exhausted budget applies to
a call. What it does to the call is in :mod:`switchyard._budget_actions`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ._context import Scope

ACTIONS = frozenset({"block", "downgrade"})
SCOPE_KINDS = frozenset({"project", "endpoint", "model", "user", "customer"})


@dataclass(frozen=True, slots=True)
class BudgetRule:
    """One exhausted scope of one budget, as the config delivers it."""

    budget_id: int
    name: str
    scope_kind: str
    scope_value: str
    period: str
    limit_usd: float
    resets_at: datetime
    action: str
    downgrade_provider: str = ""
    downgrade_model: str = ""

    def describe(self) -> str:
        scope = "the project" if self.scope_kind == "project" else f"{self.scope_kind} {self.scope_value!r}"
        return (
            f"budget {self.name!r} (${self.limit_usd:,.2f} per {self.period} for {scope}) is exhausted "
            f"until {self.resets_at:%Y-%m-%d %H:%M} UTC"
        )


def customer_of(rule: str, scope: Scope) -> str | None:
    """The call's customer under the project's customer key (the server's rule)."""
    if scope.customer_id or rule == "customer_id":
        return scope.customer_id
    source, _, name = rule.partition(":")
    if source == "metadata":
        return (scope.metadata or {}).get(name)
    prefix = name + ":"
    return next((tag[len(prefix) :] for tag in scope.tags if tag.startswith(prefix)), None)


def _matches(rule: BudgetRule, scope: Scope, model: str, endpoint: str, customer: str | None) -> bool:
    kind = rule.scope_kind
    if kind == "project":
        return True
    if kind == "endpoint":
        return endpoint == rule.scope_value
    if kind == "model":
        return model == rule.scope_value or model.rpartition("/")[2] == rule.scope_value
    if kind == "user":
        return scope.user_id == rule.scope_value
    return customer == rule.scope_value


def applicable(
    rules: Sequence[BudgetRule],
    customer_key: str,
    scope: Scope,
    *,
    endpoint: str,
    model: str,
    now: datetime | None = None,
) -> BudgetRule | None:
    """The rule that applies to this call: a block before a downgrade; ``None`` when none does
    (an entry whose period has reset is ignored even before the next config arrives)."""
    if not rules:
        return None
    moment = now or datetime.now(UTC)
    customer = customer_of(customer_key, scope) if any(r.scope_kind == "customer" for r in rules) else None
    found: BudgetRule | None = None
    for rule in rules:
        if rule.resets_at <= moment or not _matches(rule, scope, model, endpoint, customer):
            continue
        if rule.action == "block":
            return rule
        found = found or rule
    return found


def parse_rules(raw: Mapping[str, object], path: str) -> tuple[str, tuple[BudgetRule, ...]]:
    """(customer key, rules) from the config's ``budgets`` object; raises ValueError on a defect."""
    key = raw.get("customer_key", "customer_id")
    if not isinstance(key, str) or not key:
        raise ValueError(f"{path}.customer_key: expected a non-empty string")
    entries = raw.get("exhausted", [])
    if not isinstance(entries, list):
        raise ValueError(f"{path}.exhausted: expected a list")
    rules = []
    for i, entry in enumerate(entries):
        where = f"{path}.exhausted[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected an object")
        scope = entry.get("scope")
        if not isinstance(scope, dict) or scope.get("kind") not in SCOPE_KINDS:
            raise ValueError(f"{where}.scope: expected a kind among {sorted(SCOPE_KINDS)}")
        action = entry.get("action")
        if action not in ACTIONS:
            raise ValueError(f"{where}.action: expected one of {sorted(ACTIONS)}")
        target = entry.get("downgrade_to") or {}
        if action == "downgrade" and not (
            isinstance(target, dict) and isinstance(target.get("provider"), str) and isinstance(target.get("model"), str)
        ):
            raise ValueError(f"{where}.downgrade_to: a provider and a model are required")
        try:
            resets_at = datetime.strptime(str(entry.get("resets_at")), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            budget_id = int(entry["budget_id"])
            limit = float(entry["limit_usd"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{where}: budget_id, limit_usd and resets_at (RFC 3339, Z) are required") from exc
        rules.append(
            BudgetRule(
                budget_id=budget_id,
                name=str(entry.get("name", "")),
                scope_kind=str(scope["kind"]),
                scope_value=str(scope.get("value", "")),
                period=str(entry.get("period", "")),
                limit_usd=limit,
                resets_at=resets_at,
                action=str(action),
                downgrade_provider=str(target.get("provider", "")) if isinstance(target, dict) else "",
                downgrade_model=str(target.get("model", "")) if isinstance(target, dict) else "",
            )
        )
    return key, tuple(rules)

