"""Encoder routers (apps/routing/encoder_pool.py) on the exported encoder: the linear pool's rows,
folds and statistics, what ships is what was evaluated, and estimates carry them. Needs the
`encoder` extra (`make test` installs it)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from apps.routing import encoder, learned
from apps.routing.encoder_pool import EncoderPool, EncoderScorer, export
from apps.routing.estimate import estimate
from apps.routing.options import ENCODER, HASHED
from apps.routing.pool import RouterPool
from tests.policies.factories import MINI
from tests.routing.test_pool import _auc, _endpoint

pytestmark = pytest.mark.skipif(not encoder.available(), reason="needs the encoder extra")


def test_each_sample_is_scored_by_a_member_that_never_saw_it_as_shipped() -> None:
    small, big = _endpoint("small", 120, seed=3, offset=1.0), _endpoint("big", 300, seed=4)
    pool, linear = EncoderPool([small, big]), RouterPool([small, big])
    ids = [s.sample_id for s in small.samples]
    fit = pool.cross_fit(MINI, "small", ids)
    other = pool.cross_fit(MINI, "big", [s.sample_id for s in big.samples])
    assert len(fit.members) == learned.FOLDS and all(len(m["weights"]) == encoder.DIM for m in fit.members)
    # the shared weights are the same; each endpoint's own term is folded into its bias
    assert [m["weights"] for m in fit.members] == [m["weights"] for m in other.members]
    assert [m["bias"] for m in fit.members] != [m["bias"] for m in other.members]
    trained = pool._train_heads(MINI)
    assert np.array_equal(trained.folds, linear._train(MINI).folds)  # the very folds of the linear pool
    for i, sample in enumerate(small.samples):
        fold = int(trained.folds[trained.index[("small", sample.sample_id)]])
        shipped = EncoderScorer(export([fit.members[fold]], threshold=0.0, encoder_spec=pool.encoder_spec))
        assert fit.scores[i] == pytest.approx(shipped.score(sample.prompt_text), abs=1e-9)


def test_a_small_endpoint_learns_from_the_project() -> None:
    """60 samples of its own, 600 of another endpoint whose prompts say the same things."""
    alone, pooled = [], []
    for seed in range(3):
        small, big = _endpoint("small", 60, seed=1 + seed), _endpoint("big", 600, seed=20 + seed)
        ids = [s.sample_id for s in small.samples]
        good = np.asarray([s.candidates[MINI].quality == 1.0 for s in small.samples])
        alone.append(_auc(EncoderPool([small]).cross_fit(MINI, "small", ids).scores, good))
        pooled.append(_auc(EncoderPool([small, big]).cross_fit(MINI, "small", ids).scores, good))
    assert np.mean(pooled) > np.mean(alone) and min(pooled) > 0.8


def test_the_estimate_ships_an_encoder_router_the_sdk_accepts_with_its_linear_fallback() -> None:
    from switchyard._config import parse_config
    from switchyard._encoder import EncoderModel

    small, big = _endpoint("small", 240, seed=7), _endpoint("big", 600, seed=8)
    est = estimate(small, pool=RouterPool([small, big]), encoder_pool=EncoderPool([small, big]))
    kinds = {o.router for o in est.options if o.strategy == "learned"}
    assert kinds == {HASHED, ENCODER} and MINI in est.kinds and est.kinds[MINI].shares > 0
    learned_options = [o for o in est.options if o.strategy == "learned"]
    assert all(o.gain_over_random_low_nano is not None for o in learned_options)
    option = next(o for o in learned_options if o.router == ENCODER)
    model = est.router_for(option)
    assert model is not None and model["type"] == "encoder_linear" and len(model["members"]) == learned.FOLDS
    assert model["fallback"]["type"] == "hashed_linear" and model["fallback"]["version"] == 2
    assert model["encoder"]["sha256"] == encoder.ensure().sha256
    policy = {"endpoint": "small", "policy_version": 1, "baseline": {"provider": "openai", "model": "gpt-4o"},
              "strategy": "learned", "targets": [{"provider": "openai", "model": "gpt-4o-mini"}], "learned": model}
    compiled = parse_config(json.dumps({"schema_version": 1, "config_version": 1, "policies": [policy]}).encode())
    assert isinstance(compiled.policies["small"].learned, EncoderModel)
    # the stored estimate keeps everything that ships
    again = type(est).from_json(json.loads(json.dumps(est.as_json())))
    assert again.router_for(again.option(option.key)) == model  # type: ignore[arg-type]
