from django.urls import path

from apps.ingest import views

urlpatterns = [
    path("ingest", views.ingest, name="ingest"),
    path("feedback", views.feedback, name="ingest-feedback"),
    path("otlp/v1/traces", views.otlp_traces, name="ingest-otlp-traces"),
]
