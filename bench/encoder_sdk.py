"""The encoder router inside an app's process: decision p99 and added memory (run by bench/router.py).

A fresh process imports the SDK, compiles a config whose policy is an `encoder_linear` router, has
the SDK's own loader fetch the server's exported encoder (served here from its folder through the
SDK's MockTransport, hashes checked as always), and times `plan()` — the whole routing decision,
embedding included — on 2,000-character real prompts (AlpacaEval instructions followed by the
baseline's answers), one thread, as an app's request would. Memory is the process's resident set
after the encoder has decided, minus what it was with the SDK imported (numpy, onnxruntime and
tokenizers included: an app may not have any of them). Prints one JSON line.

    .venv/bin/python bench/encoder_sdk.py --artefact var/encoder/<sha256> [--n 1000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "routing-eval" / "v1"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artefact", required=True, type=Path)
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "sdk" / "src"))
    from switchyard._config import parse_config
    from switchyard._encoder import EncoderLoader
    from switchyard._routing import plan
    from switchyard._transport import MockTransport, Request, Response

    rows = [json.loads(line) for line in (SHARED / "alpaca_eval.jsonl").read_text().splitlines()[:200]]
    prompts = [(r["messages"][-1]["content"] + "\n" + (r["baseline"]["output"] or "") * 3)[:2000] for r in rows]
    before = rss_mb()
    manifest = json.loads((args.artefact / "encoder.json").read_text())
    sha = manifest["sha256"]
    files = {
        name: {"url": f"/v1/encoders/{sha}/{name}", "sha256": f["sha256"], "bytes": f["bytes"]}
        for name, f in manifest["files"].items()
    }
    rng = random.Random(7)
    # the blended version 2 the server ships: each decision scores the linear fallback too (five
    # members of 768 hashed weights, as the server keeps at most)
    fallback = {
        "type": "hashed_linear", "version": 2, "n_buckets": 65536, "ngrams": [1, 2], "lowercase": True,
        "token_pattern": "[a-z0-9]+", "threshold": 0.0,
        "members": [{"weights": {str(rng.randrange(65536)): rng.gauss(0, 1) for _ in range(768)}, "bias": 0.0,
                     "length_weights": {"log_chars": 0.01, "log_words": 0.01}} for _ in range(5)],
    }
    model: dict[str, Any] = {
        "type": "encoder_linear", "version": 2,
        "encoder": {"name": manifest["name"], "sha256": sha, "files": files, "dim": manifest["dim"],
                    "max_tokens": manifest["max_tokens"], "pooling": manifest["pooling"],
                    "normalize": manifest["normalize"]},
        "members": [{"weights": [rng.gauss(0, 1) for _ in range(manifest["dim"])], "bias": 0.0,
                     "linear_weight": 0.8} for _ in range(5)],
        "threshold": 0.0, "fallback": fallback,
    }  # fmt: skip
    policy = {
        "endpoint": "chat", "policy_version": 1, "baseline": {"provider": "openai", "model": "gpt-4o"},
        "strategy": "learned", "targets": [{"provider": "openai", "model": "gpt-4o-mini"}], "learned": model,
    }  # fmt: skip
    config = parse_config(json.dumps({"schema_version": 1, "config_version": 1, "policies": [policy]}).encode())

    def serve(request: Request) -> Response:
        return Response(200, {}, (args.artefact / request.url.rsplit("/", 1)[1]).read_bytes())

    with tempfile.TemporaryDirectory() as cache:
        loader = EncoderLoader(host="http://switchyard.local", sdk_key="sy_sdk_bench", transport=MockTransport(serve),
                               cache_dir=Path(cache))  # fmt: skip
        learned = config.policies["chat"].learned
        loader.ensure([learned], wait=True)
        assert learned is not None and getattr(learned, "ready", False), loader.last_error
        reasons: set[str] = set()

        def decide(text: str) -> None:
            found = plan(config, endpoint="chat", provider="openai", model="gpt-4o", available={"openai"},
                         event_id="e", prompt=lambda: text)  # fmt: skip
            assert found is not None
            reasons.add(found.attempts[0].reason)

        for text in prompts[:50]:
            decide(text)
        samples = []
        for i in range(args.n):
            text = prompts[i % len(prompts)]
            started = time.perf_counter_ns()
            decide(text)
            samples.append((time.perf_counter_ns() - started) / 1e6)
        samples.sort()
        assert reasons <= {"learned", "learned:below_threshold"}, reasons
        after = rss_mb()
    print(
        json.dumps(
            {
                "encoder_decision_p50_ms": round(samples[len(samples) // 2], 2),
                "encoder_decision_p99_ms": round(samples[int(0.99 * (len(samples) - 1))], 2),
                "encoder_rss_mb": round(after - before, 1),
                "decisions": args.n,
                "artefact_bytes": sum(f["bytes"] for f in manifest["files"].values()),
            }
        )
    )


if __name__ == "__main__":
    main()
