from django.urls import path

from apps.spend import api

urlpatterns = [
    path("projects/<int:project_id>/budgets", api.BudgetListCreateApi.as_view(), name="api-budgets"),
    path(
        "projects/<int:project_id>/budgets/<int:budget_id>", api.BudgetDetailApi.as_view(), name="api-budget"
    ),
    path("projects/<int:project_id>/alerts", api.AlertListApi.as_view(), name="api-alerts"),
    path(
        "projects/<int:project_id>/customers/revenue", api.RevenueApi.as_view(), name="api-customer-revenue"
    ),
]
