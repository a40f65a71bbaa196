from django.urls import path

from apps.accounts import api

urlpatterns = [
    path("whoami", api.WhoAmIApi.as_view(), name="api-whoami"),
    path("projects", api.ProjectListApi.as_view(), name="api-projects"),
    path("projects/<int:project_id>", api.ProjectDetailApi.as_view(), name="api-project"),
    path("projects/<int:project_id>/keys", api.ApiKeyListCreateApi.as_view(), name="api-project-keys"),
    path("keys/<int:key_id>", api.ApiKeyRevokeApi.as_view(), name="api-key"),
]
