"""Executing one instrumented call: route, call (with fallbacks and cascade), record.

Everything Switchyard adds is guarded: if planning or recording fails, the app's own call goes
through unchanged. Provider errors of a routed attempt fall through to the next fallback and at
last to the app's own model, whose errors reach the app exactly as without Switchyard.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from .. import _budget_actions as _budgets
from .. import _client as _client_module
from .. import _routing
from .._cascade import failing_check
from .._client import Client
from .._context import DEFAULT_ENDPOINT, Scope, scope_for_call
from .._encode import is_sentinel
from .._log import log_once
from .._recorder import base_event, elapsed_ms, mark_error, new_event_id, set_payload
from .._sender import PAYLOAD_KEY
from ._registry import available_providers, registered_method
from ._streams import AsyncStreamProxy, StreamObserver, SyncStreamProxy

_NOT_CAPTURED = frozenset({"extra_headers", "extra_query", "extra_body", "timeout", "switchyard"})


class Adapter:
    """How one provider API looks: prompt, usage, answer text, stream items."""

    family: ClassVar[str] = ""

    def prepare(self, kwargs: dict[str, Any], stream: bool) -> bool:
        """Adjust ``kwargs`` in place before the call; return whether to hide a usage-only chunk."""
        return False

    def prompt_text(self, kwargs: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def response_fields(self, response: Any) -> dict[str, Any]:
        raise NotImplementedError

    def captured_response(self, response: Any) -> Any:
        """What is captured of a finished call's response (serialised later, off the caller's thread)."""
        return response

    def output_text(self, response: Any) -> str | None:
        """The answer's text, or ``None`` for a non-text answer (tool calls)."""
        raise NotImplementedError

    def refused(self, response: Any) -> bool:
        return False

    def observer(self, capture: bool, hide_usage: bool) -> StreamObserver:
        raise NotImplementedError

    def stream_response(self, observer: StreamObserver) -> Any:
        return observer.summary()


def user_text(messages: object, text_types: frozenset[str]) -> str:
    """Newline-joined text of the user messages (docs/protocol.md, LEARNED_MODEL)."""
    if isinstance(messages, str):
        return messages
    out: list[str] = []
    for message in messages if isinstance(messages, list | tuple) else ():
        role = message.get("role") if isinstance(message, Mapping) else getattr(message, "role", None)
        if role != "user":
            continue
        content = message.get("content") if isinstance(message, Mapping) else getattr(message, "content", None)
        if isinstance(content, str):
            out.append(content)
            continue
        for part in content if isinstance(content, list | tuple) else ():
            kind = part.get("type") if isinstance(part, Mapping) else getattr(part, "type", None)
            text = part.get("text") if isinstance(part, Mapping) else getattr(part, "text", None)
            if kind in text_types and isinstance(text, str):
                out.append(text)
    return "\n".join(out)


UsageSpec = tuple[tuple[str, str | None, str], ...]
"""``(event field, nested object or None, attribute)`` rows: where a provider keeps each count."""


def get(value: Any, name: str) -> Any:
    """An attribute of a client library's object, or the key of its JSON (a dict)."""
    return value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)


def read_usage(fields: dict[str, Any], usage: Any, spec: UsageSpec, includes_cached: bool | None) -> None:
    """Copy the token counts ``spec`` names from a provider's usage object (or its JSON) into ``fields``."""
    for name, container, attr in spec:
        value = get(usage if container is None else get(usage, container), attr)
        if type(value) is int and value >= 0:
            fields[name] = value
    if includes_cached is not None:
        fields["input_includes_cached"] = includes_cached


SERVICE_TIERS = {
    "default": "standard",
    "auto": "standard",
    "scale": "standard",
    "standard": "standard",
    "flex": "flex",
    "priority": "priority",
    "batch": "batch",
}
"""What OpenAI (``default``, ``flex``, ``scale``, ``priority``) and Anthropic (``standard``,
``priority``, ``batch``) call the tier that served a call, as the protocol's ``service_tier``."""


def read_tier(fields: dict[str, Any], value: object) -> None:
    """Set ``fields["service_tier"]`` from a provider's reported tier (unknown names are left out)."""
    tier = SERVICE_TIERS.get(value) if isinstance(value, str) else None
    if tier is not None:
        fields["service_tier"] = tier


@dataclass(frozen=True, slots=True)
class Binding:
    """One instrumented method of one client."""

    adapter: Adapter
    provider: str
    original: Callable[..., Any]
    is_async: bool
    path: tuple[str, ...]


class Call:
    """One app call: its plan, the attempt in progress, and the events of its attempts."""

    __slots__ = (
        "binding", "capture", "client", "event", "first_id", "hide_usage", "index", "kwargs", "model", "plan",
        "reason", "scope", "start", "stream",
    )

    def __init__(self, client: Client, binding: Binding, kwargs: dict[str, Any], scope: Scope, stream: bool) -> None:
        self.client = client
        self.binding = binding
        self.kwargs = kwargs
        self.scope = scope
        self.stream = stream
        self.model = str(kwargs.get("model"))
        self.first_id = new_event_id()
        self.plan: _routing.Plan | None = None
        self.hide_usage = False
        self.capture = False
        self.index = 0
        self.reason: str | None = None
        self.event: dict[str, Any] = {}
        self.start = 0.0

    @property
    def last(self) -> int:
        return len(self.plan.attempts) - 1 if self.plan is not None else 0

    def next_attempt(self) -> tuple[Callable[..., Any], dict[str, Any]]:
        """The method and kwargs of the attempt at ``self.index``; starts its event and clock."""
        binding, kwargs, plan = self.binding, self.kwargs, self.plan
        fn, provider, model = binding.original, binding.provider, self.model
        routing = None
        if plan is not None:
            attempt = plan.attempts[self.index]
            provider, model = attempt.provider, attempt.model
            if model != self.model:
                kwargs = {**kwargs, "model": model}
            if provider != binding.provider:
                fn = registered_method(provider, binding.adapter.family, binding.is_async, binding.path) or fn
            routing = {
                "policy_version": plan.policy_version,
                "arm": attempt.arm,
                "target": f"{provider}/{model}",
                "reason": self.reason or attempt.reason,
            }
        event_id = self.first_id if self.index == 0 else new_event_id()
        event = base_event(
            self.client, self.scope, event_id=event_id, provider=provider, model=model, ts_ms=time.time_ns() // 1_000_000
        )
        if routing is not None:
            event["routing"] = routing
        if self.capture:
            snapshot = {k: list(v) if isinstance(v, list) else v for k, v in kwargs.items() if k not in _NOT_CAPTURED}
            set_payload(event, lambda: snapshot, None)
        self.event = event
        self.start = time.perf_counter()
        return fn, kwargs

    def failed(self, exc: BaseException) -> bool:
        """Record the attempt's error; ``True`` when a fallback remains to try (else re-raise)."""
        try:
            event = self.event
            event["latency_ms"] = elapsed_ms(self.start)
            mark_error(event, exc)
            self.client.record(event)
        except Exception as err:
            log_once("record-error", "switchyard: cannot record a failed call: %r", err)
        if self.index >= self.last:
            return False
        self.index, self.reason = self.index + 1, "provider_error"
        return True

    def succeeded(self, response: Any) -> bool:
        """Record a finished non-stream attempt; ``True`` when a cascade check failed (escalate)."""
        try:
            event = self.event
            event["latency_ms"] = int((time.perf_counter() - self.start) * 1000)
            adapter = self.binding.adapter
            event.update(adapter.response_fields(response))
            if self.capture:
                set_payload(event, event[PAYLOAD_KEY][0], lambda: adapter.captured_response(response))
            self.client.record(event)
            plan = self.plan
            if plan is None or self.index != 0 or not plan.cascade_checks or self.last == 0:
                return False
            check = failing_check(plan.cascade_checks, adapter.output_text(response), adapter.refused(response))
        except Exception as err:
            log_once("record-ok", "switchyard: cannot record a call: %r", err)
            return False
        if check is None:
            return False
        self.index, self.reason = self.last, f"cascade:{check}"
        return True

    def _stream_done(self) -> Callable[[StreamObserver, BaseException | None], None]:
        adapter, event, start = self.binding.adapter, self.event, self.start

        def done(observer: StreamObserver, exc: BaseException | None) -> None:
            event["latency_ms"] = elapsed_ms(start)
            if observer.first_at is not None:
                event["ttft_ms"] = elapsed_ms(start, observer.first_at)
            event.update(observer.fields)
            if exc is not None and not isinstance(exc, GeneratorExit):
                mark_error(event, exc)
            if self.capture:
                set_payload(event, event[PAYLOAD_KEY][0], lambda: adapter.stream_response(observer))
            self.client.record(event)

        return done

    def watch_sync(self, stream: Any) -> SyncStreamProxy:
        """The app's stream, watched: the event is recorded when it ends."""
        observer = self.binding.adapter.observer(self.capture, self.hide_usage)
        return SyncStreamProxy(stream, observer, self._stream_done())

    def watch_async(self, stream: Any) -> AsyncStreamProxy:
        observer = self.binding.adapter.observer(self.capture, self.hide_usage)
        return AsyncStreamProxy(stream, observer, self._stream_done())


def start_call(binding: Binding, kwargs: dict[str, Any], options: object, *, streaming: bool) -> Call | None:
    """Plan one call; ``None`` when Switchyard is not initialised (the call passes through)."""
    client = _client_module._current
    if client is None:
        return None
    blocked = None
    try:
        stream = streaming or kwargs.get("stream") is True
        call = Call(client, binding, kwargs, scope_for_call(options), stream)
        current = client.store.current
        rule = None
        if current is not None and current.budgets:
            rule = _budgets.applicable(
                current.budgets, current.customer_key, call.scope,
                endpoint=call.scope.endpoint or DEFAULT_ENDPOINT, model=call.model,
            )  # fmt: skip
        config = current if client.routing_enabled else None
        if rule is not None and rule.action == "block":
            blocked = rule
        elif rule is not None:
            adapter = binding.adapter
            call.plan = _budgets.downgrade_plan(
                rule, provider=binding.provider, model=call.model, routing=client.routing_enabled,
                available=available_providers(binding.provider, adapter.family, binding.is_async),
            )  # fmt: skip
            client.counters.add("budget_downgraded")
        elif config is not None:
            scope, adapter = call.scope, binding.adapter
            call.plan = _routing.plan(
                config,
                endpoint=scope.endpoint or DEFAULT_ENDPOINT,
                provider=binding.provider,
                model=call.model,
                available=available_providers(binding.provider, adapter.family, binding.is_async),
                event_id=call.first_id,
                conversation_id=scope.conversation_id,
                user_id=scope.user_id,
                prompt=lambda: adapter.prompt_text(kwargs),
                can_cascade=not stream,
            )
        if stream:
            call.hide_usage = binding.adapter.prepare(kwargs, stream)
        if client.store.current is not None:
            call.capture = client.capture_now()
    except Exception as exc:
        log_once("plan", "switchyard: routing skipped after an internal error: %r", exc)
        return None
    if blocked is not None:
        client.counters.add("budget_blocked")
        raise _budgets.blocked_error(blocked)
    return call


Invoke = Callable[[Callable[..., Any], dict[str, Any]], Any]


def run_sync(call: Call, invoke: Invoke, on_stream: Callable[[Any], Any]) -> Any:
    """Try the plan's attempts in order; the app's own model's errors reach the app unchanged."""
    while True:
        fn, kw = call.next_attempt()
        try:
            result = invoke(fn, kw)
        except Exception as exc:
            if call.failed(exc):
                continue
            raise
        if call.stream:
            return on_stream(result)
        if not call.succeeded(result):
            return result


async def run_async(call: Call, invoke: Invoke, on_stream: Callable[[Any], Any]) -> Any:
    """:func:`run_sync` for async clients (``invoke`` returns an awaitable)."""
    while True:
        fn, kw = call.next_attempt()
        try:
            result = await invoke(fn, kw)
        except Exception as exc:
            if call.failed(exc):
                continue
            raise
        if call.stream:
            return on_stream(result)
        if not call.succeeded(result):
            return result


def _call(fn: Callable[..., Any], kw: dict[str, Any]) -> Any:
    return fn(**kw)


def instrument(binding: Binding, *, streaming: bool = False) -> Callable[..., Any]:
    """The replacement of a client's ``create`` (or ``parse``) method; ``streaming`` for a method
    that always streams (Gemini's ``generate_content_stream``)."""
    original = binding.original

    def create(*args: Any, **kwargs: Any) -> Any:
        options = kwargs.pop("switchyard", None)
        call = None if args else start_call(binding, kwargs, options, streaming=streaming)
        if call is None:
            return original(*args, **kwargs)
        return run_sync(call, _call, call.watch_sync)

    async def acreate(*args: Any, **kwargs: Any) -> Any:
        options = kwargs.pop("switchyard", None)
        call = None if args else start_call(binding, kwargs, options, streaming=streaming)
        if call is None:
            return await original(*args, **kwargs)
        return await run_async(call, _call, call.watch_async)

    replacement: Any = acreate if binding.is_async else create
    replacement.__switchyard_original__ = original
    replacement.__doc__ = getattr(original, "__doc__", None)
    return cast(Callable[..., Any], replacement)


def omitted(value: object) -> bool:
    """Absent in the provider SDK's sense (``None``, ``NOT_GIVEN``, ``omit``)."""
    return value is None or is_sentinel(value)
