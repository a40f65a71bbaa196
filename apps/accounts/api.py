"""Account APIs: one view per operation, input validated at the edge, output by small serializers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import IsPerson
from apps.accounts.selectors import (
    KeyPrincipal,
    api_key_get_for_user,
    api_keys_for_project,
    project_get_for_user,
    projects_for_user,
)
from apps.accounts.services import api_key_create, api_key_revoke
from apps.core.errors import NotFound


class ProjectOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    organization = serializers.CharField(source="organization.slug")
    retention_days = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ApiKeyOut(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    kind = serializers.CharField()
    prefix = serializers.CharField(source="display_prefix")
    environment = serializers.CharField(source="environment.name")
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class ApiKeyCreateIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["ingest", "sdk"])
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    environment = serializers.CharField(max_length=64, required=False)


class ProjectListApi(APIView):
    permission_classes = [IsPerson]

    @extend_schema(responses=ProjectOut(many=True), operation_id="projects_list")
    def get(self, request: Request) -> Response:
        return Response(ProjectOut(projects_for_user(user=request.user), many=True).data)


class ProjectDetailApi(APIView):
    permission_classes = [IsPerson]

    @extend_schema(responses=ProjectOut, operation_id="projects_retrieve")
    def get(self, request: Request, project_id: int) -> Response:
        return Response(ProjectOut(project_get_for_user(user=request.user, project_id=project_id)).data)


class ApiKeyListCreateApi(APIView):
    permission_classes = [IsPerson]

    @extend_schema(responses=ApiKeyOut(many=True), operation_id="project_keys_list")
    def get(self, request: Request, project_id: int) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        return Response(ApiKeyOut(api_keys_for_project(project=project), many=True).data)

    @extend_schema(
        request=ApiKeyCreateIn,
        responses={
            201: inline_serializer("ApiKeyCreated", {"key": ApiKeyOut(), "secret": serializers.CharField()})
        },
        operation_id="project_keys_create",
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = project_get_for_user(user=request.user, project_id=project_id)
        data = ApiKeyCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        environment = None
        if env_name := data.validated_data.get("environment"):
            environment = project.environments.filter(name=env_name).first()
            if environment is None:
                raise NotFound(f"Environment {env_name!r} not found in this project")
        key, plaintext = api_key_create(
            project=project,
            kind=data.validated_data["kind"],
            name=data.validated_data["name"],
            environment=environment,
            actor=request.user,
        )
        return Response({"key": ApiKeyOut(key).data, "secret": plaintext}, status=status.HTTP_201_CREATED)


class ApiKeyRevokeApi(APIView):
    permission_classes = [IsPerson]

    @extend_schema(request=None, responses=ApiKeyOut, operation_id="keys_revoke")
    def delete(self, request: Request, key_id: int) -> Response:
        key = api_key_get_for_user(user=request.user, key_pk=key_id)
        return Response(ApiKeyOut(api_key_revoke(key=key, actor=request.user)).data)


class WhoAmIApi(APIView):
    """Which project and key kind a key belongs to: lets an SDK check its key."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=inline_serializer(
            "WhoAmI",
            {
                "kind": serializers.CharField(),
                "project_id": serializers.IntegerField(allow_null=True),
                "environment": serializers.CharField(allow_null=True),
            },
        ),
        operation_id="whoami",
    )
    def get(self, request: Request) -> Response:
        user: Any = request.user
        if isinstance(user, KeyPrincipal):
            return Response(
                {"kind": user.kind, "project_id": user.project_id, "environment": user.environment}
            )
        return Response({"kind": "user", "project_id": None, "environment": None})
