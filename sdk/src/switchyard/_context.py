"""Attribution: which endpoint (feature) made a call, for which conversation and user.

State lives in one :class:`contextvars.ContextVar`, so a scope entered in an asyncio task or a
thread applies to that task or thread only (``asyncio.to_thread`` and ``contextvars.copy_context``
carry it along).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any, NamedTuple, TypedDict, TypeVar, cast

_F = TypeVar("_F", bound=Callable[..., Any])

DEFAULT_ENDPOINT = "default"
# Field limits of docs/protocol.md (longer values would get the event rejected).
_MAX_ID = 256
_MAX_TAG = 128
_MAX_META_VALUE = 2048
_MAX_ITEMS = 64


class Scope(NamedTuple):
    """The attribution in force: read by every instrumented call (a tuple: cheap to make)."""

    endpoint: str | None = None
    conversation_id: str | None = None
    user_id: str | None = None
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, str] | None = None
    customer_id: str | None = None


class CallOptions(TypedDict, total=False):
    """Per-call attribution, passed to a wrapped client as ``switchyard={...}``.

    Example::

        client.chat.completions.create(model="gpt-4o", messages=msgs,
                                       switchyard={"endpoint": "summarise", "user_id": "u_42"})
    """

    endpoint: str
    conversation_id: str
    user_id: str
    customer_id: str
    tags: list[str]
    metadata: dict[str, str]


EMPTY_SCOPE = Scope()
_scope: ContextVar[Scope] = ContextVar("switchyard_scope", default=EMPTY_SCOPE)


def current_scope() -> Scope:
    """The scope of the running context."""
    return _scope.get()


def merge_scope(
    base: Scope,
    *,
    endpoint: str | None = None,
    conversation_id: str | None = None,
    user_id: str | None = None,
    tags: Iterable[str] = (),
    metadata: Mapping[str, str] | None = None,
    customer_id: str | None = None,
) -> Scope:
    """``base`` with the given fields overriding, tags appended and metadata merged.

    Values are clipped to the protocol's field limits here, once per scope, not per call.
    """
    merged_meta = base.metadata
    if metadata:
        merged = {**(base.metadata or {}), **{str(k)[:_MAX_ID]: str(v)[:_MAX_META_VALUE] for k, v in metadata.items()}}
        merged_meta = dict(list(merged.items())[:_MAX_ITEMS])
    extra_tags = tuple(dict.fromkeys(str(tag)[:_MAX_TAG] for tag in tags if tag not in base.tags))
    return Scope(
        endpoint=endpoint if endpoint is not None else base.endpoint,
        conversation_id=conversation_id[:_MAX_ID] if conversation_id is not None else base.conversation_id,
        user_id=user_id[:_MAX_ID] if user_id is not None else base.user_id,
        tags=(base.tags + extra_tags)[:_MAX_ITEMS] if extra_tags else base.tags,
        metadata=merged_meta,
        customer_id=customer_id[:_MAX_ID] if customer_id is not None else base.customer_id,
    )


def scope_for_call(options: object) -> Scope:
    """The scope of one call: the context's, overridden by a ``switchyard=`` per-call dict."""
    base = _scope.get()
    if options is None or not (type(options) is dict or isinstance(options, Mapping)):
        return base
    opts = cast(Mapping[str, Any], options)
    if "tags" not in opts and "metadata" not in opts:  # endpoint / ids only: nothing to merge
        endpoint, conversation_id, user_id = opts.get("endpoint"), opts.get("conversation_id"), opts.get("user_id")
        customer_id = opts.get("customer_id")
        return Scope(
            base.endpoint if endpoint is None else str(endpoint),
            base.conversation_id if conversation_id is None else str(conversation_id)[:_MAX_ID],
            base.user_id if user_id is None else str(user_id)[:_MAX_ID],
            base.tags,
            base.metadata,
            base.customer_id if customer_id is None else str(customer_id)[:_MAX_ID],
        )
    return merge_scope(
        base,
        endpoint=_opt_str(opts.get("endpoint")),
        conversation_id=_opt_str(opts.get("conversation_id")),
        user_id=_opt_str(opts.get("user_id")),
        tags=[str(tag) for tag in opts.get("tags") or ()],
        metadata=opts.get("metadata") or None,
        customer_id=_opt_str(opts.get("customer_id")),
    )


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


class attributes:
    """Attach attribution to every LLM call made inside a block or a function.

    Nested scopes override single fields, append tags and merge metadata. Works as a context
    manager and as a decorator of sync and async functions.

    Example::

        with switchyard.attributes(endpoint="support-reply", conversation_id=ticket.id,
                                   user_id=user.id, customer_id=account.id, tags=["beta"],
                                   metadata={"tier": "pro"}):
            client.chat.completions.create(model="gpt-4o", messages=msgs)

        @switchyard.attributes(endpoint="nightly-digest")
        async def digest() -> None: ...
    """

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        conversation_id: str | None = None,
        user_id: str | None = None,
        tags: Iterable[str] = (),
        metadata: Mapping[str, str] | None = None,
        customer_id: str | None = None,
    ) -> None:
        self._changes: dict[str, Any] = {
            "endpoint": endpoint,
            "conversation_id": conversation_id,
            "user_id": user_id,
            "tags": tuple(tags),
            "metadata": dict(metadata) if metadata else None,
            "customer_id": customer_id,
        }
        self._tokens: list[Token[Scope]] = []

    def _enter(self) -> Token[Scope]:
        return _scope.set(merge_scope(_scope.get(), **self._changes))

    def __enter__(self) -> Scope:
        self._tokens.append(self._enter())
        return _scope.get()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _scope.reset(self._tokens.pop())

    def __call__(self, func: _F) -> _F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                token = self._enter()
                try:
                    return await func(*args, **kwargs)
                finally:
                    _scope.reset(token)

            return cast(_F, async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = self._enter()
            try:
                return func(*args, **kwargs)
            finally:
                _scope.reset(token)

        return cast(_F, wrapper)


def endpoint(name: str) -> attributes:
    """Attribute the LLM calls in a block or function to the endpoint ``name``.

    Example::

        with switchyard.endpoint("support-reply"):
            client.chat.completions.create(model="gpt-4o", messages=msgs)

        @switchyard.endpoint("classify-ticket")
        def classify(text: str) -> str: ...
    """
    return attributes(endpoint=name)
