"""Encoder routers (apps/routing/encoder_pool.py) on the exported encoder: the linear pool's rows,
folds and statistics, what ships is what was evaluated, and estimates carry them. Needs the
`encoder` extra (`make test` installs it)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from apps.routing import encoder, learned
from apps.routing.encoder_pool import EncoderPool, EncoderScorer, _cv_heads, export, fit_head, ridge_path
from apps.routing.estimate import estimate
from apps.routing.options import ENCODER, HASHED
from apps.routing.pool import RouterPool
from tests.policies.factories import HAIKU, MINI
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


def test_a_blended_router_adds_the_centred_linear_score_at_the_ratio_of_spreads_as_shipped() -> None:
    small, big = _endpoint("small", 120, seed=5, offset=1.0), _endpoint("big", 300, seed=6)
    linear = RouterPool([small, big])
    alone = EncoderPool([small, big])
    pool = alone.with_linear(linear)
    weight = pool.linear_weight(MINI)
    endpoints = np.asarray([r.endpoint for r in pool.rows(MINI)])

    centred = {
        name: np.concatenate([s[endpoints == e] - s[endpoints == e].mean() for e in ("small", "big")])
        for name, s in (("encoder", alone.oof(MINI)), ("linear", linear.oof(MINI)))
    }
    want = np.sqrt((centred["encoder"] ** 2).mean()) / np.sqrt((centred["linear"] ** 2).mean())
    assert weight == pytest.approx(want, abs=1e-6) and weight > 0
    words_oof = linear.oof(MINI)
    centre = {e: float(words_oof[endpoints == e].mean()) for e in ("small", "big")}
    blended = pool.oof(MINI)
    assert np.allclose(blended, alone.oof(MINI) + weight * (words_oof - [centre[e] for e in endpoints]))
    for e in ("small", "big"):  # the blend sits at the encoder's level, whatever λ is
        assert blended[endpoints == e].mean() == pytest.approx(alone.oof(MINI)[endpoints == e].mean())
    assert alone.linear_weight(MINI) == 0.0  # no linear pool: nothing blended

    ids = [s.sample_id for s in small.samples]
    fit, own = pool.cross_fit(MINI, "small", ids), alone.cross_fit(MINI, "small", ids)
    words = linear.cross_fit(MINI, "small", ids)
    assert np.allclose(fit.scores, own.scores + weight * (words.scores - centre["small"]), atol=1e-6)
    assert all(m["linear_weight"] == weight for m in fit.members)
    with pytest.raises(ValueError, match="needs its linear router"):
        export(fit.members, threshold=0.0, encoder_spec=pool.encoder_spec)
    # shipped: each sample's own fold members (encoder and linear) give its out-of-fold score
    trained, folds = pool._train_heads(MINI), linear._train(MINI).folds
    for i, sample in enumerate(small.samples[:40]):
        k = int(trained.folds[trained.index[("small", sample.sample_id)]])
        j = int(folds[linear._train(MINI).index[("small", sample.sample_id)]])
        fallback = learned.export_members([words.members[j]], threshold=0.0)
        model = export([fit.members[k]], threshold=0.0, encoder_spec=pool.encoder_spec, fallback=fallback)
        shipped = EncoderScorer(model)
        assert fit.scores[i] == pytest.approx(shipped.score(sample.prompt_text), abs=1e-6)


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
    linear = RouterPool([small, big])
    est = estimate(small, pool=linear, encoder_pool=EncoderPool([small, big], linear=linear))  # as it ships
    kinds = {o.router for o in est.options if o.strategy == "learned"}
    assert kinds == {HASHED, ENCODER} and MINI in est.kinds and est.kinds[MINI].shares > 0
    learned_options = [o for o in est.options if o.strategy == "learned"]
    assert all(o.gain_over_random_low_nano is not None for o in learned_options)
    option = next(o for o in learned_options if o.router == ENCODER)
    model = est.router_for(option)
    assert model is not None and model["type"] == "encoder_linear" and len(model["members"]) == learned.FOLDS
    assert model["fallback"]["type"] == "hashed_linear" and model["fallback"]["version"] == 2
    assert model["version"] == 2 and all(m["linear_weight"] > 0 for m in model["members"])  # blended
    assert model["encoder"]["sha256"] == encoder.ensure().sha256
    policy = {"endpoint": "small", "policy_version": 1, "baseline": {"provider": "openai", "model": "gpt-4o"},
              "strategy": "learned", "targets": [{"provider": "openai", "model": "gpt-4o-mini"}], "learned": model}
    compiled = parse_config(json.dumps({"schema_version": 1, "config_version": 1, "policies": [policy]}).encode())
    assert isinstance(compiled.policies["small"].learned, EncoderModel)
    # the stored estimate keeps everything that ships
    again = type(est).from_json(json.loads(json.dumps(est.as_json())))
    assert again.router_for(again.option(option.key)) == model  # type: ignore[arg-type]


def test_each_head_takes_the_penalty_its_out_of_fold_error_is_least_at() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 20))
    folds, screens = np.arange(400) % learned.FOLDS, np.arange(400) % 3 == 0
    penalties = (0.001, 1.0, 1000.0)
    for l2 in penalties:  # one eigendecomposition gives every penalty's ridge fit
        a, b = ridge_path(x, x[:, 0], penalties)[penalties.index(l2)], fit_head(x, x[:, 0], l2=l2)
        assert np.allclose(a.weights, b.weights) and a.bias == pytest.approx(b.bias)

    def picked(y: np.ndarray) -> float:
        head = _cv_heads(x, y, folds, screens, penalties)[0]
        path = ridge_path(x[folds != 0], y[folds != 0], penalties)
        assert head is not None
        return next(l2 for l2, h in zip(penalties, path, strict=True) if np.array_equal(h.weights, head.weights))

    assert picked(x @ rng.normal(size=20)) == 0.001  # a clean signal: hardly any shrinkage
    assert picked(rng.normal(size=400)) == 1000.0  # noise: shrink to the mean


def test_the_loss_head_learns_from_every_candidate_over_folds_alike_for_all() -> None:
    """Two candidates, one replayed on only some samples: a conversation sits in one fold for both,
    so no member's loss head saw the samples it scores for either candidate."""
    small = _endpoint("small", 160, seed=11)
    samples = [
        type(s)(**{**s.__dict__, "candidates": {**s.candidates, **({HAIKU: s.candidates[MINI]} if i % 4 else {})}})
        for i, s in enumerate(small.samples)
    ]
    both = type(small)(**{**small.__dict__, "samples": samples})
    pool = EncoderPool([both])
    mini, haiku = pool.rows(MINI), pool.rows(HAIKU)
    assert len(haiku) < len(mini)
    fold_of = dict(zip([r.group for r in mini], pool._folds(mini).tolist(), strict=True))
    assert all(fold_of[r.group] == f for r, f in zip(haiku, pool._folds(haiku).tolist(), strict=True))
    for key, rows in ((MINI, mini), (HAIKU, haiku)):
        fit = pool.cross_fit(key, "small", [r.sample_id for r in rows])
        assert np.allclose(fit.scores, pool.oof(key), atol=1e-5)  # the shipped members, rounded
    assert pool._loss_heads().keys == [HAIKU, MINI]


def test_a_replay_blends_the_label_router_into_the_encoder_and_ships_plug_in_heads_alone() -> None:
    """apps.replay.engine.summary builds the project's pools: the linear router that ships alone has
    plug-in heads; the encoder router blends in (and falls back to) the label router, BLEND_HEADS."""
    from apps.replay.engine.summary import _encoders
    from apps.routing.encoder_pool import BLEND_HEADS

    small, big = _endpoint("small", 120, seed=3, offset=1.0), _endpoint("big", 300, seed=4)
    linear = RouterPool([small, big])
    pool = _encoders([small, big], linear)
    assert pool is not None and pool.linear is not None and pool.linear is not linear
    assert linear.heads == "plug_in" and pool.linear.heads == BLEND_HEADS == "label"
    ids = [s.sample_id for s in small.samples]
    blended = pool.linear.cross_fit(MINI, "small", ids).members
    assert blended == RouterPool([small, big], heads="label").cross_fit(MINI, "small", ids).members
    assert blended != linear.cross_fit(MINI, "small", ids).members
