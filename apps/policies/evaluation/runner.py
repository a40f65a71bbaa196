"""`evaluate_routing` end to end: read, price, split, estimate, apply, summarise.

Endpoints are independent, so they are spread over worker processes (`jobs`); each worker runs
every split of the endpoints it is given. Workers are forked, so the items are read once.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apps.policies.evaluation import dataset, report
from apps.policies.evaluation.grading import Agreement, Ungradable, make_grader
from apps.policies.evaluation.harness import Costed, Run, cost_items, run_split

DEFAULT_SPLITS = 20


@dataclass(frozen=True)
class Settings:
    splits: int = DEFAULT_SPLITS
    seed: int = 0
    bar: float = 0.95
    evaluator: str = "labels"


@dataclass
class _EndpointResult:
    endpoint: str
    runs: list[Run] = field(default_factory=list)
    skipped: str = ""
    choice: tuple[str, str] | None = None
    agreement: Agreement | None = None


_WORK: dict[str, list[Costed]] = {}


def _endpoint(name: str, settings: Settings) -> _EndpointResult:
    items = _WORK[name]
    grader = make_grader(settings.evaluator)
    out = _EndpointResult(name)
    try:
        for split in range(settings.splits):
            out.runs.append(
                run_split(
                    items, endpoint=name, split=split, seed=settings.seed, bar=settings.bar, grader=grader
                )
            )
    except Ungradable as exc:
        return _EndpointResult(name, skipped=str(exc))
    choices = getattr(grader, "choices", {})
    agreement = getattr(grader, "agreement", {})
    out.choice = choices.get(name)
    out.agreement = agreement.get(name)
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
    names = sorted(_WORK)
    results: list[_EndpointResult] = []
    if jobs > 1 and len(names) > 1:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = [pool.submit(_endpoint, name, settings) for name in names]
            for future in futures:
                results.append(future.result())
                if progress:
                    progress(results[-1].endpoint)
    else:
        for name in names:
            results.append(_endpoint(name, settings))
            if progress:
                progress(name)
    runs = [r for res in results for r in res.runs]
    skipped.update({res.endpoint: res.skipped for res in results if res.skipped})
    summary = report.summarize(
        runs,
        splits=settings.splits,
        evaluator=settings.evaluator,
        skipped=skipped,
        choices={res.endpoint: res.choice for res in results if res.choice},
        agreement={res.endpoint: res.agreement for res in results if res.agreement},
    )
    summary["overall"].update({"file": str(path), "prices": source, "bar": settings.bar, "items": len(items)})
    summary["runs"] = runs
    return summary
