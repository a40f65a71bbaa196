"""How templates/partials/form.html lays out a field: by the kind of control it is."""

from __future__ import annotations

from typing import Any

from django import forms, template

register = template.Library()


@register.filter
def control_kind(field: Any) -> str:
    """'check' (one checkbox: label beside it), 'choices' (radio buttons or checkboxes: a
    fieldset with each option beside its box) or 'input' (label above the control)."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        return "check"
    if isinstance(widget, forms.RadioSelect):  # CheckboxSelectMultiple is one too
        return "choices"
    return "input"
