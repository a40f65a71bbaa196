"""How much does server-side redaction cost per captured payload? Microseconds on one core.

The workload is what the ingest path redacts: real-shaped provider responses (OpenAI Chat
Completions and Responses, Anthropic Messages, Gemini generateContent, each with its created
timestamp, long ids and usage block) and the requests the SDK captures (short and long prompts,
some carrying an e-mail address, a phone number, a card number or an API key), as the compact
JSON bytes the SDK sends.

The baseline is decoding the same bytes with msgspec (what ingest already pays to read an
event): the ratio says what redaction adds on top of reading the payload once.

    .venv/bin/python bench/redaction.py [--rounds 2000]

The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from apps.ingest.redaction import redact_bytes  # noqa: E402
from tests.fakes.provider_bodies import BODIES  # noqa: E402

PROSE = (
    "Our warehouse in Leeds shipped the order on Tuesday, but the courier marked it as undeliverable "
    "because the flat number was missing from the label. Could you explain what happens next and how "
    "long a re-delivery usually takes? I would also like to know whether I can collect it myself. "
)


def _request(content: str) -> bytes:
    return msgspec.json.encode(
        {
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "You are a helpful support agent for an online shop."},
                {"role": "user", "content": content},
            ],
            "temperature": 0.2,
            "max_tokens": 512,
        }
    )


def workload() -> dict[str, bytes]:
    answer = "Re-delivery usually takes two working days; you can also collect it from the depot."
    out = {
        f"response:{name}": msgspec.json.encode(build("gpt-4o", answer, 412, 96))
        for name, build in BODIES.items()
    }
    out["request:short"] = _request("Where is my order?")
    out["request:long_clean"] = _request(PROSE * 30)
    out["request:email_phone"] = _request(PROSE + "Reach me at jane.doe@example.com or +44 20 7946 0958.")
    out["request:card"] = _request("Please refund the charge on card 4111 1111 1111 1111, order 12345.")
    out["request:secret"] = _request("My key sk-proj-abcdefghijklmnopqrstuvwxyz0123 leaked, rotate it?")
    return out


def per_call_us(fn: Callable[[bytes], object], data: bytes, rounds: int) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(rounds):
            fn(data)
        best = min(best, (time.perf_counter() - start) / rounds)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    decode = msgspec.json.decode
    rows = {}
    for name, data in workload().items():
        redact_us = per_call_us(redact_bytes, data, args.rounds)
        base_us = per_call_us(decode, data, args.rounds)
        kinds = sorted(redact_bytes(data)[1])
        rows[name] = {
            "bytes": len(data),
            "redact_us": round(redact_us, 2),
            "decode_us": round(base_us, 2),
            "kinds": kinds,
        }
        print(f"{name:<28} {len(data):>6} B  redact {redact_us:8.2f} µs  decode {base_us:6.2f} µs  {kinds}")
    total_redact = sum(r["redact_us"] for r in rows.values())
    total_decode = sum(r["decode_us"] for r in rows.values())
    print(
        json.dumps(
            {
                "bench": "redaction",
                "python": platform.python_version(),
                "payloads": len(rows),
                "redact_us_total": round(total_redact, 2),
                "decode_us_total": round(total_decode, 2),
                "ratio_to_decode": round(total_redact / total_decode, 2),
                "rows": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
