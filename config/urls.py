from django.contrib import admin
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from apps.core import views as core_views
from apps.ingest import views_settings as ingest_settings_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("sdk/", core_views.sdk_index, name="sdk-index"),
    path("sdk/<str:name>", core_views.sdk_file, name="sdk-file"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", core_views.metrics, name="metrics"),
    path("accounts/", include("apps.accounts.urls")),
    path("projects/<int:project_id>/ingest/", ingest_settings_views.ingest_settings, name="ingest-settings"),
    path("", include("apps.dashboard.urls")),
    path("v1/", include("apps.ingest.urls")),
    path("v1/", include("apps.accounts.api_urls")),
    path("v1/", include("apps.pricing.api_urls")),
    path("pricing/", include("apps.pricing.urls")),
    path("v1/", include("apps.policies.api_urls")),
    path("", include("apps.policies.urls")),
    path("billing/", include("apps.billing.urls")),
    path("", include("apps.replay.urls")),
    path("v1/", include("apps.spend.api_urls")),
    path("", include("apps.spend.urls")),
    path("v1/", include("apps.opportunities.api_urls")),
    path("", include("apps.opportunities.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/redoc.js", core_views.redoc_js, name="api-docs-redoc"),
    path(
        "api/docs/",
        SpectacularRedocView.as_view(url_name="api-schema", template_name="core/api_docs.html"),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
]
# Static files (css, vendor/plotly.min.js) when DEBUG, as in `make demo`; empty otherwise
# (production serves the collected files through WhiteNoise).
urlpatterns += staticfiles_urlpatterns()

handler404 = "apps.core.views.error_404"
handler500 = "apps.core.views.error_500"
