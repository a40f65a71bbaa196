"""Provider connections: how an organisation's replays reach each provider, with its sealed key.

Admins add one per provider (the pricing catalogue's slug: openai, anthropic, together, groq,
google, …) naming the wire format, an optional base URL (OpenRouter, Together, Groq, vLLM and
Ollama are OpenAI-compatible hosts), the key, and limits. The key is sealed at once and never
shown again; leaving it blank on an update keeps the stored one. The `sim` provider needs none.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import QuerySet

from apps.accounts.models import Organization, Person, Role
from apps.accounts.services import require_role
from apps.core.errors import ApplicationError, NotFound
from apps.replay import crypto
from apps.replay.models import ProviderApi, ProviderConnection
from apps.replay.providers.anthropic import AnthropicAdapter
from apps.replay.providers.base import Adapter
from apps.replay.providers.gemini import GeminiAdapter
from apps.replay.providers.http import is_public_address
from apps.replay.providers.openai_compat import OpenAICompatAdapter
from apps.replay.providers.sim import SIM, SimAdapter

DEFAULT_BASE_URL = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com/v1",
    "google": "https://generativelanguage.googleapis.com/v1beta",
    "together": "https://api.together.xyz/v1",
    "groq": "https://api.groq.com/openai/v1",
    "openrouter": "https://openrouter.ai/api/v1",
    "mistral": "https://api.mistral.ai/v1",
    "deepseek": "https://api.deepseek.com/v1",
    "xai": "https://api.x.ai/v1",
    "fireworks": "https://api.fireworks.ai/inference/v1",
}
_ADAPTERS: dict[str, type[OpenAICompatAdapter | AnthropicAdapter | GeminiAdapter]] = {
    ProviderApi.OPENAI: OpenAICompatAdapter,
    ProviderApi.ANTHROPIC: AnthropicAdapter,
    ProviderApi.GEMINI: GeminiAdapter,
}


@dataclass(frozen=True)
class Route:
    """Everything needed to build an adapter in the engine's thread (the key decrypted)."""

    key: str  # "sim" or "conn:<id>"
    provider: str
    api: str
    base_url: str
    api_key: str
    concurrency: int
    rpm: int
    timeout_s: float

    @property
    def simulated(self) -> bool:
        return self.api == SIM


SIM_ROUTE = Route(
    key=SIM, provider=SIM, api=SIM, base_url="", api_key="", concurrency=32, rpm=1_000_000, timeout_s=1
)


def connections_for(*, organization: Organization) -> QuerySet[ProviderConnection]:
    return ProviderConnection.objects.filter(organization=organization).order_by("provider")


def connection_providers(*, organization_id: int) -> set[str]:
    return set(
        ProviderConnection.objects.filter(organization_id=organization_id).values_list("provider", flat=True)
    )


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
    if not settings.PROVIDER_ALLOW_PRIVATE_URLS:
        try:
            infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            raise ApplicationError(f"base_url: {parts.hostname} does not resolve", field="base_url") from exc
        if not all(is_public_address(str(info[4][0])) for info in infos):
            raise ApplicationError(
                "base_url: private and loopback addresses are not allowed on this server",
                field="base_url",
            )
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


def route_for(*, organization_id: int, provider: str, simulated: bool) -> Route:
    """How to reach a provider for this organisation; ApplicationError naming what to add."""
    if simulated:
        return SIM_ROUTE
    connection = ProviderConnection.objects.filter(
        organization_id=organization_id, provider=provider.lower()
    ).first()
    if connection is None:
        raise ApplicationError(
            f"No API key for provider {provider!r}: add one under Replay → Provider keys, or run this candidate "
            "on the simulated provider",
            code="no_provider_key",
            field="candidates",
        )
    return Route(
        key=f"conn:{connection.pk}",
        provider=connection.provider,
        api=connection.api,
        base_url=connection.base_url or DEFAULT_BASE_URL.get(connection.provider, ""),
        api_key=crypto.unseal(connection.key_ciphertext),
        concurrency=connection.max_concurrency,
        rpm=connection.requests_per_minute,
        timeout_s=float(connection.timeout_s),
    )


def build_adapter(route: Route) -> Adapter:
    """An adapter for the route; build it inside the event loop that will use it."""
    if route.simulated:
        return SimAdapter()
    cls = _ADAPTERS[route.api]
    return cls(
        provider=route.provider,
        base_url=route.base_url or cls.default_base_url,
        api_key=route.api_key,
        timeout_s=route.timeout_s,
        max_connections=max(route.concurrency, 4),
        allow_private=settings.PROVIDER_ALLOW_PRIVATE_URLS,
    )


def reasoning_outside_max(route: Route) -> bool:
    """Whether the route's provider reports thinking tokens beside max_tokens (see services/pricing.py)."""
    return False if route.simulated else bool(_ADAPTERS[route.api].reasoning_outside_max)
