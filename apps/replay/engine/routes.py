"""How a replay reaches a provider: a Route (the organisation's connection, its key unsealed) and
the adapter built from it inside the engine's event loop.

Connections themselves are added and removed in apps.replay.services.connections.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from apps.core.errors import ApplicationError
from apps.replay import crypto
from apps.replay.models import ProviderApi, ProviderConnection
from apps.replay.providers.anthropic import AnthropicAdapter
from apps.replay.providers.base import Adapter
from apps.replay.providers.gemini import GeminiAdapter
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
    """Whether the route's provider reports thinking tokens beside max_tokens (see costs.py)."""
    return False if route.simulated else bool(_ADAPTERS[route.api].reasoning_outside_max)
