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
    # an endpoint name may hold a slash, so an action names itself before the endpoint
    path(
        "projects/<int:project_id>/routing/rollback/<path:endpoint>/",
        views.endpoint_rollback,
        name="endpoint-rollback",
    ),
    path(
        "projects/<int:project_id>/routing/stop/<path:endpoint>/", views.endpoint_stop, name="endpoint-stop"
    ),
    path(
        "projects/<int:project_id>/routing/rollout/<path:endpoint>/",
        views.endpoint_rollout,
        name="endpoint-rollout",
    ),
    path(
        "projects/<int:project_id>/routing/quality-bar/<path:endpoint>/",
        views.endpoint_quality_bar,
        name="endpoint-quality-bar",
    ),
    path("projects/<int:project_id>/routing/config/", views.config_page, name="config"),
    path("projects/<int:project_id>/routing/settings/", views.settings_page, name="settings"),
    path("routing/kill-switch/", views.kill_switch, name="kill-switch"),
]
