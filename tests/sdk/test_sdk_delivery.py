"""Telemetry delivery against the local sink over real HTTP: batching, gzip, retries, drops,
flush, sync mode, the spool, fork and exit (STYLE.md habit 10)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import switchyard
from sy_fake_switchyard import INGEST_KEY, Scripted, SwitchyardState

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with threads, on 3.12+


def emit(n: int, *, endpoint: str = "batch", **meta: str) -> None:
    for i in range(n):
        with switchyard.track(provider="custom", model="m1", endpoint=endpoint, metadata={"i": str(i), **meta}) as call:
            call.set_usage(input_tokens=i, output_tokens=1)


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_batches_by_count_are_gzipped(start_sdk: Callable[..., Any], sink: SwitchyardState) -> None:
    start_sdk(max_batch_size=10, flush_interval=30.0)
    emit(25)
    assert switchyard.flush(5.0)
    assert [b["count"] for b in sink.batches] == [10, 10, 5]
    assert {b["encoding"] for b in sink.batches} == {"gzip"}
    assert sink.batches[0]["sdk"]["name"] == "switchyard-python"
    assert len(sink.events) == 25
    assert switchyard.stats().sent == 25


def test_batches_by_bytes(start_sdk: Callable[..., Any], sink: SwitchyardState) -> None:
    start_sdk(max_batch_bytes=2_000, flush_interval=30.0)
    emit(20, pad="x" * 300)
    assert switchyard.flush(5.0)
    assert len(sink.events) == 20
    assert len(sink.batches) >= 4
    assert max(b["raw_bytes"] for b in sink.batches) < 2_000 + 200  # envelope on top of the events


def test_interval_flushes_without_being_asked(start_sdk: Callable[..., Any], sink: SwitchyardState) -> None:
    start_sdk(flush_at=1_000, flush_interval=0.05)
    emit(3)
    assert len(sink.wait_for_events(3, timeout=5.0)) == 3


def test_5xx_is_retried_and_delivered_once(start_sdk: Callable[..., Any], sink: SwitchyardState) -> None:
    sink.script += [Scripted(503, {"Retry-After": "0"}), Scripted(502), Scripted(429, {"Retry-After": "0"})]
    start_sdk()
    emit(4)
    assert switchyard.flush(10.0)
    assert len(sink.events) == 4 and sink.duplicates == 0
    assert switchyard.stats().retries == 3


@pytest.mark.parametrize(("status", "reason"), [(400, "http_400"), (422, "http_422"), (401, "unauthorized")])
def test_client_errors_are_dropped_with_a_reason(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                                 status: int, reason: str, caplog: pytest.LogCaptureFixture) -> None:
    sink.script += [Scripted(status), Scripted(status)]
    start_sdk(max_batch_size=2)
    emit(4)
    assert switchyard.flush(5.0)
    stats = switchyard.stats()
    assert stats.dropped_by_reason == {reason: 4} and stats.retries == 0
    assert sum(f"answered {status}" in r.getMessage() for r in caplog.records) == 1  # logged once


def test_413_splits_the_batch_then_drops_what_cannot_fit(start_sdk: Callable[..., Any], sink: SwitchyardState) -> None:
    sink.max_body_bytes = 1_500
    start_sdk(flush_interval=30.0)
    emit(8)
    emit(1, endpoint="huge", pad="y" * 3_000)
    assert switchyard.flush(5.0)
    assert len(sink.events) == 8
    assert switchyard.stats().dropped_by_reason == {"too_large": 1}


def test_rejected_events_are_counted_and_valid_ones_kept(start_sdk: Callable[..., Any], sink: SwitchyardState) -> None:
    client = start_sdk()
    emit(2)
    client.record({"event_id": "not-a-uuid", "ts": 1, "model": "m"})
    assert switchyard.flush(5.0)
    assert len(sink.events) == 2
    assert switchyard.stats().dropped_by_reason == {"rejected:invalid_field": 1}


def test_a_full_queue_drops_and_counts_without_blocking(start_sdk: Callable[..., Any], sink: SwitchyardState) -> None:
    sink.delay = 1.0
    start_sdk(max_queue_size=5, flush_at=1)
    emit(1)
    assert wait_until(lambda: switchyard.stats().queued == 0)  # the consumer is stuck in a slow send
    emit(50)
    stats = switchyard.stats()
    assert stats.queued == 5
    assert stats.dropped_by_reason["queue_full"] == 45
    assert not switchyard.flush(0.05)  # bounded: gives up instead of waiting for the slow sink


def test_sync_mode_sends_before_returning(start_sdk: Callable[..., Any], sink: SwitchyardState) -> None:
    start_sdk(sync_mode=True)
    emit(2)
    assert len(sink.events) == 2 and len(sink.batches) == 2


def test_unreachable_host_is_logged_once_and_never_raises(start_sdk: Callable[..., Any],
                                                          caplog: pytest.LogCaptureFixture) -> None:
    start_sdk(host="http://127.0.0.1:9", max_retries=1, sdk_key=None)
    emit(3)
    switchyard.flush(3.0)
    emit(3)
    switchyard.flush(3.0)
    assert sum("cannot reach" in r.getMessage() for r in caplog.records) == 1
    assert switchyard.stats().dropped_by_reason == {"retries_exhausted": 6}


def test_spool_keeps_events_while_the_server_is_down(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                                     tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    start_sdk(host="http://127.0.0.1:9", spool_dir=spool, sdk_key=None)
    emit(5)
    assert switchyard.flush(5.0)
    emit(3)
    switchyard.shutdown(timeout=1.0)  # whatever is still queued goes to disk too
    assert sum(int(p.name.split("-n")[1].split(".")[0]) for p in spool.glob("*.batch")) == 8
    assert sink.events == {}

    start_sdk(spool_dir=spool, sdk_key=None)  # the server is back: the spool drains on start
    assert len(sink.wait_for_events(8)) == 8
    assert wait_until(lambda: not list(spool.iterdir()))
    assert sink.duplicates == 0


def test_spool_recovers_within_one_process(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                           tmp_path: Path) -> None:
    sink.script += [Scripted(503, {"Retry-After": "0"})] * 3
    start_sdk(spool_dir=tmp_path / "spool", sdk_key=None, flush_at=1)
    emit(1)
    assert switchyard.flush(5.0)
    assert switchyard.stats().spooled_events == 1
    emit(6)
    assert len(sink.wait_for_events(7, timeout=10.0)) == 7
    assert sink.duplicates == 0
    assert wait_until(lambda: switchyard.stats().spooled_events == 0)


def test_spool_is_bounded(start_sdk: Callable[..., Any], tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    client = start_sdk(host="http://127.0.0.1:9", spool_dir=spool, spool_max_bytes=1_500, sdk_key=None,
                       max_batch_size=1)
    emit(12, pad="z" * 200)
    switchyard.shutdown(timeout=2.0)
    assert sum(p.stat().st_size for p in spool.iterdir()) <= 1_500
    kept = sum(int(p.name.split("-n")[1].split(".")[0]) for p in spool.glob("*.batch"))
    assert 0 < kept < 12
    assert client.stats().dropped_by_reason["spool_full"] == 12 - kept


def test_forked_child_sends_its_own_events_only(start_sdk: Callable[..., Any], sink: SwitchyardState) -> None:
    start_sdk(flush_interval=30.0)
    emit(2, who="parent")
    pid = os.fork()
    if pid == 0:  # the child: a fresh queue and a new consumer thread
        code = 1
        try:
            emit(3, who="child")
            code = 0 if switchyard.flush(5.0) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert switchyard.flush(5.0)
    who = sorted(e["metadata"]["who"] for e in sink.events.values())
    assert who == ["child"] * 3 + ["parent"] * 2
    assert sink.duplicates == 0


def test_exit_flushes_within_a_second(sink: SwitchyardState) -> None:
    script = textwrap.dedent(f"""
        import switchyard
        switchyard.init(api_key={INGEST_KEY!r}, host={sink.url!r}, flush_interval=60.0)
        with switchyard.track(provider="custom", model="exit-model"):
            pass
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30)
    assert [e["model"] for e in sink.events.values()] == ["exit-model"]


def test_works_without_msgspec(sink: SwitchyardState) -> None:
    script = textwrap.dedent(f"""
        import sys
        sys.modules["msgspec"] = None  # an environment without the optional fast path
        import switchyard, switchyard._encode as enc
        assert enc._msgspec_encode is None
        switchyard.init(api_key={INGEST_KEY!r}, host={sink.url!r}, sync_mode=True)
        with switchyard.track(provider="custom", model="no-msgspec", metadata={{"text": "ünïcødé"}}):
            pass
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30)
    (event,) = sink.events.values()
    assert event["model"] == "no-msgspec" and event["metadata"] == {"text": "ünïcødé"}


def test_logging_never_raises_for_a_broken_transport(start_sdk: Callable[..., Any],
                                                     caplog: pytest.LogCaptureFixture) -> None:
    def broken(request: switchyard.Request) -> switchyard.Response:
        raise RuntimeError("boom")

    caplog.set_level(logging.WARNING, logger="switchyard")
    start_sdk(transport=switchyard.MockTransport(broken), sync_mode=True, max_retries=0, sdk_key=None)
    emit(2)
    assert switchyard.stats().dropped_by_reason == {"retries_exhausted": 2}
    assert sum("transport raised" in r.getMessage() for r in caplog.records) == 1
