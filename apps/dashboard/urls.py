from django.urls import path

from apps.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("accounts/start/", views.start, name="start"),
    path("projects/<int:project_id>/overview/", views.overview, name="overview"),
    path("projects/<int:project_id>/endpoints/<path:endpoint>/", views.endpoint_detail, name="endpoint"),
    path("projects/<int:project_id>/models/", views.models_index, name="models"),
    path("projects/<int:project_id>/models/<str:provider>/<path:model>/", views.model_detail, name="model"),
    path("projects/<int:project_id>/calls/", views.calls, name="calls"),
    path("projects/<int:project_id>/calls/export.csv", views.calls_export, name="calls-export"),
    path("projects/<int:project_id>/calls/<uuid:event_id>/", views.call_detail, name="call"),
]
