"""What the SDKs polling a project's config can run: recorded from `GET /v1/config`.

The SDK names the LEARNED_MODEL types it runs in `X-Switchyard-Capabilities` (docs/protocol.md,
e.g. `hashed_linear/1,hashed_linear/2,encoder_linear/1,encoder_linear/2`). The config view calls
:func:`sdk_client_seen` on every poll; a row is written only when an (agent, capabilities) pair is
new to the project or was last recorded over `TOUCH_EVERY` ago, so a fleet polling every 30 s costs
one write per SDK build an hour, not one per poll.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from django.utils import timezone

from apps.policies.models import SdkClient

TOUCH_EVERY = timedelta(hours=1)
MAX_CAPABILITIES = 20

_recent: dict[tuple[int, str, str], float] = {}  # (project, agent, capabilities) → monotonic time written
_lock = threading.Lock()


def normalise_capabilities(header: str) -> str:
    """The header's items, stripped, de-duplicated and sorted (at most 20 of ≤ 40 characters)."""
    items = sorted({item.strip()[:40] for item in header.split(",") if item.strip()})
    return ",".join(items[:MAX_CAPABILITIES])[:300]


def sdk_client_seen(*, project_id: int, agent: str, capabilities: str) -> None:
    """Record that an SDK with these capabilities polled the project's config (throttled)."""
    caps = normalise_capabilities(capabilities)
    agent = agent.strip()[:200] or "unknown"
    key = (project_id, agent, caps)
    now = time.monotonic()
    with _lock:
        written = _recent.get(key)
        if written is not None and now - written < TOUCH_EVERY.total_seconds():
            return
        if len(_recent) > 100_000:
            _recent.clear()
        _recent[key] = now
    stamp = timezone.now()
    updated = SdkClient.objects.filter(project_id=project_id, agent=agent, capabilities=caps).update(
        last_seen=stamp
    )
    if not updated:
        SdkClient.objects.get_or_create(
            project_id=project_id,
            agent=agent,
            capabilities=caps,
            defaults={"first_seen": stamp, "last_seen": stamp},
        )


def sdk_clients_forget_cache() -> None:
    """Forget which rows were written lately (tests)."""
    with _lock:
        _recent.clear()
