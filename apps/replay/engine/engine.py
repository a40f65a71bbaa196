"""The replay engine: one asyncio event loop sending a job's requests and scoring the answers.

Per provider route a `Gate` bounds concurrency and request rate; a `Budget` holds the spend cap.
Each item (one sampled call on one candidate) goes: take a slot → reserve its worst-case cost
(written before sending) → send, retrying rate limits, timeouts and server errors with back-off
→ evaluate (a judge's calls reserve and retry the same way) → queue its result. A flusher writes
results in batches through the ledger (ClickHouse row, then PostgreSQL state and spend) and only
then releases their reservations. The ledger runs on the calling thread (engine/runner.py);
the engine reaches it through `LedgerPort`.

Stops: every item done; the cap reached with nothing left in flight; cancel requested; the run's
time budget spent (the job continues as a new task); or a provider that keeps failing, which ends
the job as failed with the results so far kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apps.pricing.book import PriceBook
from apps.replay.engine.budget import Budget, Fenced
from apps.replay.engine.costs import worst_case
from apps.replay.engine.gates import Gate, backoff_s
from apps.replay.engine.results import store_results
from apps.replay.evaluators.base import EvalInput, Evaluator, Verdict
from apps.replay.evaluators.checks import failed_checks
from apps.replay.models import ItemState
from apps.replay.providers.base import Adapter, ChatRequest, Completion, ProviderError
from apps.replay.sampling import Sample

MAX_ATTEMPTS = 5
FAIL_AFTER = 5  # requests in a row that failed after their retries: the provider keeps failing
FLUSH_EVERY_S = 0.5
FLUSH_AT = 512
HEARTBEAT_EVERY_S = 2.0


@dataclass
class Work:
    item_id: int
    seq: int
    sample: Sample
    candidate: str  # provider/model
    provider: str
    model: str
    route: str  # which adapter and gate
    request: ChatRequest
    worst: int
    simulated: bool
    baseline_cost_nano: int


@dataclass(frozen=True)
class JudgeTarget:
    provider: str
    model: str
    route: str
    simulated: bool


@dataclass
class Result:
    item_id: int
    state: str
    reserved: int
    charged: int
    error: str
    row: dict[str, Any] | None


@dataclass
class _Spend:
    """What one item reserved and was charged, over all its requests (candidate and judge)."""

    reserved: int = 0
    charged: int = 0
    eval_cost: int = 0
    attempts: int = 0


class LedgerPort:
    """The engine's side of the ledger: each call runs on the ledger's thread and is awaited."""

    def __init__(self, call: Callable[[str, Any], Awaitable[Any]]):
        self._call = call

    async def reserve(self, entries: list[tuple[int, int, int]]) -> None:
        """(item id, amount reserved now, the item's reservations in total), written together."""
        await self._call("reserve", entries)

    async def settle(self, results: list[Result]) -> dict[str, Any]:
        return dict(await self._call("settle", results))

    async def heartbeat(self) -> dict[str, Any]:
        return dict(await self._call("heartbeat", None))


@dataclass
class Outcome:
    stop: str = "done"  # done | spend_cap | cancelled | budget | failed | fenced
    error: str = ""
    results: int = 0


@dataclass
class EngineConfig:
    project_id: int
    job_id: int
    endpoint: str
    evaluator: Evaluator
    judge: JudgeTarget | None
    cap: int
    spent: int
    deadline: float  # time.monotonic() after which no new item starts
    gates: dict[str, tuple[int, int]] = field(default_factory=dict)  # route → (concurrency, rpm)


class Engine:
    def __init__(
        self,
        config: EngineConfig,
        *,
        work: list[Work],
        adapters: dict[str, Adapter],
        book: PriceBook,
        ledger: LedgerPort,
    ):
        self.config = config
        self.adapters = adapters
        self.book = book
        self.ledger = ledger
        self.outcome = Outcome()
        self._queues: dict[str, deque[Work]] = {}
        for item in sorted(work, key=lambda w: w.seq):
            self._queues.setdefault(item.route, deque()).append(item)
        self._gates = {route: Gate(concurrency=c, rpm=r) for route, (c, r) in config.gates.items()}
        self._pending: list[Result] = []
        self._stopping = False
        self._reserve_batch: list[tuple[int, int, int, asyncio.Future[None]]] = []
        self._reserve_task: asyncio.Task[None] | None = None
        self.budget: Budget
        self._closing = False
        self._flush_now = asyncio.Event()

    # --- running ------------------------------------------------------------------------------

    async def run(self) -> Outcome:
        self.budget = Budget(cap=self.config.cap, spent=self.config.spent, persist=self._persist_reservation)
        self._closing = False
        self._flush_now = asyncio.Event()
        flusher = asyncio.create_task(self._flusher())
        workers = [
            asyncio.create_task(self._worker(route))
            for route, queue in self._queues.items()
            for _ in range(min(len(queue), 2 * self._gates[route].concurrency))
        ]
        try:
            await asyncio.gather(*workers)
        finally:
            self._stopping = True
            for task in workers:  # only still running when one failed
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            self._closing = True  # a flush in progress must finish: never cancel one half-way
            self._flush_now.set()
            try:
                await flusher
            finally:
                try:
                    await self._flush()
                finally:
                    for adapter in self.adapters.values():
                        await adapter.aclose()
        return self.outcome

    def stop(self, reason: str, error: str = "") -> None:
        if not self._stopping:
            self._stopping = True
            self.outcome.stop, self.outcome.error = reason, error
        self.budget.wake()

    async def _worker(self, route: str) -> None:
        queue = self._queues[route]
        while queue and not self._stopping:
            if time.monotonic() >= self.config.deadline:
                self.stop("budget")
                return
            item = queue.popleft()
            try:
                result = await self._process(item)
            except Fenced:
                self.stop("fenced", "another worker took the job over")
                return
            if result is None:  # not admitted: the cap is reached
                queue.appendleft(item)
                self.stop("spend_cap")
                return
            self._pending.append(result)
            if len(self._pending) >= FLUSH_AT:
                self._flush_now.set()

    async def _flusher(self) -> None:
        last_beat = time.monotonic()
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flush_now.wait(), FLUSH_EVERY_S)
            self._flush_now.clear()
            if self._pending:
                await self._flush()
                last_beat = time.monotonic()
            elif time.monotonic() - last_beat >= HEARTBEAT_EVERY_S:
                self._react(await self.ledger.heartbeat())
                last_beat = time.monotonic()

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:FLUSH_AT], self._pending[FLUSH_AT:]
            rows = [
                r.row for r in batch if r.row is not None and r.state in (ItemState.DONE, ItemState.ERROR)
            ]
            if rows:  # results first, off both the loop and the ledger's thread; then their state
                await asyncio.to_thread(store_results, rows)
            state = await self.ledger.settle(batch)
            for result in batch:
                self.budget.settled(reserved=result.reserved, charged=result.charged)
            self.outcome.results += len(batch)
            self._react(state)

    def _react(self, state: dict[str, Any]) -> None:
        if state.get("fenced"):
            self.stop("fenced", "another worker took the job over")
        elif state.get("cancel"):
            self.stop("cancelled")

    async def _persist_reservation(self, item_id: int, amount: int, total: int) -> None:
        """Reservations waiting to be written go in one batch (one transaction)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._reserve_batch.append((item_id, amount, total, future))
        if self._reserve_task is None or self._reserve_task.done():
            self._reserve_task = asyncio.create_task(self._write_reservations())
        await future

    async def _write_reservations(self) -> None:
        while self._reserve_batch:
            batch, self._reserve_batch = self._reserve_batch, []
            try:
                await self.ledger.reserve([(i, a, t) for i, a, t, _ in batch])
            except BaseException as exc:
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
                raise
            for *_, future in batch:
                if not future.done():
                    future.set_result(None)

    # --- one item -----------------------------------------------------------------------------

    async def _call(
        self,
        route: str,
        provider: str,
        model: str,
        request: ChatRequest,
        worst: int,
        item_id: int,
        spend: _Spend,
        *,
        first: bool,
    ) -> Completion | None:
        """Send with reservation and retries. None: not admitted (cap). Raises the last ProviderError."""
        adapter, gate = self.adapters[route], self._gates[route]
        reserved_now = False
        attempt = 0
        while True:
            attempt += 1
            if self._stopping and self.outcome.stop in ("failed", "fenced", "cancelled"):
                raise ProviderError(f"job stopping ({self.outcome.stop})", kind="stopped")
            # Reserve before waiting for a slot, so the write overlaps the wait (a request is never
            # sent before its reservation is written; a waiting one may hold its reservation a while).
            if not reserved_now:
                untouched = spend.reserved == 0 and spend.charged == 0
                if not await self.budget.reserve(item_id, worst, holding=spend.reserved):
                    if first and untouched:
                        return None
                    raise ProviderError("the spend cap was reached before this request", kind="spend_cap")
                spend.reserved += worst
                reserved_now = True
            await gate.acquire()
            try:
                if self._stopping and self.outcome.stop in ("failed", "fenced", "cancelled"):
                    raise ProviderError(f"job stopping ({self.outcome.stop})", kind="stopped")
                spend.attempts += 1
                try:
                    completion = await adapter.complete(request, model=model)
                except ProviderError as err:
                    if err.maybe_billed:  # it may have been billed: its worst case stays spent
                        spend.charged += worst
                        reserved_now = False
                    if err.retry_after is not None and err.kind == "rate_limited":
                        gate.pause(err.retry_after)
                    if err.fatal:
                        self.stop("failed", f"{provider}: {err}")
                        raise
                    if not err.retryable or attempt >= MAX_ATTEMPTS:
                        self._count_failure(gate, provider, err)
                        raise
                    delay = backoff_s(attempt, err.retry_after)
                else:
                    gate.consecutive_failures = 0
                    return completion
            finally:
                gate.release()
            await asyncio.sleep(delay)

    def _count_failure(self, gate: Gate, provider: str, err: ProviderError) -> None:
        gate.consecutive_failures += 1
        if gate.consecutive_failures >= FAIL_AFTER:
            self.stop(
                "failed", f"{provider} keeps failing ({gate.consecutive_failures} requests in a row): {err}"
            )

    def _charge(
        self, provider: str, model: str, completion: Completion, worst: int, simulated: bool
    ) -> tuple[int | None, int]:
        """(what the answer costs at today's price, what it is charged against the cap)."""
        cost = None
        if completion.usage is not None:
            priced = self.book.cost(
                provider=provider, model=model, ts=datetime.now(UTC), usage=completion.usage
            )
            cost = priced.nano_usd if priced is not None else None
        if simulated:
            return cost, 0
        return cost, (cost if cost is not None else worst)

    async def _process(self, item: Work) -> Result | None:
        spend = _Spend()
        try:
            completion = await self._call(
                item.route,
                item.provider,
                item.model,
                item.request,
                item.worst,
                item.item_id,
                spend,
                first=True,
            )
        except ProviderError as err:
            if err.kind == "stopped" and spend.attempts == 0:  # never sent: release what it reserved
                return Result(
                    item.item_id, ItemState.SKIPPED, spend.reserved, 0, "not sent: the job stopped", None
                )
            return self._result(item, spend, error=str(err))
        if completion is None:
            return None
        cost, charged = self._charge(item.provider, item.model, completion, item.worst, item.simulated)
        spend.charged += charged
        answer = completion.answer()
        checks = failed_checks(
            answer if completion.text or not completion.tool_calls else None,
            completion.refused,
            item.request,
            baseline=item.sample.baseline,
        )
        verdicts = await self._evaluate(item, answer, spend)
        return self._result(
            item, spend, completion=completion, answer=answer, cost=cost, checks=checks, verdicts=verdicts
        )

    async def _evaluate(self, item: Work, answer: str, spend: _Spend) -> list[Verdict]:
        sample = item.sample
        data = EvalInput(item.request, sample.baseline, answer, sample.feedback, sample.feedback_comment)
        judge = self.config.judge

        async def call_judge(request: ChatRequest) -> Completion:
            assert judge is not None
            adapter = self.adapters[judge.route]
            worst = (
                0
                if judge.simulated
                else (
                    worst_case(
                        self.book,
                        judge.provider,
                        judge.model,
                        request,
                        reasoning_outside=adapter.reasoning_outside_max,
                    )
                    or 0
                )
            )
            completion = await self._call(
                judge.route, judge.provider, judge.model, request, worst, item.item_id, spend, first=False
            )
            assert completion is not None
            cost, charged = self._charge(judge.provider, judge.model, completion, worst, judge.simulated)
            spend.charged += charged
            spend.eval_cost += cost or 0
            return completion

        try:
            return await self.config.evaluator.evaluate(data, call_judge if judge else None)
        except Fenced:
            raise
        except Exception as exc:
            return [
                Verdict(self.config.evaluator.name, None, f"evaluation failed: {type(exc).__name__}: {exc}")
            ]

    def _result(
        self,
        item: Work,
        spend: _Spend,
        *,
        error: str = "",
        completion: Completion | None = None,
        answer: str = "",
        cost: int | None = None,
        checks: tuple[str, ...] = (),
        verdicts: list[Verdict] | None = None,
    ) -> Result:
        sample = item.sample
        usage = completion.usage if completion is not None else None
        row = {
            "project_id": self.config.project_id,
            "job_id": self.config.job_id,
            "sample_id": sample.event_id,
            "candidate": item.candidate,
            "endpoint": self.config.endpoint,
            "seq": item.seq,
            "stratum": sample.stratum,
            "call_ts": sample.ts,
            "conversation_id": sample.conversation_id,
            "simulated": int(item.simulated),
            "prompt_text": sample.request.prompt_text(),
            "baseline_output": sample.baseline,
            "baseline_cost_nano": item.baseline_cost_nano,
            "baseline_latency_ms": sample.latency_ms,
            "output": answer,
            "ok": int(completion is not None),
            "error": error[:500],
            "failed_checks": list(checks),
            "input_tokens": usage.input_tokens if usage else 0,
            "output_tokens": usage.output_tokens if usage else 0,
            "cost_nano": cost,
            "eval_cost_nano": spend.eval_cost,
            "charged_nano": spend.charged,
            "latency_ms": completion.latency_ms if completion is not None else 0,
            "attempts": min(255, spend.attempts),
            "evaluator": self.config.evaluator.name,
            "quality": verdicts[0].score if verdicts else None,
            "verdicts": json.dumps([v.as_json() for v in verdicts or []], ensure_ascii=False),
        }
        state = ItemState.DONE if completion is not None else ItemState.ERROR
        return Result(item.item_id, state, spend.reserved, spend.charged, error[:300], row)
