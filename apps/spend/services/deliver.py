"""Delivering alert notices: e-mail, signed webhooks, Slack-compatible incoming webhooks.

A channel's pending notices go out together (`channel_deliver`): up to DIGEST_AFTER of them one
message each, more in one digest message, so a hundred users crossing a budget in the same
minute make one e-mail, not a hundred. A notice that was sent is never sent again (its row says
so); a failed send is retried by the task with back-off, up to MAX_ATTEMPTS.

Webhook body (JSON): `{"type": "alert.opened|alert.threshold|alert.resolved|alert.digest",
"delivery": <id>, "sent_at", "project": {...}, "alerts": [ALERT, ...]}`, signed as the routing
notices are: `X-Switchyard-Signature: sha256=<hex HMAC-SHA256(channel secret, body)>`, with
`X-Switchyard-Event` and `X-Switchyard-Delivery` headers. Slack-compatible webhooks get
`{"text": …}` (Slack, Mattermost, Rocket.Chat, Discord's /slack endpoint).
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
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Membership, Role
from apps.core.signatures import webhook_signature
from apps.spend.models import Alert, AlertChannel, AlertDelivery, ChannelKind, DeliveryStatus

logger = logging.getLogger(__name__)
DIGEST_AFTER = 3
MAX_ATTEMPTS = 5
BATCH = 200  # notices in one digest message
MAX_BATCHES = 50
TIMEOUT_S = 10


class DeliveryFailed(Exception):
    """A channel did not take the notices; the task retries."""


def alert_doc(alert: Alert, event: str) -> dict[str, Any]:
    return {
        "id": alert.pk,
        "notice": event,
        "kind": alert.kind,
        "status": alert.status,
        "title": alert.title,
        "scope": {"kind": alert.scope_kind, "value": alert.scope_value},
        "metric": alert.metric,
        "threshold": alert.threshold,
        "opened_at": alert.opened_at.isoformat(),
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        "resolution": alert.resolution,
        "detail": alert.detail,
        "path": reverse("spend:alert", args=[alert.project_id, alert.pk]),
    }


def _line(alert: Alert, event: str) -> str:
    if event == "resolved":
        return f"Resolved: {alert.title} — {alert.resolution}"
    text = alert.detail.get("text")
    return f"{alert.title}" + (f" — {text}" if text else "")


def _subject(items: list[AlertDelivery], project_name: str) -> str:
    if len(items) == 1:
        item = items[0]
        prefix = "Resolved: " if item.event == "resolved" else ""
        return f"[Switchyard] {project_name}: {prefix}{item.alert.title}"
    return f"[Switchyard] {project_name}: {len(items)} spend alerts"


def _recipients(channel: AlertChannel) -> list[str]:
    if channel.target.strip():
        return [a.strip() for a in channel.target.split(",") if a.strip()]
    emails = Membership.objects.filter(
        organization_id=channel.project.organization_id, role__in=[Role.ADMIN, Role.OWNER]
    ).values_list("user__email", flat=True)
    return sorted({e for e in emails if e})


def _post(url: str, body: bytes, headers: dict[str, str]) -> str:
    """'' when the peer answered 2xx, else why not."""
    if not url.startswith(("http://", "https://")):
        return "the URL must be http(s)"
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return str(exc)[:300]
    return "" if 200 <= status < 300 else f"HTTP {status}"


def _send(channel: AlertChannel, items: list[AlertDelivery]) -> str:
    project = channel.project
    lines = [_line(d.alert, d.event) for d in items]
    if channel.kind == ChannelKind.EMAIL:
        recipients = _recipients(channel)
        if not recipients:
            return "no recipients: add addresses, or admins and owners with e-mail addresses"
        text = "\n".join(f"- {line}" for line in lines)
        text += "\n\nAlert history: " + reverse("spend:alerts", args=[project.pk])
        send_mail(_subject(items, project.name), text, settings.DEFAULT_FROM_EMAIL, recipients)
        return ""
    if channel.kind == ChannelKind.SLACK:
        header = f"*Switchyard — {project.name}*"
        payload = {"text": header + "\n" + "\n".join(f"• {line}" for line in lines)}
        return _post(channel.target, json.dumps(payload).encode(), {"User-Agent": "Switchyard-Alerts/1"})
    event = f"alert.{items[0].event.split(':')[0]}" if len(items) == 1 else "alert.digest"
    doc = {
        "type": event,
        "delivery": items[0].pk,
        "sent_at": timezone.now().isoformat(),
        "project": {"id": project.pk, "slug": project.slug, "name": project.name},
        "alerts": [alert_doc(d.alert, d.event) for d in items],
    }
    body = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    headers = {
        "User-Agent": "Switchyard-Alerts/1",
        "X-Switchyard-Event": event,
        "X-Switchyard-Delivery": str(items[0].pk),
        "X-Switchyard-Signature": webhook_signature(channel.secret, body),
    }
    return _post(channel.target, body, headers)


def channel_deliver(*, channel_id: int) -> int:
    """Send the channel's pending notices (BATCH at a time, one digest each); returns how many went
    out. Raises DeliveryFailed to be retried when the channel refused them (they stay pending until
    MAX_ATTEMPTS)."""
    sent = 0
    for _ in range(MAX_BATCHES):
        done = _deliver_batch(channel_id)
        sent += done
        if done < BATCH:
            break
    return sent


def _deliver_batch(channel_id: int) -> int:
    channel = AlertChannel.objects.select_related("project").filter(pk=channel_id).first()
    if channel is None:
        return 0
    with transaction.atomic():
        pending = list(
            AlertDelivery.objects.select_for_update(skip_locked=True)
            .filter(channel=channel, status=DeliveryStatus.PENDING)
            .select_related("alert")
            .order_by("pk")[:BATCH]
        )
        if not pending:
            return 0
        batches = [[d] for d in pending] if len(pending) <= DIGEST_AFTER else [pending]
        sent = 0
        errors = []
        for batch in batches:
            error = _send(channel, batch) if channel.enabled else "the channel is disabled"
            now = timezone.now()
            for d in batch:
                d.attempts += 1
                d.digest = len(batch) > 1
                if not error:
                    d.status, d.sent_at, d.error = DeliveryStatus.SENT, now, ""
                    sent += 1
                else:
                    d.error = error[:300]
                    if d.attempts >= MAX_ATTEMPTS or not channel.enabled:
                        d.status = DeliveryStatus.FAILED
                    errors.append(error)
                d.save(update_fields=["attempts", "digest", "status", "sent_at", "error", "updated_at"])
    if errors and channel.enabled:
        logger.warning("alert channel %s failed: %s", channel.pk, errors[0])
        raise DeliveryFailed(errors[0])
    return sent


def channels_with_pending() -> list[int]:
    return sorted(
        set(AlertDelivery.objects.filter(status=DeliveryStatus.PENDING).values_list("channel_id", flat=True))
    )
