"""``switchyard.track``: record (and route) a call made with any other client."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, TypeVar, cast

from . import _budget_actions as _budgets
from . import _routing
from ._client import Client, current_client
from ._context import DEFAULT_ENDPOINT, Scope, current_scope, merge_scope
from ._integrations._core import read_tier
from ._log import log_once
from ._recorder import base_event, elapsed_ms, mark_error, new_event_id, now_ms, routing_field, set_payload

_F = TypeVar("_F", bound=Callable[..., Any])

UsageExtractor = Callable[[Any], Mapping[str, Any]]

_USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
)


class Call:
    """One tracked call. Send the request to :attr:`model` (the routed model) and report usage.

    Example::

        with switchyard.track(provider="mistral", model="mistral-large-latest", prompt=question) as call:
            reply = mistral.chat.complete(model=call.model, messages=msgs)
            call.set_usage(input_tokens=reply.usage.prompt_tokens, output_tokens=reply.usage.completion_tokens)
    """

    __slots__ = ("_client", "_event", "_request", "_response", "_start", "model", "provider")

    def __init__(self, client: Client | None, event: dict[str, Any], provider: str, model: str) -> None:
        self._client = client
        self._event = event
        self._start = time.perf_counter()
        self._request: Any = None
        self._response: Any = None
        self.provider = provider
        self.model = model

    @property
    def event_id(self) -> str:
        """The event's id (for feedback attached later)."""
        return str(self._event["event_id"])

    def set_usage(self, *, input_includes_cached: bool | None = None, **tokens: int | None) -> None:
        """Token counts as the provider reported them (``input_tokens``, ``output_tokens``, …)."""
        for name, value in tokens.items():
            if name in _USAGE_FIELDS and isinstance(value, int) and value >= 0:
                self._event[name] = value
        if input_includes_cached is not None:
            self._event["input_includes_cached"] = input_includes_cached

    def set_service_tier(self, tier: str) -> None:
        """The tier that served the call: ``standard``, ``batch``, ``flex`` or ``priority`` (OpenAI's
        ``default`` and ``scale`` read as standard); it is priced at that tier's price."""
        read_tier(self._event, tier)

    def set_response_model(self, model: str) -> None:
        """The model name the provider answered with."""
        self._event["response_model"] = model

    def set_status(self, status: str, error_type: str | None = None) -> None:
        """``ok``, ``error``, ``timeout`` or ``filtered`` (exceptions set ``error`` by themselves)."""
        self._event["status"] = status
        if error_type is not None:
            self._event["error_type"] = error_type

    def set_payload(self, *, request: Any = None, response: Any = None) -> None:
        """Payloads to capture when the project's capture policy allows it (redacted first)."""
        self._request, self._response = request, response

    def _finish(self, exc: BaseException | None) -> None:
        client = self._client
        if client is None:
            return
        event = self._event
        event["latency_ms"] = elapsed_ms(self._start)
        event.setdefault("status", "ok")
        if exc is not None:
            mark_error(event, exc)
        if (self._request is not None or self._response is not None) and client.capture_now():
            request, response = self._request, self._response
            set_payload(event, lambda: request, lambda: response)
        client.record(event)


class track:
    """Record an LLM call made with a client Switchyard does not wrap; a context manager or decorator.

    As a context manager it yields a :class:`Call` whose ``model`` is the routed model (override,
    split and learned policies apply; pass ``prompt=`` for learned). As a decorator it records
    each call of the function; ``usage=`` turns the function's result into token counts.

    Example::

        @switchyard.track(provider="cohere", model="command-r", endpoint="rerank",
                          usage=lambda r: {"input_tokens": r.meta.billed_units.input_tokens})
        def rerank(query: str) -> Any: ...
    """

    def __init__(
        self,
        *,
        provider: str,
        model: str,
        endpoint: str | None = None,
        prompt: str | None = None,
        conversation_id: str | None = None,
        user_id: str | None = None,
        tags: Iterable[str] = (),
        metadata: Mapping[str, str] | None = None,
        usage: UsageExtractor | None = None,
        customer_id: str | None = None,
    ) -> None:
        self.provider = provider
        self.model = model
        self.prompt = prompt
        self.usage = usage
        self._changes: dict[str, Any] = {
            "endpoint": endpoint,
            "conversation_id": conversation_id,
            "user_id": user_id,
            "tags": tuple(tags),
            "metadata": metadata,
            "customer_id": customer_id,
        }
        self._calls: list[Call] = []

    def _begin(self, *, route: bool) -> Call:
        client = current_client()
        scope: Scope = merge_scope(current_scope(), **self._changes)
        event_id = new_event_id()
        model, plan, attempt = self.model, None, None
        current = client.store.current if client is not None else None
        rule = None
        if current is not None and current.budgets:
            rule = _budgets.applicable(
                current.budgets, current.customer_key, scope, endpoint=scope.endpoint or DEFAULT_ENDPOINT, model=self.model
            )
            if rule is not None and rule.action == "block":
                assert client is not None
                client.counters.add("budget_blocked")
                raise _budgets.blocked_error(rule)
        if route and rule is not None and client is not None:
            plan = _budgets.downgrade_plan(
                rule, provider=self.provider, model=self.model, available=(rule.downgrade_provider,),
                routing=client.routing_enabled,
            )  # fmt: skip
            client.counters.add("budget_downgraded")
            attempt = plan.attempts[0]
            model = attempt.model
        elif route and client is not None and client.config is not None:
            try:
                prompt = self.prompt
                plan = _routing.plan(
                    client.config,
                    endpoint=scope.endpoint or DEFAULT_ENDPOINT,
                    provider=self.provider,
                    model=self.model,
                    available=(self.provider,),
                    event_id=event_id,
                    conversation_id=scope.conversation_id,
                    user_id=scope.user_id,
                    prompt=(lambda: prompt or ""),
                    can_cascade=False,
                )
            except Exception as exc:
                log_once("track-plan", "switchyard: routing skipped after an internal error: %r", exc)
            if plan is not None:
                attempt = plan.attempts[0]
                model = attempt.model
        if client is None:
            return Call(None, {}, self.provider, model)
        event = base_event(client, scope, event_id=event_id, provider=self.provider, model=model, ts_ms=now_ms())
        if plan is not None and attempt is not None:
            event["routing"] = routing_field(plan.policy_version, attempt, attempt.reason)
        return Call(client, event, self.provider, model)

    def __enter__(self) -> Call:
        call = self._begin(route=True)
        self._calls.append(call)
        return call

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._calls.pop()._finish(exc)

    def _result(self, call: Call, result: Any) -> None:
        if self.usage is None:
            return
        try:
            call.set_usage(**dict(self.usage(result)))
        except Exception as exc:
            log_once("track-usage", "switchyard: track usage extractor raised %r", exc)

    def __call__(self, func: _F) -> _F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                call = self._begin(route=False)
                try:
                    result = await func(*args, **kwargs)
                except BaseException as exc:
                    call._finish(exc)
                    raise
                self._result(call, result)
                call._finish(None)
                return result

            return cast(_F, async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            call = self._begin(route=False)
            try:
                result = func(*args, **kwargs)
            except BaseException as exc:
                call._finish(exc)
                raise
            self._result(call, result)
            call._finish(None)
            return result

        return cast(_F, wrapper)
