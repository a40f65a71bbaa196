"""The server's bucketing and learned-router scoring reproduce the SDK's shared test vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.policies.domain import bucketing
from apps.routing import learned

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
            assert learned.member_index(case["text"], len(scorer.members)) == case["member"]
            assert scorer.score(case["text"]) == pytest.approx(case["score"], abs=tolerance)
            assert scorer.routes_to_target(case["text"]) is case["route_to_target"]
            checked += 1
    assert checked >= 20
    assert any(entry["model"]["version"] == 2 for entry in vectors["models"])


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
    groups = [f"g{i // 2}" for i in range(40)]  # pairs of prompts, kept in one fold
    folds = learned.fold_ids(groups)
    assert all(folds[i] == folds[i + 1] for i in range(0, 40, 2))
    fit = learned.cross_fit(feats, labels, folds)
    model = fit.router(threshold=0.0)
    scorer = learned.Scorer(model)
    # each sample's out-of-fold score is its own member's exact protocol score
    for i in range(len(texts)):
        assert fit.scores[i] == scorer.score_features(
            feats.buckets[feats.indptr[i] : feats.indptr[i + 1]].tolist(),
            float(feats.log_chars[i]),
            float(feats.log_words[i]),
            member=int(folds[i]),
        )
    # the shipped router scores a new prompt with member crc32(prompt) % members, as the SDK does
    member = learned.member_index(texts[3], len(fit.members))
    assert scorer.score(texts[3]) == learned.scores(model, feats, [3], member=member)[0]
    # every member learned the difference between the two kinds of prompt
    assert min(fit.scores[1::2]) > max(fit.scores[0::2])
