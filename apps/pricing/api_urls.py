from django.urls import path

from apps.pricing import api

urlpatterns = [
    path("prices", api.PriceListApi.as_view(), name="api-prices"),
    path("prices/estimate", api.PriceEstimateApi.as_view(), name="api-price-estimate"),
]
