from django.urls import path

from apps.opportunities import views

app_name = "opportunities"

urlpatterns = [
    path("projects/<int:project_id>/opportunities/", views.home, name="home"),
    path("projects/<int:project_id>/opportunities/<int:opportunity_id>/", views.detail, name="detail"),
]
