from django.urls import path

from apps.spend import views, views_economics

app_name = "spend"

urlpatterns = [
    path("projects/<int:project_id>/spend/", views.home, name="home"),
    path("projects/<int:project_id>/spend/budgets/new/", views.budget_new, name="budget-new"),
    path("projects/<int:project_id>/spend/budgets/<int:budget_id>/", views.budget_detail, name="budget"),
    path("projects/<int:project_id>/spend/alerts/", views.alerts, name="alerts"),
    path("projects/<int:project_id>/spend/alerts/<int:alert_id>/", views.alert_detail, name="alert"),
    path("projects/<int:project_id>/spend/settings/", views.settings_page, name="settings"),
    path("projects/<int:project_id>/economics/users/", views_economics.users, name="users"),
    path("projects/<int:project_id>/economics/users/<path:key>/", views_economics.user_detail, name="user"),
    path("projects/<int:project_id>/economics/customers/", views_economics.customers, name="customers"),
    path(
        "projects/<int:project_id>/economics/customers/<path:key>/",
        views_economics.customer_detail,
        name="customer",
    ),
    path(
        "projects/<int:project_id>/economics/conversations/",
        views_economics.conversations,
        name="conversations",
    ),
]
