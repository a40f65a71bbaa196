from django.urls import path

from apps.pricing import views

app_name = "pricing"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("models/<int:model_id>/", views.model_detail, name="model"),
    path("models/<int:model_id>/prices/", views.model_price_save, name="model-price-add"),
    path("models/<int:model_id>/prices/<int:price_id>/", views.model_price_save, name="model-price-edit"),
    path(
        "models/<int:model_id>/prices/<int:price_id>/delete/",
        views.model_price_delete,
        name="model-price-delete",
    ),
    path("models/<int:model_id>/names/", views.model_names_save, name="model-names"),
    path("settings/", views.overrides, name="settings"),
    path("settings/discounts/", views.discount_save, name="discount-save"),
    path("settings/discounts/<int:discount_id>/delete/", views.discount_remove, name="discount-delete"),
    path("settings/models/", views.custom_model_add, name="custom-model-add"),
    path("settings/recompute/", views.recompute_start, name="recompute-start"),
    path("unpriced/", views.unpriced, name="unpriced"),
    path("recompute/", views.recompute_jobs, name="recompute"),
    path("recompute/<int:job_id>/resume/", views.recompute_resume, name="recompute-resume"),
]
