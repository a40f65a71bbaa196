"""The server's bucketing and learned-router scoring reproduce the SDK's shared test vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.policies import bucketing, learned

TESTDATA = Path(__file__).resolve().parents[2] / "sdk" / "testdata"


def _load(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((TESTDATA / name).read_text())


def test_buckets_rollout_and_split_match_the_vectors() -> None:
    vectors = _load("bucketing_vectors.json")
    assert len(vectors["bucket"]) > 100
    for case in vectors["bucket"]:
        assert bucketing.bucket(case["salt"], case["unit"]) == case["bucket"], case
    for case in vectors["rollout"]:
        assert bucketing.in_rollout(case["salt"], case["unit"], case["percent"]) == case["in_rollout"], case
    for case in vectors["split"]:
        assert bucketing.split_index(case["salt"], case["unit"], case["weights"]) == case["target_index"], (
            case
        )


def test_learned_features_and_scores_match_the_vectors() -> None:
    vectors = _load("learned_vectors.json")
    tolerance = vectors["tolerance"]
    checked = 0
    for entry in vectors["models"]:
        scorer = learned.Scorer(entry["model"])
        for case in entry["cases"]:
            features, n_tokens = learned.features(case["text"], scorer.spec)
            assert (features, n_tokens) == (case["features"], case["n_tokens"]), case["text"]
            assert scorer.score(case["text"]) == pytest.approx(case["score"], abs=tolerance)
            assert scorer.routes_to_target(case["text"]) is case["route_to_target"]
            checked += 1
    assert checked >= 20


def test_prompt_text_matches_the_vectors() -> None:
    for case in _load("learned_vectors.json")["prompt_text"]:
        assert learned.prompt_text(case["messages"]) == case["prompt_text"]


def test_featurized_scores_equal_text_scores_for_a_trained_model() -> None:
    texts = [
        f"please refund order {i} it arrived broken" if i % 2 else f"what is {i} plus {i}" for i in range(40)
    ]
    feats = learned.featurize(texts)
    labels = learned.router_labels(
        quality=[0.9 if i % 2 else 0.1 for i in range(40)], savings=[1000.0 + i for i in range(40)]
    )
    model = learned.train_router(feats, labels, threshold=0.0)
    scorer = learned.Scorer(model)
    rows = list(range(40))
    assert list(learned.scores(model, feats, rows)) == [scorer.score(t) for t in texts]
    # the router learned the difference between the two kinds of prompt
    assert min(scorer.score(t) for t in texts[1::2]) > max(scorer.score(t) for t in texts[0::2])
