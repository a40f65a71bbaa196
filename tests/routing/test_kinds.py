"""Which kind of learned router a candidate gets (apps/routing/kinds.py): the project's screening
samples ranked by each kind's out-of-fold scores, the encoder only when it wins by more than a
standard error. Pure: pools stood in for by their rows and scores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apps.routing import kinds
from apps.routing.pool import _Row

KEY = "openai/gpt-4o-mini"


@dataclass
class _Pool:
    """What kinds.compare reads of a pool: its rows of a candidate and their out-of-fold scores."""

    rows_: list[_Row]
    scores: np.ndarray
    comparisons: dict[str, Any] = field(default_factory=dict)
    calls: int = 0

    def keys(self) -> list[str]:
        return [KEY]

    def rows(self, key: str) -> list[_Row]:
        return self.rows_

    def oof(self, key: str) -> np.ndarray:
        self.calls += 1
        return self.scores


def _rows(n: int, seed: int) -> tuple[list[_Row], np.ndarray]:
    """Two endpoints; a third of each screens. Half the prompts lose nothing, half lose everything."""
    rng = np.random.default_rng(seed)
    loses = rng.random(n) < 0.5
    rows = [
        _Row(endpoint=f"e{i % 2}", sample_id=str(i), group=f"e{i % 2}\x1f{i}", prompt=f"p{i}",
             quality=0.0 if loses[i] else 1.0, saving=100.0, reference=1.0, screens=i % 3 == 0)
        for i in range(n)
    ]  # fmt: skip
    return rows, loses


def test_the_encoder_stands_in_only_when_its_ranking_wins_by_more_than_the_noise() -> None:
    rows, loses = _rows(600, seed=1)
    knowing = np.where(loses, -1.0, 1.0) + np.random.default_rng(2).normal(0, 0.1, len(rows))
    blind = np.random.default_rng(3).normal(size=len(rows))
    found = kinds.compare(_Pool(rows, blind), _Pool(rows, knowing))  # type: ignore[arg-type]
    assert found is not None and found.encoder_better and found.shares == len(kinds.BARS) == 15
    assert found.low_nano < found.difference_nano < found.high_nano
    # routing a coin's prompts keeps 95 % only for a few of them; the knowing ranking routes half
    assert found.difference_nano > 30.0
    # the other way round: the linear router stays
    worse = kinds.compare(_Pool(rows, knowing), _Pool(rows, blind))  # type: ignore[arg-type]
    assert worse is not None and not worse.encoder_better and worse.difference_nano < 0
    # the same ranking: no difference, and the lighter router stays
    same = kinds.compare(_Pool(rows, knowing), _Pool(rows, knowing.copy()))  # type: ignore[arg-type]
    assert same is not None and same.difference_nano == 0.0 and not same.encoder_better


def test_every_endpoint_gets_one_answer_from_every_sample() -> None:
    rows, loses = _rows(300, seed=4)
    knowing = np.where(loses, -1.0, 1.0)
    blind = np.random.default_rng(5).normal(size=len(rows))
    encoders = _Pool(rows, knowing)
    first = kinds.compare(_Pool(rows, blind), encoders)  # type: ignore[arg-type]
    assert kinds.compare(_Pool(rows, blind), encoders) is first  # type: ignore[arg-type]
    assert encoders.calls == 1  # kept on the encoder pool: asked once per project
    # every sample counts, screening or confirming: knowing fewer of them wins by less
    confirming = np.asarray([not r.screens for r in rows])
    half = np.where(confirming, np.random.default_rng(6).normal(size=len(rows)), knowing)
    less = kinds.compare(_Pool(rows, blind), _Pool(rows, half))  # type: ignore[arg-type]
    assert first is not None and less is not None and 0 < less.difference_nano < first.difference_nano


def test_reachable_is_the_best_prefix_at_each_bar() -> None:
    quality = np.asarray([1.0, 1.0, 0.0, 0.0])
    reference = np.ones(4)
    saving = np.asarray([10.0, 10.0, 10.0, 10.0])
    # in this order: two lossless prompts first (20 saved, 100 % kept), then each costs 25 % of quality
    found = kinds.reachable(np.ones((1, 4)), quality, reference, saving)
    assert kinds.BARS[0] == 0.85 and kinds.BARS[-1] == 0.99 and len(kinds.BARS) == 15
    assert found.tolist() == [20.0 * 15]  # 20 at each bar from 85 to 99 %: a third prompt keeps 75 %
    doubled = kinds.reachable(np.asarray([[2.0, 2.0, 1.0, 1.0]]), quality, reference, saving)
    assert doubled.tolist() == [40.0 * 15]  # resampled weights count each prompt as often as it is drawn
    # with the first two lossless prompts counted twice, a third keeps 5 / 6 = 83 %: still below 85 %
