"""What every page form shares: a service's refusal shown on the form it came from.

A view that calls a service with a valid form's data catches `ApplicationError` and hands it to
`form_refusal`: the message goes under the field it names (or above the fields), the page is
rendered again with what the person typed, and the refusal never becomes a banner on a
redirected, emptied form. Forms are drawn by templates/partials/form.html."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms

from apps.core.errors import ApplicationError


def form_refusal(
    form: forms.BaseForm, exc: ApplicationError, *, fields: Mapping[str, str] | None = None
) -> None:
    """Put a service's refusal on the form. `fields` maps a service's field name to the form's
    (a service's `spend_cap` is the form's `spend_cap_usd`). 403, 404 and 409 are not about a
    value typed, so they are raised again for page_errors to answer."""
    if exc.status not in (400, 422):
        raise exc
    name = (fields or {}).get(exc.field or "", exc.field)
    field = name if name in form.fields else None
    message = exc.message
    for prefix in (exc.field, name):
        if field and prefix and message.startswith(f"{prefix}: "):
            message = message[len(prefix) + 2 :]
    form.add_error(field, message)
