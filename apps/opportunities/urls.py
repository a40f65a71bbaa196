from django.urls import path

from apps.opportunities import views

app_name = "opportunities"

_FINDING = "projects/<int:project_id>/opportunities/<int:opportunity_id>/"

urlpatterns = [
    path("projects/<int:project_id>/opportunities/", views.home, name="home"),
    path("projects/<int:project_id>/opportunities/run/", views.detectors_run, name="run"),
    path("projects/<int:project_id>/opportunities/latency/", views.endpoint_latency, name="latency"),
    path(_FINDING, views.detail, name="detail"),
    path(f"{_FINDING}dismiss/", views.finding_dismiss, name="dismiss"),
    path(f"{_FINDING}done/", views.finding_done, name="done"),
    path(f"{_FINDING}reopen/", views.finding_reopen, name="reopen"),
    path(f"{_FINDING}replay/", views.finding_replay, name="replay"),
]
