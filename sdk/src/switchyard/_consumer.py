"""The bounded queue and its daemon consumer (STYLE.md habit 10).

``put`` is a ``deque.append`` and a length check: it never blocks and never takes a lock (a full
queue drops the event and counts it). One daemon thread wakes on a full batch or every
``flush_interval``, serialises and gzips events, and sends them through :class:`Sender`. After
``os.fork`` the child starts empty and starts its own thread on first use.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from ._fork import after_fork_in_child
from ._log import log_once
from ._sender import Sender
from ._stats import Counters


class Consumer:
    """Batches queued events by count, byte size and interval; see the module docstring."""

    def __init__(
        self,
        sender: Sender,
        counters: Counters,
        *,
        max_queue_size: int,
        flush_at: int,
        flush_interval: float,
        max_batch_size: int,
        max_batch_bytes: int,
    ) -> None:
        self.sender = sender
        self.counters = counters
        self.max_queue_size = max_queue_size
        self.flush_at = flush_at
        self.flush_interval = flush_interval
        self.max_batch_size = max_batch_size
        self.max_batch_bytes = max_batch_bytes
        self._init_state()
        after_fork_in_child(self, Consumer._after_fork)

    def _init_state(self) -> None:
        self._queue: deque[dict[str, Any]] = deque()
        self._carry: list[bytes] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition(threading.Lock())
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def _after_fork(self) -> None:
        """In a forked child: the parent's events are the parent's; start fresh, lazily."""
        self.counters.reinit_after_fork()
        closed = self._closed
        self._init_state()
        self._closed = closed

    # -- producer side (the app's threads) -------------------------------------------------------

    def put(self, event: dict[str, Any]) -> bool:
        """Enqueue without blocking; ``False`` (and a counted drop) when full or closed."""
        queue = self._queue
        if len(queue) >= self.max_queue_size or self._closed:
            self.counters.drop("queue_full" if not self._closed else "closed")
            return False
        queue.append(event)
        if self._thread is None:
            self._start()
        if len(queue) >= self.flush_at and not self._wake.is_set():
            self._wake.set()
        return True

    def __len__(self) -> int:
        return len(self._queue) + len(self._carry)

    def start(self) -> None:
        """Start the consumer thread now (normally it starts on the first event)."""
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is not None or self._closed:
                return
            thread = threading.Thread(target=self._run, name="switchyard-consumer", daemon=True)
            self._thread = thread
            thread.start()

    # -- consumer thread ------------------------------------------------------------------------

    def _run(self) -> None:
        stop, wake = self._stop, self._wake
        while True:
            wake.wait(self.flush_interval)
            wake.clear()
            try:
                self._drain()
                if self.sender.spool is not None and not stop.is_set():
                    self.sender.drain_spool(stop)
            except Exception as exc:
                log_once("consumer", "switchyard: consumer error %r", exc)
            with self._idle:
                self._busy = False
                self._idle.notify_all()
            if stop.is_set():
                return

    def _drain(self) -> None:
        queue, sender = self._queue, self.sender
        while (queue or self._carry) and not self._stop.is_set():
            with self._idle:
                self._busy = True
            parts, size = self._carry, sum(len(p) + 1 for p in self._carry)
            self._carry = []
            while queue and len(parts) < self.max_batch_size:
                if len(parts) % 16 == 15:
                    time.sleep(0)  # let an app thread waiting for the GIL in now, not in 5 ms
                data = sender.encode(queue.popleft())
                if data is None:
                    continue
                if parts and size + len(data) > self.max_batch_bytes:
                    self._carry = [data]
                    break
                parts.append(data)
                size += len(data) + 1
            sender.deliver(parts, self._stop)

    # -- flush and shutdown ---------------------------------------------------------------------

    def flush(self, timeout: float) -> bool:
        """Wait until everything queued so far was handed to the server (or spooled/dropped)."""
        if self._thread is None:
            if not self._queue and not self._carry:
                return True
            self._start()
        self._wake.set()
        with self._idle:
            return self._idle.wait_for(
                lambda: not self._queue and not self._carry and not self._busy and not self._wake.is_set(),
                timeout=timeout,
            )

    def shutdown(self, timeout: float) -> None:
        """Flush and stop within about ``timeout`` seconds; what is left is spooled or counted."""
        if self._closed:
            return
        deadline = time.monotonic() + timeout
        self.flush(timeout * 0.8)
        self._closed = True
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=max(0.05, deadline - time.monotonic()))
        leftover = list(self._carry)
        self._carry = []
        while self._queue:
            data = self.sender.encode(self._queue.popleft())
            if data is not None:
                leftover.append(data)
        if not leftover:
            return
        if self.sender.spool is not None:
            self.sender.spool.put(self.sender.body(leftover), len(leftover))
        else:
            self.counters.drop("shutdown", len(leftover))
