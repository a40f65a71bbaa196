"""The SDK tokenizes a long prompt's first part only when that gives the whole prompt's tokens
(sdk/src/switchyard/_encoder.py, Runtime.encode): on every prompt of both shared sets, their long
variants and random text built to trip it, its tokens are the tokenizer's on the whole text."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from apps.routing import encoder

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "routing-eval" / "v1"
pytestmark = pytest.mark.skipif(not encoder.available(), reason="needs the encoder extra")


@pytest.fixture(scope="module")
def runtime() -> Any:
    from switchyard._encoder import EncoderSpec, Runtime

    artefact = encoder.ensure()
    m = artefact.manifest
    spec = EncoderSpec(
        name=m["name"], sha256=m["sha256"], files=(), dim=m["dim"], max_tokens=m["max_tokens"],
        pooling=m["pooling"], normalize=m["normalize"],
    )  # fmt: skip
    return Runtime(spec, artefact.folder)


def _texts(name: str, limit: int) -> list[str]:
    """Each item's prompt, and the prompt followed by the app's answer three times (2,000 characters
    at most, as bench/router.py times the SDK)."""
    out = []
    for line in (SHARED / f"{name}.jsonl").read_text().splitlines()[:limit]:
        row = json.loads(line)
        prompt = str(row["messages"][-1]["content"])
        out += [prompt, (prompt + "\n" + (row["baseline"]["output"] or "") * 3)[:2000]]
    return out


def _fuzz(n: int, seed: int = 7) -> list[str]:
    """Long random text of words, CJK, accents (combining marks after a space too), tabs, newlines,
    control characters, no-break spaces and words longer than the first part can hold."""
    rng = random.Random(seed)
    pieces = ["the", "routing", "naïve", "e\u0301", "\u0301x", "中文", "字", "\t", "\n", "\x1c", "\u00a0",
              "\u3000", "…", "🙂", "x" * 40, "supercalifragilistic", "a-b", ".", "", "C++"]  # fmt: skip
    out = []
    for _ in range(n):
        words = [rng.choice(pieces) for _ in range(rng.randint(120, 700))]
        out.append("".join(w + rng.choice([" ", " ", " ", "", "  "]) for w in words))
    return out


def test_a_long_prompts_first_part_gives_the_whole_prompts_tokens(runtime: Any) -> None:
    from switchyard._encoder import PREFIX_CHARS

    whole = runtime.tokenizer
    limit = PREFIX_CHARS * runtime.spec.max_tokens
    # a word over the tokenizer's 100 characters is one [UNK] whole, but pieces when cut: here it
    # straddles the first part's end just where the limit falls
    straddling = "house " * 117 + "a " * 8 + "q" * 150 + " tail" * 50
    texts = [straddling, *_texts("alpaca_eval", 10_000), *_texts("mmlu", 1_500), *_fuzz(400)]
    shortened = 0
    for text in texts:
        mine, theirs = runtime.encode(text), whole.encode(text)
        assert (mine.ids, mine.attention_mask, mine.type_ids) == (
            theirs.ids, theirs.attention_mask, theirs.type_ids,
        ), text[:200]  # fmt: skip
        cut = text.rfind(" ", 0, limit)
        shortened += len(text) > limit and cut > 0 and bool(whole.encode(text[:cut]).overflowing)
    # the first part decided most long texts: the check above covered the shortcut, not only the fallback
    assert shortened >= 800, shortened
