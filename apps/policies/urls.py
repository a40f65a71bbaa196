from django.urls import path

from apps.policies import views

app_name = "policies"

urlpatterns = [
    path("projects/<int:project_id>/routing/", views.inbox, name="inbox"),
    path(
        "projects/<int:project_id>/routing/recommendations/<int:recommendation_id>/",
        views.recommendation,
        name="recommendation",
    ),
    path("projects/<int:project_id>/routing/endpoints/<path:endpoint>/", views.endpoint, name="endpoint"),
    path("projects/<int:project_id>/routing/config/", views.config_page, name="config"),
    path("projects/<int:project_id>/routing/settings/", views.settings_page, name="settings"),
    path("routing/kill-switch/", views.kill_switch, name="kill-switch"),
]
