"""Budget actions (docs/protocol.md, "Budgets"): block a scope, or route it to a cheaper model,
while the project's budget for it is exhausted. Never silent: a block raises
:class:`BudgetExceededError`; a downgrade is recorded on the call (``routing.reason`` =
``budget:<id>``) and logged once per budget."""

from __future__ import annotations

from collections.abc import Collection

from ._budgets import BudgetRule, applicable
from ._errors import BudgetExceededError
from ._log import log_once
from ._routing import ARM_BASELINE, ARM_CANDIDATE, ARM_FALLBACK, Attempt, Plan

__all__ = ["applicable", "blocked_error", "downgrade_plan"]


def blocked_error(rule: BudgetRule) -> BudgetExceededError:
    return BudgetExceededError(
        f"Switchyard blocked this call: {rule.describe()} (the project set this budget to block calls)",
        budget_id=rule.budget_id,
        budget_name=rule.name,
        scope_kind=rule.scope_kind,
        scope_value=rule.scope_value,
        period=rule.period,
        limit_usd=rule.limit_usd,
        resets_at=rule.resets_at,
    )


def downgrade_plan(rule: BudgetRule, *, provider: str, model: str, available: Collection[str], routing: bool) -> Plan:
    """Where a call goes while a downgrade budget is exhausted: the cheaper model first, the app's
    own model as the last resort (a provider error), as routing does; the reason says why."""
    reason = f"budget:{rule.budget_id}"
    target = (rule.downgrade_provider, rule.downgrade_model)
    if target == (provider, model):
        return Plan(0, (Attempt(provider, model, ARM_BASELINE, reason),))
    if not routing:
        log_once(f"budget-off-{rule.budget_id}", "switchyard: %s, but routing is off (enable_routing=False): "
                 "calls keep their model", rule.describe())  # fmt: skip
        return Plan(0, (Attempt(provider, model, ARM_BASELINE, reason + ":routing_disabled"),))
    if rule.downgrade_provider not in available:
        log_once(f"budget-reach-{rule.budget_id}", "switchyard: %s, but no client for %s is registered: "
                 "calls keep their model", rule.describe(), rule.downgrade_provider)  # fmt: skip
        return Plan(0, (Attempt(provider, model, ARM_BASELINE, f"{reason}:provider_unavailable:{rule.downgrade_provider}"),))
    log_once(f"budget-{rule.budget_id}", "switchyard: %s: routing its calls to %s/%s", rule.describe(), *target)
    return Plan(0, (Attempt(*target, ARM_CANDIDATE, reason), Attempt(provider, model, ARM_FALLBACK, "provider_error")))
