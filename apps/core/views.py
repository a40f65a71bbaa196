from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from apps.core import background
from apps.warehouse import client as warehouse


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    return redirect("accounts:project-home")


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
