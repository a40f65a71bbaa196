"""The reliability suite prints one summary line per class of test:
attempts, failures, events lost, events duplicated."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import pytest

from tests.reporting import tally_report


@dataclass
class Tally:
    attempts: int = 0
    failures: int = 0
    lost: int = 0
    duplicated: int = 0
    notes: list[str] = field(default_factory=list)  # measured figures, printed under the line


@pytest.fixture
def tally(request: pytest.FixtureRequest) -> Iterator[Tally]:
    """Record attempts/lost/duplicated for this test's class; a failed test counts as a failure.
    The run's summary adds them up per class (tests/reporting.py), whichever worker ran the test."""
    marker = request.node.get_closest_marker("reliability")
    assert marker is not None, "reliability tests need @pytest.mark.reliability('<class>')"
    entry = Tally()
    failures_before = request.session.testsfailed
    yield entry
    if request.session.testsfailed > failures_before:
        entry.failures += 1
    tally_report(request.node, marker.args[0], asdict(entry))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reliability(kind): a reliability-suite test of one class")
