from django.urls import path

from apps.policies import api

urlpatterns = [
    path("config", api.config, name="policy-config"),
]
