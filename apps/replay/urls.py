from django.urls import path

from apps.replay import views, views_settings

app_name = "replay"

urlpatterns = [
    path("projects/<int:project_id>/replay/", views.jobs, name="jobs"),
    path("projects/<int:project_id>/replay/new/", views.new, name="new"),
    path("projects/<int:project_id>/replay/schedule/", views_settings.schedule, name="schedule"),
    path("projects/<int:project_id>/replay/<int:job_id>/", views.job_detail, name="job"),
    path("projects/<int:project_id>/replay/<int:job_id>/progress/", views.job_progress_json, name="progress"),
    path("projects/<int:project_id>/replay/<int:job_id>/cancel/", views.job_cancel, name="cancel"),
    path("projects/<int:project_id>/replay/<int:job_id>/resume/", views.job_resume, name="resume"),
    path(
        "projects/<int:project_id>/replay/<int:job_id>/samples/<uuid:sample_id>/",
        views.sample_detail,
        name="sample",
    ),
    path("replay/keys/", views_settings.keys, name="keys"),
]
