"""``switchyard.track`` for clients Switchyard does not wrap, and attribution scopes."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import switchyard
from conftest import policy, policy_config
from sy_fake_switchyard import SwitchyardState


def collected(sink: SwitchyardState, n: int) -> list[dict[str, Any]]:
    assert switchyard.flush(5.0)
    found = sink.wait_for_events(n)
    assert len(found) == n
    return sorted(found, key=lambda e: (e["ts"], e.get("metadata", {}).get("i", "")))


def test_track_context_manager_records_usage_and_routes(start_sdk: Callable[..., Any], sink: SwitchyardState) -> None:
    baseline = {"provider": "mistral", "model": "mistral-large"}
    sink.publish(policy_config(1, policy("rerank", "override", [{"provider": "mistral", "model": "mistral-small"}],
                                         baseline=baseline)))
    start_sdk()
    assert switchyard.wait_for_config(5.0)
    with switchyard.track(provider="mistral", model="mistral-large", endpoint="rerank", user_id="u9") as call:
        assert call.model == "mistral-small"
        call.set_usage(input_tokens=100, output_tokens=20, cached_input_tokens=10, input_includes_cached=True)
        call.set_response_model("mistral-small-2409")
    (event,) = collected(sink, 1)
    assert event["event_id"] == call.event_id
    assert uuid.UUID(call.event_id).version == 4
    assert (event["model"], event["response_model"], event["user_id"]) == ("mistral-small", "mistral-small-2409", "u9")
    assert (event["input_tokens"], event["output_tokens"], event["cached_input_tokens"]) == (100, 20, 10)
    assert event["routing"] == {"policy_version": 1, "arm": "candidate", "target": "mistral/mistral-small",
                                "reason": "override"}


def test_track_records_exceptions_and_reraises(start_sdk: Callable[..., Any], sink: SwitchyardState) -> None:
    start_sdk()
    with pytest.raises(TimeoutError), switchyard.track(provider="custom", model="m"):
        raise TimeoutError("slow provider")
    with pytest.raises(KeyError), switchyard.track(provider="custom", model="m"):
        raise KeyError("x")
    first, second = collected(sink, 2)
    assert (first["status"], first["error_type"]) == ("timeout", "TimeoutError")
    assert (second["status"], second["error_type"]) == ("error", "KeyError")


def test_track_decorator_sync_and_async(start_sdk: Callable[..., Any], sink: SwitchyardState) -> None:
    start_sdk()

    @switchyard.track(provider="cohere", model="command-r", endpoint="summ",
                      usage=lambda r: {"input_tokens": r["in"], "output_tokens": r["out"]})
    def summarise(text: str) -> dict[str, int]:
        return {"in": len(text), "out": 3}

    @switchyard.track(provider="cohere", model="command-r", endpoint="asumm", usage=lambda r: {"bogus": 1})
    async def asummarise(text: str) -> str:
        await asyncio.sleep(0)
        return text.upper()

    assert summarise("hello") == {"in": 5, "out": 3}
    assert asyncio.run(asummarise("x")) == "X"
    events = {e["endpoint"]: e for e in collected(sink, 2)}
    assert (events["summ"]["input_tokens"], events["summ"]["output_tokens"]) == (5, 3)
    assert "input_tokens" not in events["asumm"] and events["asumm"]["status"] == "ok"


def test_track_without_init_is_a_no_op() -> None:
    switchyard.shutdown()
    with switchyard.track(provider="p", model="m") as call:
        call.set_usage(input_tokens=1)
    assert call.model == "m"
    assert switchyard.stats() == switchyard.Stats()
    assert switchyard.flush(0.1)


def test_scopes_nest_and_stay_in_their_thread(start_sdk: Callable[..., Any], sink: SwitchyardState) -> None:
    start_sdk()
    barrier = threading.Barrier(2)

    def worker(name: str) -> None:
        with switchyard.endpoint(name):
            barrier.wait()
            with switchyard.track(provider="p", model="m", metadata={"i": name}):
                pass

    threads = [threading.Thread(target=worker, args=(f"thread-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with switchyard.attributes(endpoint="outer", conversation_id="c1", tags=["t1"], metadata={"a": "1", "n": 2}):
        with switchyard.attributes(user_id="u1", tags=["t2", "t1"], metadata={"b": "2"}), switchyard.track(
            provider="p", model="m", metadata={"i": "z"}
        ):
            pass
        with switchyard.track(provider="p", model="m", metadata={"i": "zz"}):
            pass
    events = {e["metadata"]["i"]: e for e in collected(sink, 4)}
    assert {events[f"thread-{i}"]["endpoint"] for i in range(2)} == {"thread-0", "thread-1"}
    for name in ("thread-0", "thread-1"):
        assert events[name]["endpoint"] == name
    inner, outer = events["z"], events["zz"]
    assert (inner["endpoint"], inner["conversation_id"], inner["user_id"]) == ("outer", "c1", "u1")
    assert inner["tags"] == ["t1", "t2"]
    assert inner["metadata"] == {"a": "1", "n": "2", "b": "2", "i": "z"}
    assert "user_id" not in outer and outer["tags"] == ["t1"]


def test_attribution_is_clipped_to_the_protocol_limits(start_sdk: Callable[..., Any], sink: SwitchyardState) -> None:
    start_sdk()
    with switchyard.attributes(
        endpoint="e" * 300,
        conversation_id="c" * 1_000,
        tags=[f"tag-{i}" for i in range(100)] + ["x" * 500],
        metadata={f"k{i}": "v" * 5_000 for i in range(100)},
    ), switchyard.track(provider="p", model="m"):
        pass
    (event,) = collected(sink, 1)
    assert len(event["endpoint"]) == 128 and len(event["conversation_id"]) == 256
    assert len(event["tags"]) == 64 and len(event["metadata"]) == 64
    assert max(len(v) for v in event["metadata"].values()) == 2048
    assert sink.rejected == []


def test_scopes_follow_asyncio_tasks_and_to_thread(start_sdk: Callable[..., Any], sink: SwitchyardState) -> None:
    start_sdk()

    def blocking_call(i: str) -> None:
        with switchyard.track(provider="p", model="m", metadata={"i": i}):
            pass

    @switchyard.endpoint("decorated")
    async def task(i: int) -> None:
        await asyncio.sleep(0)
        await asyncio.to_thread(blocking_call, str(i))

    async def main() -> None:
        with switchyard.endpoint("outside"):
            await asyncio.gather(*(task(i) for i in range(3)))
            blocking_call("after")

    asyncio.run(main())
    events = {e["metadata"]["i"]: e["endpoint"] for e in collected(sink, 4)}
    assert events == {"0": "decorated", "1": "decorated", "2": "decorated", "after": "outside"}
