"""The engine's ledger: per-sample state and spend in PostgreSQL, results in ClickHouse.

Runs on the thread that runs the job (the Celery task's), so it uses that thread's database
connection and transaction; the engine's event loop calls it through a queue (`run_engine`).

- reserve: before requests are sent, their items become in flight and their worst-case cost is
  added to the job's reserved spend, in one transaction.
- settle: once the engine has written the results to ClickHouse, one transaction moves each item to
  its final state with what it was charged and takes its reservation off the job.
- recover: at the start of a run, an item still in flight belonged to a worker that died. If its
  result reached ClickHouse it is settled from there; if not it was maybe sent, maybe billed, and
  its answer is lost: it is marked interrupted, charged its whole reservation, and never sent
  again. The job's spend and counters are then recomputed from its items.

Every write checks the fence (the job's attempt number): a worker whose job was taken over by
another, after its lease ran out, can no longer write anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from apps.replay.engine.budget import Fenced
from apps.replay.engine.engine import Engine, LedgerPort, Outcome, Result
from apps.replay.models import ItemState, JobStatus, ReplayItem, ReplayJob
from apps.replay.sql import sql
from apps.warehouse.client import ProjectScope

FEATURE = "replay.ledger"
_FINAL = (ItemState.DONE, ItemState.ERROR, ItemState.SKIPPED)


class Ledger:
    def __init__(self, job: ReplayJob):
        self.job_id = job.pk
        self.project_id = job.project_id
        self.fence = job.attempts

    def _job(self) -> Any:
        return ReplayJob.objects.filter(pk=self.job_id, attempts=self.fence, status=JobStatus.RUNNING)

    def handle(self, op: str, payload: Any) -> Any:
        if op == "reserve":
            return self.reserve(payload)
        if op == "settle":
            return self.settle(payload)
        if op == "heartbeat":
            return self.heartbeat()
        raise ValueError(f"unknown ledger operation {op!r}")

    def reserve(self, entries: list[tuple[int, int, int]]) -> None:
        with transaction.atomic():
            if not self._job().update(
                reserved_nano=F("reserved_nano") + sum(a for _, a, _ in entries), heartbeat_at=timezone.now()
            ):
                raise Fenced()
            _update_items(
                ("state", "reserved_nano"),
                [(item_id, ItemState.INFLIGHT.value, total) for item_id, _, total in entries],
            )

    def settle(self, results: list[Result]) -> dict[str, Any]:
        """The results' ClickHouse rows are already written (Engine._flush); now their state."""
        final = [r for r in results if r.state in _FINAL]
        with transaction.atomic():
            updated = self._job().update(
                spent_nano=F("spent_nano") + sum(r.charged for r in final),
                reserved_nano=F("reserved_nano") - sum(r.reserved for r in final),
                done_items=F("done_items") + sum(1 for r in final if r.state == ItemState.DONE),
                error_items=F("error_items") + sum(1 for r in final if r.state == ItemState.ERROR),
                skipped_items=F("skipped_items") + sum(1 for r in final if r.state == ItemState.SKIPPED),
                heartbeat_at=timezone.now(),
            )
            if not updated:
                return {"fenced": True}
            for start in range(0, len(final), 200):
                _update_items(
                    ("state", "reserved_nano", "charged_nano", "error"),
                    [(r.item_id, str(r.state), 0, r.charged, r.error) for r in final[start : start + 200]],
                )
        return self.heartbeat()

    def heartbeat(self) -> dict[str, Any]:
        if not self._job().update(heartbeat_at=timezone.now()):
            return {"fenced": True}
        cancel = ReplayJob.objects.filter(pk=self.job_id).values_list("cancel_requested", flat=True).first()
        return {"cancel": bool(cancel)}


_TYPES = {
    "state": "VARCHAR(12)",
    "reserved_nano": "BIGINT",
    "charged_nano": "BIGINT",
    "error": "VARCHAR(300)",
}


def _update_items(columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Set per-item values in one UPDATE (a CASE per column, every value a bound parameter).

    `rows` are (item id, *values in `columns` order). Django's bulk_update does the same but
    spends most of its time building expressions; this runs on every batch of the hot path.
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    sets = []
    params: list[Any] = []
    for index, column in enumerate(columns):
        whens = " ".join(["WHEN %s THEN CAST(%s AS " + _TYPES[column] + ")"] * len(rows))
        sets.append(f"{quote(column)} = CASE {quote('id')} {whens} END")
        for row in rows:
            params += [row[0], row[index + 1]]
    placeholders = ", ".join(["%s"] * len(rows))
    params += [row[0] for row in rows]
    table = quote(ReplayItem._meta.db_table)
    statement = f"UPDATE {table} SET {', '.join(sets)} WHERE {quote('id')} IN ({placeholders})"  # noqa: S608 - identifiers only
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def recover(job: ReplayJob) -> int:
    """Settle the items a dead worker left in flight; returns how many were interrupted."""
    inflight = list(job.items.filter(state=ItemState.INFLIGHT))
    interrupted = 0
    if inflight:
        found = _stored_results(job, inflight)
        updates = []
        for item in inflight:
            stored = found.get((str(item.event_id), item.candidate))
            if stored is not None:
                ok, charged, error = stored
                item.state = ItemState.DONE if ok else ItemState.ERROR
                item.charged_nano = charged
                item.error = error[:300]
            else:
                item.state = ItemState.INTERRUPTED
                item.charged_nano = item.reserved_nano
                item.error = "the worker stopped while this request was in flight; counted at its worst case"
                interrupted += 1
            item.reserved_nano = 0
            updates.append(item)
        ReplayItem.objects.bulk_update(
            updates, ["state", "charged_nano", "reserved_nano", "error"], batch_size=500
        )
    recount(job)
    return interrupted


def _stored_results(job: ReplayJob, items: list[ReplayItem]) -> dict[tuple[str, str], tuple[bool, int, str]]:
    result = ProjectScope(job.project_id).query(
        sql("stored_results"),
        {"job_id": job.pk, "ids": sorted({i.event_id for i in items})},
        feature=FEATURE,
    )
    return {(str(e), str(c)): (bool(ok), int(charged), str(err)) for e, c, ok, charged, err in result.rows}


def recount(job: ReplayJob) -> None:
    """The job's spend and counters, recomputed from its items (after a recovery or at the end)."""
    counts = dict(job.items.values("state").annotate(n=Count("pk")).values_list("state", "n"))
    totals = job.items.aggregate(spent=Sum("charged_nano"), reserved=Sum("reserved_nano"))
    job.spent_nano = int(totals["spent"] or 0)
    job.reserved_nano = int(totals["reserved"] or 0)
    job.done_items = counts.get(ItemState.DONE, 0)
    job.error_items = counts.get(ItemState.ERROR, 0)
    job.skipped_items = counts.get(ItemState.SKIPPED, 0)
    job.interrupted_items = counts.get(ItemState.INTERRUPTED, 0)
    job.save(
        update_fields=[
            "spent_nano",
            "reserved_nano",
            "done_items",
            "error_items",
            "skipped_items",
            "interrupted_items",
            "updated_at",
        ]
    )


def _resolve(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


def run_engine(make_engine: Callable[[LedgerPort], Engine], ledger: Ledger) -> Outcome:
    """Run the engine's event loop on a helper thread while this thread serves its ledger calls."""
    ops: queue.SimpleQueue[tuple[str, Any, asyncio.AbstractEventLoop, asyncio.Future[Any]] | None] = (
        queue.SimpleQueue()
    )
    box: dict[str, Any] = {}

    def call(op: str, payload: Any) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        ops.put((op, payload, loop, future))
        return future

    def main() -> None:
        try:
            box["outcome"] = asyncio.run(make_engine(LedgerPort(call)).run())
        except BaseException as exc:
            box["error"] = exc
        finally:
            ops.put(None)

    thread = threading.Thread(target=main, name="replay-engine", daemon=True)
    thread.start()
    while (message := ops.get()) is not None:
        op, payload, loop, future = message
        try:
            value, error = ledger.handle(op, payload), None
        except Exception as exc:
            value, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop has closed
            loop.call_soon_threadsafe(_resolve, future, value, error)
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["outcome"]
