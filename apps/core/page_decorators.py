"""Decorators for server-rendered views: a refusal becomes a message or an error page, never a
500 (`page_errors`), and a form's operation takes only a POST (`page_action`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.core.errors import ApplicationError

View = Callable[..., HttpResponse]


def _refused(request: HttpRequest, exc: ApplicationError, back: str) -> HttpResponse:
    if exc.status == 404:
        return render(request, "errors/404.html", {"message": exc.message}, status=404)
    if exc.status == 403:
        return render(request, "errors/403.html", {"message": exc.message}, status=403)
    messages.error(request, exc.message)
    if request.method == "POST":
        return HttpResponseRedirect(back)
    return render(request, "errors/400.html", {"message": exc.message}, status=exc.status)


def page_errors(view: View) -> View:
    """Not found → the 404 page; other refusals → a message on the same page (redirect for POST)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as exc:
            return _refused(request, exc, request.get_full_path())

    return wrapper


def page_action(page: str, *keep: str) -> Callable[[View], View]:
    """One operation a page's form posts to: POST only (405 otherwise), and `page_errors` where a
    refusal becomes a message on the page it was posted from, the URL `page` reversed with the
    view's URL arguments named in `keep`."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except ApplicationError as exc:
                return _refused(request, exc, reverse(page, kwargs={k: kwargs[k] for k in keep}))

        return require_POST(wrapper)

    return decorate
