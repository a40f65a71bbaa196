"""Spend control for the demo project (after demo_traffic; idempotent): the customer key, budgets
sized from the project's own spend (some near or past their limits), anomaly alerts judged over the
demo's month (the provider incident every 11 days shows up as an error-rate anomaly), revenue
per customer, and a tick so the pages show progress, alerts and deliveries at once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.accounts.models import Project
from apps.demo.management.base import DemoCommand
from apps.spend.models import Alert, AnomalyMonitor, Budget, CustomerRevenue
from apps.spend.selectors.budgets import budget_spend
from apps.spend.selectors.economics import parse_day_range, top_keys
from apps.spend.services.anomalies import monitors_evaluate
from apps.spend.services.budgets import BudgetInput, budget_create, monitor_create, revenue_set
from apps.spend.services.tick import spend_tick

# (name, scope kind, value, period, share of the scope's current period spend as the limit, action)
BUDGETS = (
    ("Monthly LLM spend", "project", "", "month", 1.6, "none"),
    ("Complex analysis (o3, Opus)", "endpoint", "complex-analysis", "week", 0.95, "downgrade"),
    ("Code generation", "endpoint", "codegen", "day", 1.3, "none"),
    ("Sonnet across endpoints", "model", "claude-sonnet-4-5", "month", 1.25, "none"),
    ("Fair use per user", "user", "*", "day", 0.0, "none"),
    ("Acme contract", "customer", "acme", "month", 0.85, "none"),
    ("Globex (free pilot)", "customer", "globex", "month", 0.9, "block"),
)


class Command(DemoCommand):
    help = "Budgets, anomaly alerts, revenue and a first tick for the demo project (idempotent)."
    run_first = "demo_setup and demo_traffic"

    def handle(self, *args: Any, **options: Any) -> None:
        project = self.demo_project(options["project"])
        now = timezone.now()
        made = self._budgets(project, now)
        for scope_kind, value, metric in (
            ("project", "", "spend"),
            ("endpoint", "*", "spend"),
            ("endpoint", "*", "error_rate"),
            ("model", "*", "tokens_per_call"),
        ):
            monitor_create(
                project=project, scope_kind=scope_kind, scope_value=value, metric=metric, min_usd="2"
            )
        fresh = not Alert.objects.filter(project=project, kind="anomaly").exists()
        anomalies = monitors_evaluate(
            now=now, project_ids=[project.pk], since=now - timedelta(days=27) if fresh else None
        )
        revenue = self._revenue(project, now)
        report = spend_tick(now=now, project_ids=[project.pk])
        self.stdout.write(
            self.style.SUCCESS(
                f"Spend control for {project.name}: {made} budgets added ({Budget.objects.filter(project=project).count()} "
                f"in all), {AnomalyMonitor.objects.filter(project=project).count()} anomaly alerts judged "
                f"{anomalies.judged:,} hours ({anomalies.opened} anomalies), {revenue} customers with revenue, "
                f"{report.budgets.opened} budget alerts opened now."
            )
        )

    def _budgets(self, project: Project, now: Any) -> int:
        made = 0
        for name, kind, value, period, share, action in BUDGETS:
            if Budget.objects.filter(project=project, name=name).exists():
                continue
            probe = Budget(
                project=project, scope_kind=kind, scope_value=value, period=period, limit_usd=Decimal(0), pk=0
            )
            spent = budget_spend(project_id=project.pk, budgets=[probe], now=now)[0]
            if value == "*":
                # a daily allowance a few heavy users pass: 3× the median user's day, at least 10 cents
                limit = Decimal("0.10")
                per_user = sorted(spent.values())
                if per_user:
                    limit = max(limit, Decimal(str(round(per_user[len(per_user) // 2] * 3 / 1e9, 2))))
            else:
                limit = max(Decimal("1"), Decimal(str(round(sum(spent.values()) / 1e9 * share, 0))))
            budget_create(
                project=project,
                data=BudgetInput(
                    name=name,
                    scope_kind=kind,
                    scope_value=value,
                    period=period,
                    limit_usd=limit,
                    thresholds=[50, 80, 100],
                    action=action,
                    downgrade_provider="openai" if action == "downgrade" else "",
                    downgrade_model="gpt-4.1-mini" if action == "downgrade" else "",
                ),
            )
            made += 1
        return made

    def _revenue(self, project: Project, now: Any) -> int:
        """Revenue this month for the top customers: most pay 8–30× their LLM cost, two are thin."""
        rows = top_keys(
            project_id=project.pk, kind="customer", rng=parse_day_range({"range": "30d"}, today=now.date())
        )
        month = now.date().replace(day=1)
        for i, row in enumerate(rows):
            if CustomerRevenue.objects.filter(project=project, customer=row.key, month=month).exists():
                continue
            multiple = (1.4, 2.2, 9, 14, 22, 30, 11, 18)[i % 8]
            revenue_set(
                project=project,
                customer=row.key,
                month=month,
                amount_usd=str(round(row.cost_usd * multiple, -1) or 100),
            )
        return len(rows)
