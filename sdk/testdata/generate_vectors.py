"""Generate the shared routing test vectors from docs/protocol.md, independently of the SDK.

Run: ``python sdk/testdata/generate_vectors.py`` (writes bucketing_vectors.json and
learned_vectors.json next to this file). The formulas below are the protocol's, written out
literally; both the SDK (tests/sdk/test_sdk_vectors.py) and the server must reproduce them.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import zlib
from pathlib import Path

HERE = Path(__file__).parent


def bucket(salt: str, unit: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{salt}:{unit}".encode()).digest()[:8], "big") % 10000


def bucketing() -> dict[str, object]:
    rng = random.Random(20261122)  # noqa: S311 - deterministic test data
    units = ["conv_1", "conv_2", "user-42", "", "ünïcødé-用户", "a" * 200, "b7c1:colon", "550e8400-e29b-41d4-a716-446655440000"]
    units += [f"u{rng.randrange(10**9)}" for _ in range(24)]
    salts = ["b7c1e0", "", "policy-7:v4", "s"]
    buckets = [{"salt": s, "unit": u, "bucket": bucket(s, u)} for s in salts for u in units]
    rollout = []
    for percent in (0.0, 0.01, 5.0, 10.0, 12.34, 50.0, 99.99, 100.0):
        for u in units[:8]:
            b = bucket("rollout-salt", u)
            rollout.append({"salt": "rollout-salt", "unit": u, "percent": percent, "bucket": b,
                            "in_rollout": b < round(percent * 100)})
    split = []
    weight_sets = [[10000], [5000, 5000], [1000, 2000, 7000], [0, 10000], [9999, 1]]
    for weights in weight_sets:
        for u in units[:10]:
            draw = bucket("split-salt" + ":split", u)
            running, index = 0, len(weights) - 1
            for i, w in enumerate(weights):
                running += w
                if draw < running:
                    index = i
                    break
            split.append({"salt": "split-salt", "unit": u, "weights": weights, "draw": draw, "target_index": index})
    return {
        "spec": "docs/protocol.md#bucketing",
        "bucket": buckets,
        "rollout": rollout,
        "split": split,
    }


def features(model: dict, text: str) -> tuple[list[int], int]:
    t = text.lower() if model["lowercase"] else text
    tokens = re.findall(model["token_pattern"], t)
    found = set()
    for n in model["ngrams"]:
        for i in range(len(tokens) - n + 1):
            gram = " ".join(tokens[i:i + n])
            found.add(zlib.crc32(f"{n}:{gram}".encode()) % model["n_buckets"])
    return sorted(found), len(tokens)


def member_index(model: dict, text: str) -> int:
    """Version 2: the member that scores the text is crc32(UTF-8 text) % len(members)."""
    members = model.get("members")
    return zlib.crc32(text.encode("utf-8")) % len(members) if members else 0


def score(model: dict, text: str) -> float:
    idx, n_tokens = features(model, text)
    member = model["members"][member_index(model, text)] if model.get("members") else model
    total = member["bias"] + math.fsum(member["weights"].get(str(i), 0.0) for i in idx)
    lw = member["length_weights"]
    return total + lw["log_chars"] * math.log(1 + len(text)) + lw["log_words"] * math.log(1 + n_tokens)


PROMPTS = [
    "",
    "Hello",
    "hello HELLO hello",
    "Refund my order #4521, it arrived broken!!",
    "Can you summarise this contract clause for me? Payment is due within 30 days.",
    "Écrivez une réponse polie au client: « merci pour votre patience ».",
    "用户 asked: what is 2+2? answer in JSON",
    "tabs\tand\nnewlines\r\nmixed   spaces",
    "the the the the the the",
    "Write a Python function that parses RFC 3339 timestamps and handles leap seconds correctly, "
    "with tests. " * 6,
    "İstanbul ß straße ΣΊΣΥΦΟΣ",
    "a1 b2 c3 d4 e5 f6 g7 h8 i9 j10",
]

MESSAGES = [
    {
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "First question"},
            {"role": "assistant", "content": "First answer"},
            {"role": "user", "content": [{"type": "text", "text": "Second"}, {"type": "image_url", "image_url": {"url": "x"}}, {"type": "text", "text": "part two"}]},
        ],
        "prompt_text": "First question\nSecond\npart two",
    },
    {"messages": [{"role": "system", "content": "only system"}], "prompt_text": ""},
]


def learned() -> dict[str, object]:
    rng = random.Random(7)  # noqa: S311 - deterministic test data
    models = []
    for spec in (
        {"n_buckets": 1024, "ngrams": [1, 2], "lowercase": True, "token_pattern": "[a-z0-9]+"},
        {"n_buckets": 65536, "ngrams": [1, 2, 3], "lowercase": False, "token_pattern": "[A-Za-z0-9]+"},
        {"n_buckets": 16, "ngrams": [1], "lowercase": True, "token_pattern": "\\w+"},
    ):
        model = {"type": "hashed_linear", "version": 1, **spec, "weights": {}, "bias": -0.3,
                 "length_weights": {"log_chars": 0.05, "log_words": -0.02}, "threshold": 0.0}
        every = sorted({i for p in PROMPTS for i in features(model, p)[0]})
        model["weights"] = {str(i): round(rng.uniform(-1.0, 1.0), 4) for i in every if rng.random() < 0.7}
        models.append(_cases(model))
    # Version 2: cross-fitted members, one threshold; each prompt is scored by one member.
    spec = {"n_buckets": 4096, "ngrams": [1, 2], "lowercase": True, "token_pattern": "[a-z0-9]+"}
    model = {"type": "hashed_linear", "version": 2, **spec, "members": [], "threshold": 0.0}
    every = sorted({i for p in PROMPTS for i in features(model, p)[0]})
    for k in range(3):
        model["members"].append({
            "weights": {str(i): round(rng.uniform(-1.0, 1.0), 4) for i in every if rng.random() < 0.6},
            "bias": round(-0.2 + 0.3 * k, 4),
            "length_weights": {"log_chars": round(0.03 * k, 4), "log_words": -0.01},
        })
    models.append(_cases(model))
    return {"spec": "docs/protocol.md#learned_model-a-linear-router-over-hashed-n-grams",
            "tolerance": 1e-9, "models": models, "prompt_text": MESSAGES}


def _cases(model: dict) -> dict[str, object]:
    scores = sorted(score(model, p) for p in PROMPTS)
    model["threshold"] = round((scores[len(scores) // 2 - 1] + scores[len(scores) // 2]) / 2, 6)
    cases = []
    for p in PROMPTS:
        idx, n_tokens = features(model, p)
        s = score(model, p)
        assert abs(s - model["threshold"]) > 1e-6, "a vector sits on the decision boundary"
        cases.append({"text": p, "n_tokens": n_tokens, "features": idx, "member": member_index(model, p),
                      "score": round(s, 12), "route_to_target": s >= model["threshold"]})
    return {"model": model, "cases": cases}


if __name__ == "__main__":
    for name, doc in (("bucketing_vectors.json", bucketing()), ("learned_vectors.json", learned())):
        (HERE / name).write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print("wrote", HERE / name)
