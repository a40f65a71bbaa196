"""Links that keep the page's time range: `{% qs range_query endpoint=name %}` → 'range=7d&tz=UTC&…'."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template

register = template.Library()


@register.simple_tag
def qs(base: dict[str, Any] | None = None, **extra: Any) -> str:
    """A query string from a dict of parameters plus overrides (None or '' drops a parameter)."""
    params = {**(base or {}), **extra}
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})
