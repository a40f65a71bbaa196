"""On-disk spool: ingest batches that could not be sent wait here until the server is back.

Each file is one gzipped ``POST /v1/ingest`` body, written atomically (temp file, fsync, rename),
so events keep their ``event_id`` and a resend is de-duplicated by the server. A sender claims a
file by renaming it (atomic, so two processes never send the same file at once), deletes it after
the server answered, and gives it back otherwise. The directory is bounded: past ``max_bytes`` the
oldest batches are deleted and counted as dropped (``spool_full``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from ._log import log_once
from ._stats import Counters

_SUFFIX = ".batch"
_NAME = re.compile(r"^\d{20}-\d+-\d+-n(?P<count>\d+)\.batch(?:\.claim-(?P<pid>\d+))?$")


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    """A claimed batch."""

    path: Path
    original: Path
    body: bytes
    count: int


def _count(name: str) -> int:
    match = _NAME.match(name)
    return int(match.group("count")) if match else 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Spool:
    """A bounded directory of pending batches (see module docstring)."""

    def __init__(self, directory: Path, max_bytes: int, counters: Counters) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self._counters = counters
        self._seq = itertools.count()
        directory.mkdir(parents=True, exist_ok=True)
        self._recover_claims()

    def _recover_claims(self) -> None:
        """Give back batches claimed by processes that died mid-send."""
        for path in self.directory.iterdir():
            match = _NAME.match(path.name)
            if match and match.group("pid") and not _pid_alive(int(match.group("pid"))):
                path.replace(path.with_name(path.name.split(".claim-")[0]))

    def _batches(self) -> list[Path]:
        return sorted(p for p in self.directory.iterdir() if p.name.endswith(_SUFFIX))

    def pending_events(self) -> int:
        """Events waiting on disk (claimed or not)."""
        try:
            return sum(_count(p.name) for p in self.directory.iterdir())
        except OSError:
            return 0

    def has_pending(self) -> bool:
        try:
            return any(p.name.endswith(_SUFFIX) for p in self.directory.iterdir())
        except OSError:
            return False

    def put(self, body: bytes, count: int) -> bool:
        """Store one batch; evict the oldest batches when over the size bound."""
        seq = next(self._seq)
        name = f"{time.time_ns():020d}-{os.getpid()}-{seq}-n{count}{_SUFFIX}"
        tmp = self.directory / f".tmp-{os.getpid()}-{seq}"
        try:
            with open(tmp, "wb") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.directory / name)
        except OSError as exc:
            log_once("spool-write", "switchyard: cannot write spool %s: %s", self.directory, exc)
            self._counters.drop("spool_error", count)
            tmp.unlink(missing_ok=True)
            return False
        self._enforce_bound()
        return True

    def _enforce_bound(self) -> None:
        try:
            files = sorted((p for p in self.directory.iterdir() if _NAME.match(p.name)), key=lambda p: p.name)
            sizes = {p: p.stat().st_size for p in files}
        except OSError:
            return
        total = sum(sizes.values())
        for path in files[:-1]:  # never evict the batch just written
            if total <= self.max_bytes:
                break
            if not path.name.endswith(_SUFFIX):
                continue  # claimed by a sender right now
            try:
                path.unlink()
            except OSError:
                continue
            total -= sizes[path]
            self._counters.drop("spool_full", _count(path.name))

    def claim_oldest(self) -> SpoolEntry | None:
        """Claim and read the oldest unclaimed batch, or ``None``."""
        try:
            batches = self._batches()
        except OSError:
            return None
        for path in batches:
            claimed = path.with_name(f"{path.name}.claim-{os.getpid()}")
            try:
                path.rename(claimed)
                body = claimed.read_bytes()
            except OSError:
                continue  # another process took it first
            return SpoolEntry(claimed, path, body, _count(path.name))
        return None

    def complete(self, entry: SpoolEntry) -> None:
        """The server answered for this batch: delete it."""
        entry.path.unlink(missing_ok=True)

    def release(self, entry: SpoolEntry) -> None:
        """Sending failed: give the batch back for a later attempt."""
        with contextlib.suppress(OSError):
            entry.path.rename(entry.original)
