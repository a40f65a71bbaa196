from __future__ import annotations

import functools
import hmac
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from prometheus_client import CONTENT_TYPE_LATEST

from apps.core import background, sdk_dist
from apps.core import metrics as core_metrics
from apps.warehouse import client as warehouse


def home(request: HttpRequest) -> HttpResponse:
    """Logged in: the current project's overview (its empty state explains the install), or the
    Start page when there is no project yet."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    tenant: Any = request.tenant  # type: ignore[attr-defined]
    if tenant.project is not None:
        return redirect("dashboard:overview", project_id=tenant.project.pk)
    return redirect("dashboard:start")


def favicon(request: HttpRequest) -> FileResponse:
    """/favicon.ico, for the clients that ask there (pages name static/favicon.svg)."""
    path = finders.find("favicon.ico")
    if not isinstance(path, str):
        raise Http404("no favicon")
    response = FileResponse(open(path, "rb"), content_type="image/x-icon")  # noqa: SIM115 - closed by Django
    response["Cache-Control"] = "public, max-age=86400"
    return response


def sdk_index(request: HttpRequest) -> HttpResponse:
    """/sdk/: the SDK's wheel and its dependencies' wheels, as links pip reads (`--find-links`)."""
    base = request.build_absolute_uri(reverse("sdk-index"))
    context = {"files": sdk_dist.dist_files(), "wheel": sdk_dist.sdk_wheel(), "base": base}
    return render(request, "core/sdk_index.html", context)


def sdk_file(request: HttpRequest, name: str) -> FileResponse:
    """/sdk/<file>: one of the files /sdk/ lists (never a path outside its directory)."""
    found = sdk_dist.dist_file(name)
    if found is None:
        raise Http404("No such file: the list is at /sdk/")
    response = FileResponse(open(found.path, "rb"), as_attachment=True, filename=found.name)  # noqa: SIM115
    response["Content-Type"] = "application/octet-stream"
    response["Cache-Control"] = "public, max-age=300"
    return response


REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"  # its "API docs by Redocly" footer


@functools.cache
def _redoc_bundle() -> bytes:
    path = finders.find(REDOC_BUNDLE)
    if not isinstance(path, str):
        raise Http404("drf-spectacular-sidecar is not installed")
    return Path(path).read_bytes().replace(REDOC_LOGO, static("favicon.svg").encode())


def redoc_js(request: HttpRequest) -> HttpResponse:
    """Redoc from drf-spectacular-sidecar, with the one thing it fetches from elsewhere (the logo
    in its footer) pointed at this server, so /api/docs/ asks nothing of another host."""
    response = HttpResponse(_redoc_bundle(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up. No dependencies are checked: use /readyz for that."""
    return JsonResponse({"status": "ok"})


def _check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _check_broker() -> bool:
    if not background.uses_broker():
        return True
    from config.celery_app import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to serve: PostgreSQL/SQLite, ClickHouse and the broker (when one is configured) answer."""
    checks = {"database": _check_database(), "clickhouse": warehouse.ping(), "broker": _check_broker()}
    ok = all(checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503
    )


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics. With METRICS_TOKEN set, callers must send it as a bearer token."""
    token = settings.METRICS_TOKEN
    if token and not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return JsonResponse(
            {"error": {"code": "invalid_key", "message": "metrics need the METRICS_TOKEN"}}, status=401
        )
    return HttpResponse(core_metrics.render(), content_type=CONTENT_TYPE_LATEST)


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(("/v1/", "/api/")) or "application/json" in request.headers.get(
        "Accept", ""
    )


def error_404(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": {"code": "not_found", "message": "Not found"}}, status=404)
    return render(request, "errors/404.html", {"message": "This page does not exist."}, status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": {"code": "server_error", "message": "Internal error"}}, status=500)
    return render(request, "errors/500.html", status=500)
