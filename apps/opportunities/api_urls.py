from django.urls import path

from apps.opportunities import api

urlpatterns = [
    path("opportunities", api.OpportunityListApi.as_view(), name="api-opportunities"),
]
