"""`spend_tick`: the minute tick (beat task `spend.tick`): budgets, anomaly monitors, then the
configs whose enforced budgets changed are published and pending notices are handed to delivery."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from apps.core import background
from apps.spend.services.anomalies import AnomalyTickReport, monitors_evaluate
from apps.spend.services.budget_tick import BudgetTickReport, budgets_evaluate
from apps.spend.services.deliver import channels_with_pending

logger = logging.getLogger(__name__)


@dataclass
class TickReport:
    budgets: BudgetTickReport
    anomalies: AnomalyTickReport
    published: int
    channels: list[int]


def spend_tick(*, now: datetime, project_ids: list[int] | None = None) -> TickReport:
    budgets = budgets_evaluate(now=now, project_ids=project_ids)
    anomalies = monitors_evaluate(now=now, project_ids=project_ids)
    for project_id in sorted(budgets.republish):
        background.enqueue("policies.publish_config", project_id=project_id, reason="budget state changed")
    return TickReport(budgets, anomalies, len(budgets.republish), channels_with_pending())
