"""Transparent proxies around provider streams: the app iterates them as usual, the SDK watches.

The proxy yields every item (except a usage-only chunk the SDK itself asked for), remembers when
the first token came, and records the event once: at the end of the stream, on an error, on
``close()``, or when the stream is garbage-collected unread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from .._log import log_once


class StreamObserver:
    """Sees every streamed item; subclasses fill ``fields`` (usage, model, status)."""

    __slots__ = ("capture", "fields", "first_at", "texts")

    def __init__(self, capture: bool) -> None:
        self.capture = capture
        self.fields: dict[str, Any] = {"status": "ok"}
        self.first_at: float | None = None
        self.texts: list[str] = []

    def on_item(self, item: Any) -> bool:
        """Look at one item; return ``False`` to hide it from the app."""
        if self.first_at is None:
            self.first_at = time.perf_counter()
        return True

    def token(self, text: str | None) -> None:
        """Note output text (for time-to-first-token and, when capturing, the response)."""
        if self.first_at is None:
            self.first_at = time.perf_counter()
        if self.capture and text:
            self.texts.append(text)

    def summary(self) -> Any:
        """The captured response of the stream."""
        return {"output_text": "".join(self.texts), **{k: v for k, v in self.fields.items() if k == "status"}}


_OWN = frozenset({"_inner", "_iter", "_watch"})

Done = Callable[[StreamObserver, BaseException | None], None]


class _Watch:
    __slots__ = ("done", "finished", "observer")

    def __init__(self, observer: StreamObserver, done: Done) -> None:
        self.observer = observer
        self.done = done
        self.finished = False

    def see(self, item: Any) -> bool:
        try:
            return self.observer.on_item(item)
        except Exception as exc:
            log_once("stream-observer", "switchyard: cannot read a stream item: %r", exc)
            return True

    def finish(self, exc: BaseException | None) -> None:
        if self.finished:
            return
        self.finished = True
        try:
            self.done(self.observer, exc)
        except Exception as err:
            log_once("stream-done", "switchyard: cannot record a stream: %r", err)


class _StreamProxy:
    """What both proxies share: the wrapped stream, its watch, attribute pass-through."""

    __slots__ = ("_inner", "_iter", "_watch")

    def __init__(self, inner: Any, iterator: Any, observer: StreamObserver, done: Done) -> None:
        self._inner = inner
        self._iter = iterator
        self._watch = _Watch(observer, done)

    def __getattr__(self, name: str) -> Any:
        if name in _OWN:
            raise AttributeError(name)
        return getattr(self._inner, name)

    def __del__(self) -> None:
        watch = getattr(self, "_watch", None)
        if watch is not None:
            watch.finish(None)


class SyncStreamProxy(_StreamProxy):
    """Wraps a sync provider stream (``openai.Stream``, ``anthropic.Stream``)."""

    __slots__ = ()

    def __init__(self, inner: Any, observer: StreamObserver, done: Done) -> None:
        super().__init__(inner, inner if hasattr(inner, "__next__") else iter(inner), observer, done)

    def __iter__(self) -> SyncStreamProxy:
        return self

    def __next__(self) -> Any:
        watch = self._watch
        while True:
            try:
                item = next(self._iter)
            except StopIteration:
                watch.finish(None)
                raise
            except BaseException as exc:
                watch.finish(exc)
                raise
            if watch.see(item):
                return item

    def close(self) -> None:
        try:
            close = getattr(self._inner, "close", None)
            if close is not None:
                close()
        finally:
            self._watch.finish(None)

    def __enter__(self) -> SyncStreamProxy:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncStreamProxy(_StreamProxy):
    """Wraps an async provider stream (``openai.AsyncStream``, ``anthropic.AsyncStream``)."""

    __slots__ = ()

    def __init__(self, inner: Any, observer: StreamObserver, done: Done) -> None:
        super().__init__(inner, inner if hasattr(inner, "__anext__") else inner.__aiter__(), observer, done)

    def __aiter__(self) -> AsyncStreamProxy:
        return self

    async def __anext__(self) -> Any:
        watch = self._watch
        while True:
            try:
                item = await self._iter.__anext__()
            except StopAsyncIteration:
                watch.finish(None)
                raise
            except BaseException as exc:
                watch.finish(exc)
                raise
            if watch.see(item):
                return item

    async def close(self) -> None:
        try:
            close = getattr(self._inner, "close", None)
            if close is not None:
                await close()
        finally:
            self._watch.finish(None)

    async def __aenter__(self) -> AsyncStreamProxy:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
