"""The detectors, each over one scan of a project's window of calls (see each module)."""

from __future__ import annotations

from datetime import datetime

from apps.opportunities.detectors import caching, context, output, successor, tier
from apps.opportunities.detectors.base import Finding, Scan
from apps.opportunities.detectors.traffic import read_traffic
from apps.pricing.book import PriceBook
from apps.pricing.selectors import Lifecycle

__all__ = ["Finding", "Scan", "run_all"]


def run_all(
    *,
    project_id: int,
    book: PriceBook,
    since: datetime,
    until: datetime,
    traits: dict[str, str],
    lifecycles: dict[int, Lifecycle],
) -> tuple[list[Finding], Scan]:
    scan = Scan(project_id=project_id, book=book, since=since, until=until)
    if not scan.usage:
        return [], scan
    traffic = read_traffic(scan)
    findings = [
        *caching.detect(scan, traffic),
        *tier.detect(scan, traffic, traits),
        *output.detect(scan),
        *context.detect(scan),
        *successor.detect(scan, lifecycles, until.date()),
    ]
    return findings, scan
