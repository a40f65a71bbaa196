from django.urls import path

from apps.pricing import views

app_name = "pricing"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("models/<int:model_id>/", views.model_detail, name="model"),
    path("settings/", views.overrides, name="settings"),
    path("unpriced/", views.unpriced, name="unpriced"),
    path("recompute/", views.recompute_jobs, name="recompute"),
]
