"""The group-commit writer: many requests, one columnar insert.

Request threads hand over validated rows and wait. One writer thread per process takes
everything pending (up to `max_rows`, or whatever arrived within `linger` of the first row),
drops rows whose `(project_id, event_id)` is already stored or repeated in the batch, inserts the
rest into ClickHouse in one column-oriented insert, and only then wakes the requests. So:

- an acknowledged event is committed (the request waits for the insert to return);
- a failed insert fails every request in it (they answer 503 and the client retries the batch);
- a retried batch, even one racing its original inside this process, is stored once, because
  de-duplication and insert happen on this single thread against what is already stored.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from django.conf import settings

from apps.core.metrics import WRITER_FLUSH_ROWS, WRITER_FLUSH_SECONDS, WRITER_QUEUE_DEPTH
from apps.warehouse import client as warehouse
from apps.warehouse.calls import CALL_COLUMNS
from apps.warehouse.client import WarehouseUnavailable

logger = logging.getLogger(__name__)

_EXISTING_SQL = """
SELECT DISTINCT project_id, event_id FROM llm_calls
WHERE project_id IN {projects:Array(UInt64)}
  AND ts BETWEEN fromUnixTimestamp64Milli({lo:Int64}, 'UTC') AND fromUnixTimestamp64Milli({hi:Int64}, 'UTC')
  AND bitShiftRight(toUInt128(event_id), 64) IN {id_prefixes:Array(UInt64)}
"""


@dataclass(frozen=True)
class WriteResult:
    stored: int
    duplicates: int


@dataclass
class EncodedRows:
    """Rows of one request, already encoded as JSONCompactEachRow lines (apps.warehouse.calls.encode_call)."""

    keys: list[tuple[int, uuid.UUID]] = field(default_factory=list)
    lines: list[bytes] = field(default_factory=list)
    lo_ms: int = 2**62
    hi_ms: int = 0

    def add(self, project_id: int, event_id: uuid.UUID, ts_ms: int, line: bytes) -> None:
        self.keys.append((project_id, event_id))
        self.lines.append(line)
        self.lo_ms = min(self.lo_ms, ts_ms)
        self.hi_ms = max(self.hi_ms, ts_ms)

    def __len__(self) -> int:
        return len(self.lines)


@dataclass
class _Pending:
    rows: EncodedRows
    future: Future[WriteResult] = field(default_factory=Future)


class InFlightElsewhere(WarehouseUnavailable):
    def __init__(self) -> None:
        super().__init__(
            "Some of these events are being stored by another request right now; retry the batch"
        )


def claim_name(key: tuple[int, uuid.UUID]) -> str:
    return f"sy:ingest:{key[0]}:{key[1].hex}"


class RedisClaims:
    """Short-lived claims on event keys, shared by every ingest process.

    Only needed when several processes write to one ClickHouse (production): a retried batch
    racing its original on another process would otherwise pass both processes' checks. A key
    claimed by someone else fails the request with 503, so a claim can never lose an event.
    """

    def __init__(self, url: str, ttl_s: int = 120):
        import redis

        self._redis = redis.Redis.from_url(url)
        self.ttl_s = ttl_s

    def claim(self, names: list[str]) -> list[bool]:
        pipe = self._redis.pipeline(transaction=False)
        for name in names:
            pipe.set(name, b"1", nx=True, ex=self.ttl_s)
        return [bool(ok) for ok in pipe.execute()]

    def release(self, names: list[str]) -> None:
        if names:
            self._redis.delete(*names)


class GroupCommitWriter:
    def __init__(
        self,
        *,
        table: str = "llm_calls",
        max_rows: int = 50_000,
        linger_s: float = 0.05,
        claims: RedisClaims | None = None,
    ):
        self.table = table
        self.claims = claims
        self.max_rows = max_rows
        self.linger_s = linger_s
        self._queue: queue.Queue[_Pending] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, rows: EncodedRows) -> Future[WriteResult]:
        """Queue rows for the next group commit; the future resolves once they are committed."""
        pending = _Pending(rows)
        if not len(rows):
            pending.future.set_result(WriteResult(0, 0))
            return pending.future
        self._ensure_thread()
        self._queue.put(pending)
        return pending.future

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="switchyard-ingest-writer", daemon=True
                )
                self._thread.start()

    def _take(self) -> list[_Pending]:
        first = self._queue.get()
        batch, rows = [first], len(first.rows)
        deadline = time.monotonic() + self.linger_s
        while rows < self.max_rows:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
            batch.append(item)
            rows += len(item.rows)
        return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            started = time.perf_counter()
            try:
                results = self._commit(batch)
            except Exception as exc:  # every waiting request learns of the failure
                logger.warning("ingest flush of %d requests failed: %s", len(batch), exc)
                for item in batch:
                    item.future.set_exception(exc)
                continue
            finally:
                elapsed = time.perf_counter() - started
                WRITER_FLUSH_SECONDS.observe(elapsed)
                WRITER_FLUSH_ROWS.observe(sum(len(item.rows) for item in batch))
                WRITER_QUEUE_DEPTH.set(self._queue.qsize())
            for item, result in zip(batch, results, strict=True):
                if isinstance(result, Exception):
                    item.future.set_exception(result)
                else:
                    item.future.set_result(result)

    def _commit(self, batch: Sequence[_Pending]) -> list[WriteResult | Exception]:
        seen = self._already_stored(batch)
        plans: list[tuple[list[tuple[int, uuid.UUID]], list[bytes], int]] = []
        for item in batch:
            fresh: list[tuple[int, uuid.UUID]] = []
            lines: list[bytes] = []
            duplicates = 0
            for key, line in zip(item.rows.keys, item.rows.lines, strict=True):
                if key in seen:
                    duplicates += 1
                    continue
                seen.add(key)
                fresh.append(key)
                lines.append(line)
            plans.append((fresh, lines, duplicates))
        results: list[WriteResult | Exception] = []
        claimed: list[str] = []
        keep: list[bytes] = []
        for fresh, lines, duplicates in plans:
            if self.claims is not None and fresh:
                names = [claim_name(key) for key in fresh]
                got = self.claims.claim(names)
                if not all(got):
                    # Another process is committing some of these events right now. Storing the
                    # rest would be safe, but the request must be retried to learn the outcome.
                    self.claims.release([n for n, ok in zip(names, got, strict=True) if ok])
                    results.append(InFlightElsewhere())
                    continue
                claimed.extend(names)
            keep.extend(lines)
            results.append(WriteResult(len(lines), duplicates))
        if keep:
            try:
                warehouse.system_insert_json(self.table, CALL_COLUMNS, b"\n".join(keep), feature="ingest")
            except Exception:
                if self.claims is not None and claimed:
                    self.claims.release(claimed)
                raise
        return results

    def _already_stored(self, batch: Sequence[_Pending]) -> set[tuple[int, uuid.UUID]]:
        """Keys of this batch already in ClickHouse.

        The query matches on the ids' first 64 bits (a compact parameter, cheap to bind) within the
        batch's projects and time range; the exact keys are then checked here.
        """
        keys = {key for item in batch for key in item.rows.keys}
        result = warehouse.system_query(
            _EXISTING_SQL,
            {
                "projects": sorted({project for project, _ in keys}),
                "lo": min(item.rows.lo_ms for item in batch),
                "hi": max(item.rows.hi_ms for item in batch),
                "id_prefixes": sorted({event_id.int >> 64 for _, event_id in keys}),
            },
            feature="ingest-dedup",
        )
        return {key for p, e in result.rows if (key := (int(p), e)) in keys}


_writer: GroupCommitWriter | None = None
_writer_lock = threading.Lock()


def get_writer() -> GroupCommitWriter:
    global _writer
    with _writer_lock:
        if _writer is None:
            # Embedded ClickHouse is owned by exactly one process, so its writer thread alone
            # decides; a ClickHouse server may have many writers, which coordinate in Redis.
            shared = not warehouse.connection_info().embedded and bool(settings.REDIS_URL)
            _writer = GroupCommitWriter(claims=RedisClaims(settings.REDIS_URL) if shared else None)
        return _writer


def _reset_after_fork() -> None:
    global _writer
    _writer = None


os.register_at_fork(after_in_child=_reset_after_fork)
