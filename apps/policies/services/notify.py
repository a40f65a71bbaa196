"""Telling a project about rollout events: e-mail to its admins and owners, and its webhook.

The webhook gets a JSON body signed with the project's webhook secret:
`X-Switchyard-Signature: sha256=<hex HMAC-SHA256 of the body>`, event name in
`X-Switchyard-Event`. Delivery runs as a background task with retries.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from apps.accounts.models import Membership, Project, Role
from apps.core import background
from apps.core.errors import ApplicationError
from apps.core.signatures import webhook_signature
from apps.policies.models import Notification
from apps.policies.selectors import policy_settings

logger = logging.getLogger(__name__)
WEBHOOK_TIMEOUT_S = 10
MAX_WEBHOOK_ATTEMPTS = 5


class WebhookFailed(Exception):
    """The webhook did not answer 2xx; the task retries."""


def _recipients(project: Project) -> list[str]:
    emails = Membership.objects.filter(
        organization_id=project.organization_id, role__in=[Role.ADMIN, Role.OWNER]
    ).values_list("user__email", flat=True)
    return sorted({e for e in emails if e})


def notify(*, project: Project, kind: str, subject: str, text: str, payload: dict[str, Any]) -> Notification:
    """Record the event, e-mail it and queue the webhook, once the current transaction commits."""
    prefs = policy_settings(project=project)
    recipients = _recipients(project) if prefs.notify_email else []
    found = Notification.objects.create(
        project=project,
        kind=kind,
        subject=subject[:300],
        payload=payload,
        emailed_to=recipients,
        webhook_status="pending" if prefs.webhook_url else "none",
    )
    if recipients:
        transaction.on_commit(
            lambda: send_mail(
                f"[Switchyard] {subject}", text, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=True
            )
        )
    if prefs.webhook_url:
        background.enqueue("policies.deliver_webhook", found.pk)
    return found


def webhook_body(notification: Notification) -> bytes:
    project = notification.project
    doc = {
        "id": notification.pk,
        "type": notification.kind,
        "created_at": notification.created_at.isoformat(),
        "project": {"id": project.pk, "slug": project.slug, "name": project.name},
        "subject": notification.subject,
        "data": notification.payload,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def webhook_deliver(*, notification_id: int) -> Notification:
    """POST one notification to the project's webhook; raise WebhookFailed to be retried."""
    found = Notification.objects.select_related("project").get(pk=notification_id)
    prefs = policy_settings(project=found.project)
    if not prefs.webhook_url or found.webhook_status == "sent":
        return found
    if not prefs.webhook_url.startswith(("http://", "https://")):
        raise ApplicationError("The webhook URL must be http(s)", field="webhook_url")
    body = webhook_body(found)
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        prefs.webhook_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Switchyard-Webhook/1",
            "X-Switchyard-Event": found.kind,
            "X-Switchyard-Signature": webhook_signature(prefs.webhook_secret, body),
        },
    )
    found.webhook_attempts += 1
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        status, error = 0, str(exc)[:300]
    else:
        error = "" if 200 <= status < 300 else f"HTTP {status}"
    found.webhook_status = "sent" if not error else "failed"
    found.webhook_error = error
    found.save(update_fields=["webhook_status", "webhook_error", "webhook_attempts"])
    if error and found.webhook_attempts < MAX_WEBHOOK_ATTEMPTS:
        logger.warning("webhook for notification %s failed: %s", found.pk, error)
        raise WebhookFailed(error)
    return found
