"""Refuse requests carrying NUL characters in the query string before any view sees them.

PostgreSQL text cannot hold NUL, so a filter value like `?model=%00` would otherwise fail deep in
a query. One check here covers every API and page.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            message = "The request contains a NUL character, which no field accepts"
            if request.path.startswith(("/v1/", "/api/")):
                return JsonResponse({"error": {"code": "invalid", "message": message}}, status=400)
            return render(request, "errors/400.html", {"message": message}, status=400)
        return self.get_response(request)
