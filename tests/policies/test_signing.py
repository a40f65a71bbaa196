"""The embedded signing key: made once, whole, however many processes start together (two test
workers, or web processes sharing a VAR_DIR)."""

from __future__ import annotations

import threading
from pathlib import Path

from apps.policies.domain import signing


def _start_together(var: Path, count: int) -> tuple[list[str], list[BaseException]]:
    """`count` starts reading (or making) the embedded key in `var` at the same moment."""
    barrier = threading.Barrier(count)
    found: list[str] = []
    errors: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            key = signing._embedded(var)
            found.append(f"{key.key_id}:{key.public_b64}")
        except BaseException as exc:  # a half-written file fails to parse here
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return found, errors


def test_processes_starting_together_all_read_the_one_whole_key(tmp_path: Path) -> None:
    for attempt in range(20):
        var = tmp_path / str(attempt)
        found, errors = _start_together(var, 8)
        assert not errors, errors[:1]
        assert len(found) == 8 and len(set(found)) == 1, found
        assert [p.name for p in var.iterdir()] == [signing.EMBEDDED_FILE]  # no drafts left behind
        assert (var / signing.EMBEDDED_FILE).stat().st_mode & 0o777 == 0o600
