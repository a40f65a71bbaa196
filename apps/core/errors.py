"""The one application error. Services raise it; the API (apps.core.api_errors) and pages
(apps.core.page_decorators) turn it into an answer. Plain Python on purpose: modules used without Django
settings (the price book, the price file parser) raise it too."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A refusal a person can act on.

    `code` is stable and machine-readable; `message` says what to change; `status` is the HTTP
    status the API answers with; `detail` carries structured facts behind the message (a replay
    refusal's exclusions by reason) for pages and the API to show, so nobody parses the text.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        status: int = 400,
        field: str | None = None,
        detail: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.field = field
        self.detail = detail


class NotFound(ApplicationError):
    def __init__(self, message: str = "Not found", *, code: str = "not_found"):
        super().__init__(message, code=code, status=404)


class PermissionDenied(ApplicationError):
    def __init__(self, message: str = "You do not have permission to do this", *, code: str = "forbidden"):
        super().__init__(message, code=code, status=403)
