"""Running Celery tasks: on real workers when a broker is configured, else in-process.

`enqueue(task, ...)` is the one way code starts background work. `task` is the registered task
name (`enqueue("replay.run_job", job.pk)`) or the task itself: services name the task, so only an
app's `tasks.py` imports its services and no service imports a tasks module. It waits for the
current database transaction to commit (a job never sees rows that were rolled back), then:

- with `CELERY_BROKER_URL` set, sends the task to the broker (`apply_async`);
- without one (the embedded default), runs it on a small in-process thread pool, off the request
  thread, through Celery's own `apply`, so the same task code, retry policy and signals run.

`EmbeddedBeat` does the same for the periodic schedule in `CELERY_BEAT_SCHEDULE`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from celery import Task
from django.conf import settings
from django.db import close_old_connections, connections, transaction

logger = logging.getLogger(__name__)

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_pending: set[Future[Any]] = set()
_pending_lock = threading.Lock()


def uses_broker() -> bool:
    return bool(settings.CELERY_BROKER_URL)


def _embedded_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=settings.EMBEDDED_WORKER_THREADS, thread_name_prefix="switchyard-worker"
            )
        return _executor


def _run_embedded(task: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    close_old_connections()
    try:
        result = task.apply(args=args, kwargs=kwargs)
        if result.failed():
            logger.error("background task %s failed: %r", task.name, result.result)
        return result.result
    finally:
        connections.close_all()


def dispatch(task: Task | str, *args: Any, **kwargs: Any) -> Future[Any] | None:
    """Start the task now (not waiting for a commit). Returns a Future in embedded mode."""
    task = _resolve(task)
    if uses_broker():
        task.apply_async(args=args, kwargs=kwargs)
        return None
    future = _embedded_executor().submit(_run_embedded, task, args, kwargs)
    with _pending_lock:
        _pending.add(future)
    future.add_done_callback(_forget)
    return future


def _forget(future: Future[Any]) -> None:
    with _pending_lock:
        _pending.discard(future)


def enqueue(task: Task | str, *args: Any, **kwargs: Any) -> None:
    """Start the task once the current transaction commits (at once outside a transaction).

    A task name is looked up now, so a misspelt one fails here, in the caller, not after the commit.
    """
    resolved = _resolve(task)
    transaction.on_commit(lambda: dispatch(resolved, *args, **kwargs))


def drain(timeout: float = 30.0) -> bool:
    """Wait until embedded jobs queued so far (and any they queue) have finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _pending_lock:
            pending = list(_pending)
        if not pending:
            return True
        for future in pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with contextlib.suppress(Exception):  # the task logged its own failure
                future.result(timeout=remaining)
    return False


def task_by_name(name: str) -> Task:
    """A registered Celery task; imports every app's tasks module first (autodiscovery is lazy)."""
    from config.celery_app import app  # on first use: the module sets a settings default on import

    if name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[name]


def _resolve(task: Task | str) -> Task:
    return task_by_name(task) if isinstance(task, str) else task


def _seconds(schedule: Any) -> float:
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    if isinstance(schedule, int | float):
        return float(schedule)
    raise TypeError(f"embedded beat supports interval schedules only, got {schedule!r}")


class EmbeddedBeat:
    """Fires the interval entries of CELERY_BEAT_SCHEDULE on the in-process worker."""

    def __init__(self, schedule: dict[str, dict[str, Any]], resolve: Callable[[str], Task]):
        self._resolve = resolve
        self._entries = [
            (name, str(entry["task"]), _seconds(entry["schedule"]), tuple(entry.get("args", ())))
            for name, entry in schedule.items()
        ]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="switchyard-beat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        next_due = {name: time.monotonic() + interval for name, _, interval, _ in self._entries}
        while not self._stop.wait(1.0):
            now = time.monotonic()
            for name, task_name, interval, args in self._entries:
                if now >= next_due[name]:
                    next_due[name] = now + interval
                    try:
                        dispatch(self._resolve(task_name), *args)
                    except Exception:
                        logger.exception("embedded beat could not start %s", task_name)
