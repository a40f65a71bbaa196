"""Generate the shared `encoder_linear` test vectors (docs/protocol.md, LEARNED_MODEL: an encoder router).

Run from the repository with the server's `encoder` extra installed:
``.venv/bin/python sdk/testdata/generate_encoder_vectors.py`` (writes encoder_vectors.json next to
this file). The embeddings come from the server's exported encoder (apps.routing.encoder, the ONNX
artefact the SDK fetches); the scores, members and decisions are the protocol's formulas written out
literally here. The server (tests/routing/test_encoder_vectors.py) and the SDK, with and without its
`encoder` extra (tests/sdk/test_sdk_encoder.py), must reproduce them.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
MARGIN = 0.1  # every case's score keeps at least this far from the threshold

PROMPTS = [
    "What is 17 times 23?",
    "Write a sonnet about the sea at night.",
    "Translate 'good morning' into French, German and Japanese.",
    "Summarise the causes of the First World War in three sentences.",
    "def add(a, b):\n    return a + b\n\nWhat does this Python function do?",
    "ünïcødé: 日本語のテキストを要約してください。",
    "",
    "Explain quantum entanglement to a ten-year-old. " * 40,  # longer than max_tokens: truncated
    "A customer asks for a refund on order #1234 because the parcel arrived damaged.",
    "List five prime numbers greater than 100.",
]


def hashed_score(model: dict[str, object], text: str) -> float:
    import re

    tokens = re.findall(str(model["token_pattern"]), text.lower())
    found: set[int] = set()
    for n in model["ngrams"]:  # type: ignore[attr-defined]
        for i in range(len(tokens) - n + 1):
            found.add(zlib.crc32(f"{n}:{' '.join(tokens[i : i + n])}".encode()) % int(model["n_buckets"]))  # type: ignore[call-overload]
    members = model["members"]
    member = members[zlib.crc32(text.encode()) % len(members)]  # type: ignore[arg-type, index]
    weights = member["weights"]
    total = member["bias"] + math.fsum(weights.get(str(i), 0.0) for i in found)
    lengths = member["length_weights"]
    return total + lengths["log_chars"] * math.log1p(len(text)) + lengths["log_words"] * math.log1p(len(tokens))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from apps.routing import encoder

    artefact = encoder.ensure()
    runtime = encoder.Runtime(artefact, threads=1)
    vectors = encoder.embed(PROMPTS, artefact)
    rng = random.Random(20261206)  # noqa: S311 - deterministic test data
    dim = int(artefact.manifest["dim"])
    members = [
        {"weights": [round(rng.gauss(0.0, 1.0), 6) for _ in range(dim)], "bias": round(rng.uniform(-0.2, 0.2), 6)}
        for _ in range(3)
    ]
    for member, blend in zip(members, (0.75, 1.25), strict=False):  # the third blends nothing (version 1's score)
        member["linear_weight"] = blend
    fallback = {
        "type": "hashed_linear", "version": 2, "n_buckets": 65536, "ngrams": [1, 2], "lowercase": True,
        "token_pattern": "[a-z0-9]+",
        "members": [
            {"weights": {str(zlib.crc32(b"1:write") % 65536): 1.5, str(zlib.crc32(b"1:refund") % 65536): 2.0},
             "bias": -1.0, "length_weights": {"log_chars": 0.05, "log_words": -0.02}},
            {"weights": {str(zlib.crc32(b"1:prime") % 65536): 2.5}, "bias": -0.6,
             "length_weights": {"log_chars": 0.0, "log_words": 0.0}},
        ],
        "threshold": 0.0,
    }  # fmt: skip
    scores = []
    for text, vector in zip(PROMPTS, vectors, strict=True):
        member = members[zlib.crc32(text.encode("utf-8")) % len(members)]
        own = member["bias"] + math.fsum(w * float(v) for w, v in zip(member["weights"], vector, strict=True))
        scores.append(own + float(member.get("linear_weight", 0.0)) * hashed_score(fallback, text))  # version 2
    threshold = _clear_threshold(scores)
    cases = []
    for text, vector, score in zip(PROMPTS, vectors, scores, strict=True):
        fallback_score = hashed_score(fallback, text)
        assert abs(fallback_score) >= MARGIN, (text, fallback_score)
        cases.append(
            {
                "text": text,
                "token_ids": runtime.tokenizer.encode(text).ids,
                "embedding": [round(float(v), 7) for v in vector],
                "member": zlib.crc32(text.encode("utf-8")) % len(members),
                "score": round(score, 6),
                "route_to_target": score >= threshold,
                "without_encoder": {"route_to_target": fallback_score >= 0.0, "reason": "learned:encoder_unavailable"},
                "without_encoder_or_fallback": {"route_to_target": False, "reason": "learned:encoder_unavailable"},
            }
        )
    model = {
        "type": "encoder_linear",
        "version": 2,
        "encoder": artefact.spec(),
        "members": members,
        "threshold": round(threshold, 6),
        "fallback": fallback,
    }
    doc = {
        "spec": "docs/protocol.md, LEARNED_MODEL: an encoder router (encoder_linear, version 2)",
        "embedding_tolerance": 1e-4,
        "score_tolerance": 1e-3,
        "model": model,
        "cases": cases,
    }
    (HERE / "encoder_vectors.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(cases)} cases, encoder {artefact.sha256}")


def _clear_threshold(scores: list[float]) -> float:
    """A threshold near the median with every score at least MARGIN away from it."""
    ranked = sorted(scores)
    gaps = [(ranked[i + 1] - ranked[i], i) for i in range(len(ranked) - 1)]
    middle = len(ranked) / 2
    width, i = max(gaps, key=lambda g: (g[0] >= 2 * MARGIN, -abs(g[1] + 0.5 - middle), g[0]))
    assert width >= 2 * MARGIN, ranked
    return (ranked[i] + ranked[i + 1]) / 2


if __name__ == "__main__":
    main()
