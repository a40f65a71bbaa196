"""Provider connections: how an organisation's replays reach each provider, with its sealed key.

Admins add one per provider (the pricing catalogue's slug: openai, anthropic, together, groq,
google, …) naming the wire format, an optional base URL (OpenRouter, Together, Groq, vLLM and
Ollama are OpenAI-compatible hosts), the key, and limits. The key is sealed at once and never
shown again; leaving it blank on an update keeps the stored one. The `sim` provider needs none.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from apps.accounts.models import Organization, Person, Role
from apps.accounts.services import require_role
from apps.core.errors import ApplicationError, NotFound
from apps.core.network import UnsafeAddress, public_host_check
from apps.replay import crypto
from apps.replay.models import ProviderApi, ProviderConnection
from apps.replay.providers.sim import SIM


def _check_base_url(url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApplicationError(
            "base_url: must be an http(s) URL such as https://api.together.xyz/v1", field="base_url"
        )
    if parts.query or parts.fragment or parts.username:
        raise ApplicationError("base_url: no query, fragment or credentials in the URL", field="base_url")
    try:
        public_host_check(parts.hostname, parts.port)
    except UnsafeAddress as exc:
        raise ApplicationError(f"base_url: {exc}", field="base_url") from exc
    return url.rstrip("/")


def connection_save(
    *,
    organization: Organization,
    actor: Person | None,
    provider: str,
    api: str,
    base_url: str = "",
    api_key: str = "",
    max_concurrency: int = 8,
    requests_per_minute: int = 600,
    timeout_s: int = 60,
) -> ProviderConnection:
    """Add or update the organisation's connection to a provider. A blank key keeps the stored one."""
    if actor is not None:
        require_role(user=actor, organization=organization, at_least=Role.ADMIN)
    provider = provider.strip().lower()
    if not provider or provider == SIM or len(provider) > 64:
        raise ApplicationError(
            "provider: a catalogue provider slug such as openai or together", field="provider"
        )
    if api not in ProviderApi.values:
        raise ApplicationError(f"api: one of {', '.join(ProviderApi.values)}", field="api")
    key = api_key.strip()
    if any(ch.isspace() for ch in key):
        raise ApplicationError("api_key: must not contain spaces or line breaks", field="api_key")
    if not 1 <= max_concurrency <= 256:
        raise ApplicationError("max_concurrency: between 1 and 256", field="max_concurrency")
    if not 1 <= requests_per_minute <= 1_000_000:
        raise ApplicationError("requests_per_minute: between 1 and 1,000,000", field="requests_per_minute")
    if not 1 <= timeout_s <= 600:
        raise ApplicationError("timeout_s: between 1 and 600 seconds", field="timeout_s")
    connection = ProviderConnection.objects.filter(organization=organization, provider=provider).first()
    if connection is None:
        connection = ProviderConnection(organization=organization, provider=provider, created_by=actor)
    connection.api = api
    connection.base_url = _check_base_url(base_url)
    if key:
        connection.key_ciphertext = crypto.seal(key)
        connection.key_hint = crypto.hint(key)
    connection.max_concurrency = max_concurrency
    connection.requests_per_minute = requests_per_minute
    connection.timeout_s = timeout_s
    connection.save()
    return connection


def connection_delete(*, organization: Organization, actor: Person | None, connection_id: int) -> None:
    if actor is not None:
        require_role(user=actor, organization=organization, at_least=Role.ADMIN)
    deleted, _ = ProviderConnection.objects.filter(organization=organization, pk=connection_id).delete()
    if not deleted:
        raise NotFound("Provider connection not found")
