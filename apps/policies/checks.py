"""Deploy checks: production should sign configs with its own keys, not the embedded one."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register

from apps.policies.domain.signing import SigningKeyError, parse_keys


@register(Tags.security, deploy=True)
def signing_keys_configured(app_configs: Any, **kwargs: Any) -> list[Warning]:
    try:
        keys = parse_keys(settings.CONFIG_SIGNING_KEYS)
    except SigningKeyError as exc:
        return [Warning(str(exc), id="policies.E001")]
    if not keys:
        return [
            Warning(
                "CONFIG_SIGNING_KEYS is empty: configs are signed with an embedded key generated "
                "under VAR_DIR. Set your own keys (see README, Configuration).",
                id="policies.W001",
            )
        ]
    return []
