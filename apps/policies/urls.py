from django.urls import path

from apps.policies import views

app_name = "policies"

urlpatterns = [
    path("projects/<int:project_id>/routing/", views.inbox, name="inbox"),
    path(
        "projects/<int:project_id>/routing/refresh/",
        views.recommendations_refresh,
        name="recommendations-refresh",
    ),
    path(
        "projects/<int:project_id>/routing/recommendations/<int:recommendation_id>/",
        views.recommendation,
        name="recommendation",
    ),
    path(
        "projects/<int:project_id>/routing/recommendations/<int:recommendation_id>/approve/",
        views.recommendation_approve,
        name="recommendation-approve",
    ),
    path(
        "projects/<int:project_id>/routing/recommendations/<int:recommendation_id>/reject/",
        views.recommendation_reject,
        name="recommendation-reject",
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
    path("routing/kill-switch/add/", views.kill_switch_add, name="kill-switch-add"),
    path("routing/kill-switch/<int:kill_id>/lift/", views.kill_switch_lift, name="kill-switch-lift"),
]
