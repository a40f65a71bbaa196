from django.urls import path

from apps.policies import api, encoder_api

urlpatterns = [
    path("config", api.config, name="policy-config"),
    path("encoders/<str:sha256>/<str:name>", encoder_api.encoder_file, name="encoder-file"),
]
