"""The project's ingest settings page: capture policy, redaction and limits."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.accounts.selectors import project_get_for_user
from apps.core.page_decorators import page_errors
from apps.ingest.forms import IngestSettingsForm
from apps.ingest.selectors import ingest_settings_get
from apps.ingest.services import ingest_settings_update


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def ingest_settings(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_user(user=request.user, project_id=project_id)
    current = ingest_settings_get(project=project)
    initial = {f: getattr(current, f) for f in IngestSettingsForm.base_fields}
    form = IngestSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        ingest_settings_update(project=project, actor=request.user, **form.cleaned_data)
        messages.success(request, "Ingest settings saved. They apply to new events within 10 seconds.")
        return redirect("ingest-settings", project_id=project.pk)
    return render(request, "ingest/settings.html", {"project": project, "form": form})
