"""Switchyard SDK: LLM cost telemetry and local, signed-config model routing.

Quick start::

    import switchyard
    from openai import OpenAI

    switchyard.init(api_key="sy_ingest_…", sdk_key="sy_sdk_…", host="https://switchyard.example",
                    config_public_keys={"k1": "<base64 Ed25519 public key>"})
    client = switchyard.wrap(OpenAI())

    with switchyard.endpoint("support-reply"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])

Telemetry never blocks or breaks the app: events go to a bounded in-memory queue that a daemon
thread sends in gzipped batches; routing is decided locally from a verified config and falls
back to the app's own model on any doubt.
"""

from ._batch import record_batch
from ._client import Client, flush, get_client, init, shutdown, stats, wait_for_config
from ._context import CallOptions, attributes, endpoint
from ._errors import (
    BudgetExceededError,
    ConfigurationError,
    InvalidConfigError,
    SignatureError,
    SwitchyardError,
    TransportError,
)
from ._integrations._registry import register_client
from ._integrations._wrap import wrap
from ._stats import Stats
from ._track import Call, track
from ._transport import HTTPTransport, MockTransport, Request, Response, Transport
from ._version import __version__

__all__ = [
    "BudgetExceededError",
    "Call",
    "CallOptions",
    "Client",
    "ConfigurationError",
    "HTTPTransport",
    "InvalidConfigError",
    "MockTransport",
    "Request",
    "Response",
    "SignatureError",
    "Stats",
    "SwitchyardError",
    "Transport",
    "TransportError",
    "__version__",
    "attributes",
    "endpoint",
    "flush",
    "get_client",
    "init",
    "record_batch",
    "register_client",
    "shutdown",
    "stats",
    "track",
    "wait_for_config",
    "wrap",
]
