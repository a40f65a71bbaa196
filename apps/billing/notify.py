"""Telling people: e-mail to an organisation's owners and admins, and alerts for operators
(an error log line, which Sentry picks up when configured, plus a Prometheus counter)."""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from prometheus_client import Counter

from apps.accounts.models import Membership, Role

logger = logging.getLogger("apps.billing")

BILLING_ALERTS = Counter(
    "switchyard_billing_alerts_total", "Billing problems that need a person, by reason", ["reason"]
)


def alert(reason: str, message: str) -> None:
    logger.error("billing alert [%s]: %s", reason, message)
    BILLING_ALERTS.labels(reason).inc()


def email_admins(*, organization_id: int, subject: str, body: str) -> int:
    """Send to the organisation's owners and admins; a mail failure is logged, never raised."""
    recipients = sorted(
        {
            e
            for e in Membership.objects.filter(
                organization_id=organization_id, role__in=(Role.OWNER, Role.ADMIN)
            ).values_list("user__email", flat=True)
            if e
        }
    )
    if not recipients:
        return 0
    try:
        send_mail(f"[Switchyard] {subject}", body, None, recipients)
    except Exception:
        logger.exception("could not send billing e-mail %r to organisation %s", subject, organization_id)
        return 0
    return len(recipients)
