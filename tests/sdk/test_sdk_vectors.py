"""The shared routing vectors in sdk/testdata (generated from docs/protocol.md) against the SDK."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from switchyard._config import CompiledConfig, parse_config
from switchyard._integrations._core import user_text
from switchyard._routing import Plan, bucket, plan

TESTDATA = Path(__file__).resolve().parents[2] / "sdk" / "testdata"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TESTDATA / name).read_text(encoding="utf-8"))
    return data


def test_bucket_matches_every_vector() -> None:
    vectors = load("bucketing_vectors.json")["bucket"]
    assert len(vectors) >= 100
    for v in vectors:
        assert bucket(v["salt"], v["unit"]) == v["bucket"], v


def _split_config(weights: list[int], percent: float = 100.0) -> bytes:
    targets = [{"provider": "openai", "model": f"m{i}", "weight": w} for i, w in enumerate(weights)]
    doc = {
        "schema_version": 1,
        "config_version": 1,
        "policies": [
            {
                "endpoint": "e",
                "policy_version": 1,
                "baseline": {"provider": "openai", "model": "base"},
                "strategy": "split",
                "targets": targets,
                "rollout": {"percent": percent, "salt": "split-salt", "sticky_on": "conversation_id"},
            }
        ],
    }
    return json.dumps(doc).encode()


def decide(config: CompiledConfig, **kwargs: Any) -> Plan:
    decided = plan(config, endpoint="e", provider="openai", model="base", available={"openai"}, **kwargs)
    assert decided is not None
    return decided


def test_split_target_matches_every_vector() -> None:
    for v in load("bucketing_vectors.json")["split"]:
        decided = decide(parse_config(_split_config(v["weights"])), event_id="unused",
                         conversation_id=v["unit"] or None)
        if not v["unit"]:
            continue  # an empty unit means "missing": the event id is used instead
        assert bucket(v["salt"] + ":split", v["unit"]) == v["draw"]
        assert decided.attempts[0].model == f"m{v['target_index']}", v


def test_rollout_membership_matches_every_vector() -> None:
    for v in load("bucketing_vectors.json")["rollout"]:
        config = parse_config(_split_config([0, 10000], v["percent"]).replace(b"split-salt", b"rollout-salt"))
        decided = decide(config, event_id=v["unit"], conversation_id=v["unit"] or None)
        in_rollout = decided.attempts[0].reason != "rollout"
        assert in_rollout == v["in_rollout"], v


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_learned_scores_match_every_vector(index: int) -> None:
    data = load("learned_vectors.json")
    entry = data["models"][index]
    policy = {
        "endpoint": "e",
        "policy_version": 1,
        "baseline": {"provider": "openai", "model": "base"},
        "strategy": "learned",
        "targets": [{"provider": "openai", "model": "cheap"}],
        "learned": entry["model"],
    }
    config = parse_config(json.dumps({"schema_version": 1, "config_version": 1, "policies": [policy]}).encode())
    model = config.policies["e"].learned
    assert model is not None
    for case in entry["cases"]:
        found, n_tokens = model.features(case["text"])
        assert sorted(found) == case["features"], case["text"]
        assert n_tokens == case["n_tokens"]
        assert model.member_for(case["text"]) is model.members[case["member"]]
        assert abs(model.score(case["text"]) - case["score"]) <= data["tolerance"]
        assert model.routes_to_target(case["text"]) is case["route_to_target"]
        decided = decide(config, event_id="x", prompt=lambda text=case["text"]: text)
        assert (decided.attempts[0].arm == "candidate") is case["route_to_target"]


def test_prompt_text_of_messages_matches_vectors() -> None:
    for case in load("learned_vectors.json")["prompt_text"]:
        assert user_text(case["messages"], frozenset({"text"})) == case["prompt_text"]
