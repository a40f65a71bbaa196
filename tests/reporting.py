"""What tests show in the run's terminal: figures a test measured (the `shown` fixture) and the
reliability suite's tallies (tests/reliability/conftest.py).

`make test` runs the tests in pytest-xdist workers, whose own output never reaches the terminal. So
a test hands its lines over with its report (`user_properties`, which xdist sends to the process
that prints the run), and that process prints them after the results: the same with one process
or many.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest

SHOWN = "switchyard.shown"
TALLY = "switchyard.tally"
TALLY_FIELDS = ("attempts", "failures", "lost", "duplicated")


@pytest.fixture
def shown(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """`shown(text)`: print `text` in the run's output, under "shown by tests" with the test's id."""

    def show(text: str) -> None:
        request.node.user_properties.append((SHOWN, text.strip("\n")))

    return show


def tally_report(node: pytest.Item, kind: str, counts: dict[str, Any]) -> None:
    """Hand one test's reliability counts (TALLY_FIELDS and "notes") to the run's summary."""
    node.user_properties.append((TALLY, {"kind": kind, **counts}))


class Summary:
    """In the process that prints the run: collects what the tests handed over, prints it at the end."""

    def __init__(self) -> None:
        self.shown: dict[str, list[str]] = {}
        self.tallies: dict[str, dict[str, Any]] = defaultdict(
            lambda: {**dict.fromkeys(TALLY_FIELDS, 0), "notes": []}
        )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":  # every report of a test carries its properties; one counts
            return
        for name, value in report.user_properties:
            if name == SHOWN:
                self.shown.setdefault(report.nodeid, []).append(value)
            elif name == TALLY:
                entry = self.tallies[value["kind"]]
                for field in TALLY_FIELDS:
                    entry[field] += value[field]
                entry["notes"].extend(value["notes"])

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.shown:
            terminalreporter.section("shown by tests")
            for nodeid, texts in self.shown.items():
                terminalreporter.write_line(nodeid)
                for line in "\n".join(texts).splitlines():
                    terminalreporter.write_line(f"  {line}")
        if self.tallies:
            terminalreporter.section("reliability summary")
            for kind in sorted(self.tallies):
                t = self.tallies[kind]
                terminalreporter.write_line(
                    f"reliability {kind}: attempts={t['attempts']} failures={t['failures']} "
                    f"events_lost={t['lost']} events_duplicated={t['duplicated']}"
                )
                for note in t["notes"]:
                    terminalreporter.write_line(f"  {kind}: {note}")


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # an xdist worker hands its reports on instead
        config.pluginmanager.register(Summary(), "switchyard-summary")
