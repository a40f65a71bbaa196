"""The one exception hierarchy of the SDK.

Nothing in the instrumentation path raises these into the application: telemetry and routing
failures are logged (rate-limited) and counted. They are raised only where the app asked for
something directly and wrongly (``init`` with an impossible option) or surfaced as values
(``Client.last_config_error``) and by transports written against :class:`Transport` — and
:class:`BudgetExceededError`, which the project asked for: a budget with the action *block*.
"""

from __future__ import annotations

from datetime import datetime


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


class BudgetExceededError(SwitchyardError):
    """A budget the project set with the action *block* is exhausted for this call's scope.

    Raised by a wrapped client (and :func:`switchyard.track`) instead of sending the call, so no
    money is spent; never raised for any other reason. Catch it to degrade gracefully::

        try:
            reply = client.chat.completions.create(model="gpt-4o", messages=msgs)
        except switchyard.BudgetExceededError as exc:
            reply = None
            log.warning("LLM budget %s exhausted until %s", exc.budget_name, exc.resets_at)

    Attributes: ``budget_id``, ``budget_name``, ``scope_kind`` (``project``, ``endpoint``,
    ``model``, ``user`` or ``customer``), ``scope_value``, ``period`` (``day``, ``week``,
    ``month``), ``limit_usd`` and ``resets_at`` (an aware UTC :class:`~datetime.datetime`).
    """

    def __init__(
        self,
        message: str,
        *,
        budget_id: int,
        budget_name: str,
        scope_kind: str,
        scope_value: str,
        period: str,
        limit_usd: float,
        resets_at: datetime,
    ) -> None:
        super().__init__(message)
        self.budget_id = budget_id
        self.budget_name = budget_name
        self.scope_kind = scope_kind
        self.scope_value = scope_value
        self.period = period
        self.limit_usd = limit_usd
        self.resets_at = resets_at
