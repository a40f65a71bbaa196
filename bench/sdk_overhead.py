"""What the Switchyard SDK adds to an LLM call, measured against the bare client in the same run.

    .venv/bin/python bench/sdk_overhead.py [--rounds 20] [--calls 200]

A separate process serves a fake OpenAI API, a Switchyard sink with a signed routing config, and a
slow sink that answers every ingest request after 2 s (their CPU is not the SDK's). This process
interleaves short rounds of (a) the bare ``openai`` client and (b) the same client wrapped by
Switchyard, with telemetry on and a split policy active, alternating which goes first. It reports
per-call wall time (p50/p99), CPU per call (the app thread's, plus the SDK threads' — consumer and
config poller — spread over the wrapped calls, so serialisation, gzip and sending count), the
routing decision alone (override, split, learned), and whether calls block while the sink is slow.
The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import math
import random
import statistics
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "sdk"))

MODEL = "gpt-4o-mini"
MESSAGES = [
    {"role": "system", "content": "You are a support agent for an online shop. Answer briefly."},
    {"role": "user", "content": "My order #4521 arrived with a cracked screen. Can I get a refund or a replacement?"},
]
TICKETS = [
    "Where is my parcel? It was supposed to arrive on Monday and tracking has not moved for three days.",
    "I was charged twice for the same order, please refund the duplicate payment to my card.",
    "Can you explain the difference between the premium and the business plan, especially for teams "
    "of more than twenty people who need single sign-on and audit logs?",
    "The app crashes every time I open the settings page on Android 14. I already reinstalled it twice "
    "and cleared the cache. " * 4,
    "hi",
]


# -- the server process -----------------------------------------------------------------------------


def serve(role: str) -> None:
    """Run fake peers and print their addresses as one JSON line; exit when stdin closes.

    The fake OpenAI API and the sinks run in two processes, so receiving telemetry never slows the
    provider down (they would share one GIL otherwise).
    """
    from sy_fake_providers import OpenAIHandler, ProviderState
    from sy_fake_switchyard import SwitchyardHandler, SwitchyardState, public_key_b64
    from sy_http import LocalServer

    class QuietProviderState(ProviderState):
        def take(self, path: str, body: dict[str, Any], headers: Any) -> tuple[int | None, str]:
            return None, f"answer from {body.get('model')}"

    if role == "openai":
        servers = [LocalServer(OpenAIHandler, QuietProviderState()).start()]
        info: dict[str, Any] = {"openai": servers[0].url}
    else:
        sink, slow = SwitchyardState(), SwitchyardState(delay=2.0)
        slow.signing_key = sink.signing_key
        for state in (sink, slow):
            state.publish(bench_config())
        servers = [LocalServer(SwitchyardHandler, sink).start(), LocalServer(SwitchyardHandler, slow).start()]
        info = {
            "sink": servers[0].url,
            "slow_sink": servers[1].url,
            "public_keys": {sink.key_id: public_key_b64(sink.signing_key)},
        }
    print(json.dumps(info), flush=True)
    sys.stdin.read()
    for server in servers:
        server.stop()


def learned_model() -> dict[str, Any]:
    rng = random.Random(3)
    words = " ".join(TICKETS).lower().split()
    weights = {str(zlib.crc32(f"1:{w}".encode()) % 65536): round(rng.uniform(-1, 1), 3) for w in words}
    return {
        "type": "hashed_linear", "version": 1, "n_buckets": 65536, "ngrams": [1, 2], "lowercase": True,
        "token_pattern": "[a-z0-9]+", "weights": weights, "bias": 0.1,
        "length_weights": {"log_chars": 0.02, "log_words": -0.05}, "threshold": 0.0,
    }


def bench_config() -> dict[str, Any]:
    baseline = {"provider": "openai", "model": MODEL}
    mini = {"provider": "openai", "model": "gpt-4.1-nano"}

    def policy(endpoint: str, strategy: str, targets: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {"endpoint": endpoint, "policy_version": 1, "baseline": baseline, "strategy": strategy,
                "targets": targets, "fallbacks": [{"provider": "openai", "model": "gpt-4.1-mini"}],
                "rollout": {"percent": 100.0, "salt": f"salt-{endpoint}", "sticky_on": "conversation_id"}, **extra}

    return {
        "schema_version": 1, "config_version": 1, "published_at": "2026-11-22T10:00:00Z", "project": "bench",
        "capture": {"mode": "none"}, "kill_switch": {"models": [], "providers": []},
        "policies": [
            policy("bench", "split", [{**baseline, "weight": 5000}, {**mini, "weight": 5000}]),
            policy("override", "override", [mini]),
            policy("learned", "learned", [mini], learned=learned_model()),
        ],
    }


# -- measuring --------------------------------------------------------------------------------------


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def timed_round(call: Callable[[int], object], n: int, after: Callable[[], object] | None = None) -> tuple[list[float], float]:
    """Per-call wall times (µs) and process CPU per call (µs), ``after`` inside the CPU window."""
    times: list[float] = []
    gc.collect()  # start every round from the same garbage state; collection stays on during it
    cpu0 = time.process_time_ns()
    for i in range(n):
        t0 = time.perf_counter_ns()
        call(i)
        times.append((time.perf_counter_ns() - t0) / 1000)
    if after is not None:
        after()
    return times, (time.process_time_ns() - cpu0) / 1000 / n


def route_decisions(n: int) -> dict[str, list[float]]:
    import switchyard
    from switchyard._integrations._core import user_text
    from switchyard._routing import plan

    client = switchyard.get_client()
    assert client is not None and client.config is not None
    config = client.config
    out: dict[str, list[float]] = {}
    for endpoint in ("override", "bench", "learned"):
        samples: list[float] = []
        for i in range(n):
            messages = [MESSAGES[0], {"role": "user", "content": TICKETS[i % len(TICKETS)]}]
            t0 = time.perf_counter_ns()
            plan(config, endpoint=endpoint, provider="openai", model=MODEL, available=frozenset({"openai"}),
                 event_id="9f1c0a52-6a51-4c1e-9d7e-0b7c0a1d2e3f", conversation_id=f"conv-{i}",
                 prompt=lambda m=messages: user_text(m, frozenset({"text"})))
            samples.append((time.perf_counter_ns() - t0) / 1000)
        out[endpoint] = samples[n // 10:]  # the first tenth warms caches
    return out


def sdk_threads_cpu_ns() -> int:
    """CPU time used so far by the SDK's own threads (consumer, config poller)."""
    total = 0
    for thread in threading.enumerate():
        if thread.name.startswith("switchyard-") and thread.ident is not None:
            total += time.clock_gettime_ns(time.pthread_getcpuclockid(thread.ident))
    return total


def measure(
    arms: dict[str, Callable[[int], object]], rounds: int, calls: int, flush: Callable[[], None]
) -> tuple[dict[str, list[float]], dict[str, list[float]], float]:
    """Short alternating rounds (ABBA), so both arms meet the same machine: per-call wall times,
    the app thread's CPU per call in each round, and the SDK threads' CPU over the run (µs).

    Process CPU = the app thread's CPU + the SDK threads' CPU; measuring them apart lets short
    rounds be used, which keeps this shared machine's drift out of the comparison.
    """
    times: dict[str, list[float]] = {name: [] for name in arms}
    cpu: dict[str, list[float]] = {name: [] for name in arms}
    background = sdk_threads_cpu_ns()
    names = list(arms)
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            call, samples = arms[name], times[name]
            cpu0 = time.thread_time_ns()
            for i in range(calls):
                t0 = time.perf_counter_ns()
                call(r * calls + i)
                samples.append((time.perf_counter_ns() - t0) / 1000)
            cpu[name].append((time.thread_time_ns() - cpu0) / 1000 / calls)
    flush()  # the consumer's work for the measured calls counts
    return times, cpu, (sdk_threads_cpu_ns() - background) / 1000


def caller_path(n: int) -> tuple[float, float]:
    """The wrapper around a provider call that returns at once: what the SDK itself costs the caller."""
    from openai.types.chat import ChatCompletion
    from switchyard._integrations._core import Binding, instrument
    from switchyard._integrations._wrap import _CHAT

    response = ChatCompletion.model_validate({
        "id": "c", "object": "chat.completion", "created": 1, "model": f"{MODEL}-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18,
                  "prompt_tokens_details": {"cached_tokens": 3}, "completion_tokens_details": {"reasoning_tokens": 2}},
    })
    create = instrument(Binding(_CHAT, "openai", lambda **kw: response, False, ("chat", "completions", "create")))
    samples = []
    for i in range(n):
        t0 = time.perf_counter_ns()
        create(model=MODEL, messages=MESSAGES, switchyard={"endpoint": "bench", "conversation_id": f"c{i % 64}"})
        samples.append((time.perf_counter_ns() - t0) / 1000)
        if i % 100 == 99:
            time.sleep(0.02)  # a realistic call rate: let the consumer keep up
    return statistics.median(samples), pct(samples, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--calls", type=int, default=25)
    parser.add_argument("--serve", choices=["openai", "sink"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    import openai
    import switchyard
    from sy_fake_switchyard import INGEST_KEY, SDK_KEY

    servers = [
        subprocess.Popen([sys.executable, __file__, "--serve", role], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
        for role in ("openai", "sink")
    ]
    try:
        peers: dict[str, Any] = {}
        for server in servers:
            assert server.stdout is not None
            peers.update(json.loads(server.stdout.readline()))
        common = {"api_key": INGEST_KEY, "sdk_key": SDK_KEY, "config_public_keys": peers["public_keys"],
                  "config_cache_dir": False}
        switchyard.init(host=peers["sink"], **common)
        assert switchyard.wait_for_config(10.0), "the bench config did not arrive"

        # One client instance for both arms: two instances differ by tens of µs on their own (their
        # connections and caches), which would drown what is measured. (a) calls the method that
        # wrap() replaced, exactly as the bare client would; (b) calls through the wrapper.
        wrapped = switchyard.wrap(openai.OpenAI(base_url=peers["openai"] + "/v1", api_key="sk-bench", max_retries=0))
        bare_create = wrapped.chat.completions.create.__switchyard_original__

        def call_bare(i: int) -> object:
            return bare_create(model=MODEL, messages=MESSAGES)

        def call_wrapped(i: int) -> object:
            return wrapped.chat.completions.create(
                model=MODEL, messages=MESSAGES, switchyard={"endpoint": "bench", "conversation_id": f"c{i % 64}"}
            )

        def flush() -> None:
            assert switchyard.flush(30.0)

        for _ in range(2):  # warm both paths (connections, pydantic, the consumer thread)
            timed_round(call_bare, 150)
            timed_round(call_wrapped, 150, flush)
        times, cpu, background_us = measure({"bare": call_bare, "wrapped": call_wrapped}, args.rounds, args.calls,
                                            flush)
        stats = switchyard.stats()
        assert stats.dropped == 0, stats
        decisions = route_decisions(4_000)
        sdk_path = caller_path(4_000)

        # A sink that answers in 2 s: calls made while a batch is stuck there must not wait for it.
        switchyard.init(host=peers["slow_sink"], flush_at=10, **common)
        assert switchyard.wait_for_config(10.0)
        timed_round(call_wrapped, 10)
        deadline = time.monotonic() + 1.0
        while switchyard.stats().queued and time.monotonic() < deadline:
            time.sleep(0.001)  # until the consumer has taken the batch and is waiting on the sink
        slow_start = time.monotonic()
        slow_times, _ = timed_round(call_wrapped, 300)
        slow_stats = switchyard.stats()
        in_flight = slow_stats.sent == 0 and time.monotonic() - slow_start < 2.0
        blocks = max(slow_times) > 1_000_000  # a blocked call would have waited ~2 s for the sink
        logging.getLogger("switchyard").setLevel(logging.ERROR)  # the stuck batch meets a closed server
        switchyard.shutdown(timeout=0.1)
    finally:
        for server in servers:
            if server.stdin is not None:
                server.stdin.close()
            server.wait(timeout=10)

    n_wrapped = len(times["wrapped"])
    p50 = {k: statistics.median(v) for k, v in times.items()}
    p99 = {k: pct(v, 0.99) for k, v in times.items()}
    main_cpu = {k: statistics.mean(v) for k, v in cpu.items()}
    cpu_call = {"bare": main_cpu["bare"], "wrapped": main_cpu["wrapped"] + background_us / n_wrapped}
    cpu_added = cpu_call["wrapped"] - cpu_call["bare"]
    print(f"{args.rounds} interleaved rounds of {args.calls} calls per arm ({n_wrapped} calls each); CPU = the app")
    print(f"thread's CPU per call + the SDK threads' CPU ({background_us / n_wrapped:.1f} µs per wrapped call)")
    print(f"{'':22}{'p50 µs':>10}{'p99 µs':>10}{'CPU µs/call':>13}")
    for kind in ("bare", "wrapped"):
        print(f"{kind:22}{p50[kind]:>10.1f}{p99[kind]:>10.1f}{cpu_call[kind]:>13.1f}")
    print(f"SDK work on the caller's thread alone (no network): p50 {sdk_path[0]:.1f} µs, p99 {sdk_path[1]:.1f} µs")
    print(f"{'routing decision':22}{'p50 µs':>10}{'p99 µs':>10}")
    for name, samples in decisions.items():
        print(f"  {name:20}{statistics.median(samples):>10.2f}{pct(samples, 0.99):>10.2f}")
    print(f"slow sink (2 s): max call {max(slow_times) / 1000:.1f} ms over {len(slow_times)} calls, "
          f"all made while a batch was in flight: {in_flight}")
    result = {
        "added_p50_us": round(p50["wrapped"] - p50["bare"], 1),
        "added_p99_us": round(p99["wrapped"] - p99["bare"], 1),
        "ratio_p50": round(p50["wrapped"] / p50["bare"], 4),
        "route_decision_p50_us": round(max(statistics.median(decisions[k]) for k in ("override", "bench")), 2),
        "route_decision_p99_us": round(pct(decisions["learned"], 0.99), 2),
        "blocks_on_slow_sink": blocks,
        "cpu_added_us": round(cpu_added, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
