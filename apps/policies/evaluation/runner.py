"""`evaluate_routing` end to end: read, price, split, estimate, apply, summarise.

Splits are independent, so they are spread over worker processes (`jobs`); each worker runs every
endpoint of the splits it is given (learned routers pool the endpoints of one split; with
`Settings.encoder`, encoder routers too, and the recommender ships one where it beats the linear
router). Workers are forked, so the items are read once; the encoder is exported before they fork
and its embeddings are cached on disk, so each prompt is embedded once.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apps.policies.evaluation import dataset, report
from apps.policies.evaluation.grading import Agreement, Grader, Ungradable, make_grader
from apps.policies.evaluation.harness import Costed, Half, Run, cost_items, prepare_split, run_split
from apps.routing.encoder_pool import EncoderPool
from apps.routing.pool import RouterPool

DEFAULT_SPLITS = 20


@dataclass(frozen=True)
class Settings:
    splits: int = DEFAULT_SPLITS
    seed: int = 0
    bar: float = 0.95
    evaluator: str = "labels"
    encoder: bool = False  # train encoder routers too (needs the encoder extra) and ship them where they win


@dataclass
class _SplitResult:
    runs: list[Run] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


_WORK: dict[str, list[Costed]] = {}
_GRADERS: dict[str, Grader] = {}  # per endpoint, kept across the splits a worker runs (verdict caches)


def _split(split: int, settings: Settings) -> _SplitResult:
    """Every endpoint's side of one split, with learned routers pooled over their training halves."""
    out = _SplitResult()
    halves: list[Half] = []
    for name in sorted(_WORK):
        grader = _GRADERS.setdefault(name, make_grader(settings.evaluator))
        try:
            halves.append(
                prepare_split(_WORK[name], endpoint=name, split=split, seed=settings.seed, grader=grader)
            )
        except Ungradable as exc:
            out.skipped[name] = str(exc)
    everyone = [h.evidence for h in halves]
    pool = RouterPool(everyone)
    encoders = EncoderPool.blended(everyone) if settings.encoder else None
    out.runs = [
        run_split(h, split=split, seed=settings.seed, bar=settings.bar, pool=pool, encoder_pool=encoders)
        for h in halves
    ]
    return out


def pricer_for(path: Path, prices: Path | None) -> tuple[dataset.Pricer, str]:
    """The --prices file; else a prices.json beside the data file; else the catalogue."""
    if prices is None and (path.parent / "prices.json").is_file():
        prices = path.parent / "prices.json"
    if prices is not None:
        return dataset.file_pricer(dataset.read_litellm_prices(prices)), str(prices)
    return dataset.catalogue_pricer(), "the price catalogue"


def evaluate(
    path: Path,
    *,
    settings: Settings,
    prices: Path | None = None,
    only: list[str] | None = None,
    jobs: int = 1,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    items = dataset.read_items(path)
    price, source = pricer_for(path, prices)
    costed, unpriced = cost_items(items, price)
    skipped = {f"model {m}": why for m, why in unpriced.items()}
    _WORK.clear()
    for name, endpoint_items in dataset.by_endpoint([c.item for c in costed]):
        if only and name not in only:
            continue
        ids = {i.id for i in endpoint_items}
        _WORK[name] = [c for c in costed if c.item.id in ids]
    _GRADERS.clear()
    if settings.encoder:
        from apps.routing import encoder

        encoder.embed(
            sorted({c.item.prompt for work in _WORK.values() for c in work})
        )  # once, before forking
    results: list[_SplitResult] = []
    if jobs > 1 and settings.splits > 1:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as workers:
            futures = [workers.submit(_split, split, settings) for split in range(settings.splits)]
            for split, future in enumerate(futures):
                results.append(future.result())
                if progress:
                    progress(f"split {split}")
    else:
        for split in range(settings.splits):
            results.append(_split(split, settings))
            if progress:
                progress(f"split {split}")
    runs = [r for res in results for r in res.runs]
    for res in results:
        skipped.update(res.skipped)
    summary = report.summarize(
        runs,
        splits=settings.splits,
        evaluator=settings.evaluator,
        skipped=skipped,
        choices={r.endpoint: (r.evaluator, r.evaluator_why) for r in runs if r.evaluator_why},
        agreement=_agreement(runs),
    )
    summary["overall"].update({"file": str(path), "prices": source, "bar": settings.bar, "items": len(items)})
    summary["runs"] = runs
    return summary


def _agreement(runs: list[Run]) -> dict[str, Agreement]:
    """Each endpoint's evaluator agreement, summed over the splits that scored it."""
    out: dict[str, Agreement] = {}
    for run in runs:
        if run.agreement_total:
            found = out.setdefault(run.endpoint, Agreement())
            found.agree += run.agreement_agree
            found.total += run.agreement_total
    return out
