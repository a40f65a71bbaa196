"""The reliability suite prints one summary line per class of test:
attempts, failures, events lost, events duplicated."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pytest


@dataclass
class Tally:
    attempts: int = 0
    failures: int = 0
    lost: int = 0
    duplicated: int = 0
    notes: list[str] = field(default_factory=list)  # measured figures, printed under the line


SUMMARY: dict[str, Tally] = defaultdict(Tally)


@pytest.fixture
def tally(request: pytest.FixtureRequest) -> Tally:
    """Record attempts/lost/duplicated for this test's class; a failed test counts as a failure."""
    marker = request.node.get_closest_marker("reliability")
    assert marker is not None, "reliability tests need @pytest.mark.reliability('<class>')"
    entry = SUMMARY[marker.args[0]]
    failures_before = request.session.testsfailed
    yield entry
    if request.session.testsfailed > failures_before:
        entry.failures += 1


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reliability(kind): a reliability-suite test of one class")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    if not SUMMARY:
        return
    terminalreporter.section("reliability summary")
    for kind in sorted(SUMMARY):
        t = SUMMARY[kind]
        terminalreporter.write_line(
            f"reliability {kind}: attempts={t.attempts} failures={t.failures} "
            f"events_lost={t.lost} events_duplicated={t.duplicated}"
        )
        for note in t.notes:
            terminalreporter.write_line(f"  {kind}: {note}")
