"""The one exception hierarchy of the SDK.

Nothing in the instrumentation path raises these into the application: telemetry and routing
failures are logged (rate-limited) and counted. They are raised only where the app asked for
something directly and wrongly (``init`` with an impossible option) or surfaced as values
(``Client.last_config_error``) and by transports written against :class:`Transport`.
"""

from __future__ import annotations


class SwitchyardError(Exception):
    """Base class of every error the SDK defines."""


class ConfigurationError(SwitchyardError, ValueError):
    """An ``init()`` option is invalid (a negative queue size, a host that is not a URL).

    Example::

        try:
            switchyard.init(api_key="sy_ingest_…", host="not a url")
        except switchyard.ConfigurationError as exc:
            print(exc)
    """


class TransportError(SwitchyardError):
    """A request could not be sent or no response came back (connection refused, timeout).

    Custom transports raise it for network failures; the SDK retries them with backoff.
    """


class InvalidConfigError(SwitchyardError):
    """A routing config from ``GET /v1/config`` (or the disk cache) was rejected.

    The last good config stays in force. Available as ``Client.last_config_error``.
    """


class SignatureError(InvalidConfigError):
    """The config's Ed25519 signature is missing, malformed or does not verify."""
