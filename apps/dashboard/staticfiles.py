"""Serve `vendor/plotly.min.js` from the installed plotly package: charts work offline, no CDN,
and the 4.7 MB bundle is not committed. `collectstatic` copies it like any other static file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, overload

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import CheckMessage, Error
from django.core.files.storage import FileSystemStorage

PREFIX = "vendor"
FILENAME = "plotly.min.js"
SERVED_AS = f"{PREFIX}/{FILENAME}"


def plotly_bundle() -> Path:
    return Path(plotly.__file__).resolve().parent / "package_data" / FILENAME


class PlotlyFinder(BaseFinder):
    """A staticfiles finder for exactly one file: the plotly.js bundle shipped with plotly.py."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(plotly_bundle().parent))
        self.storage.prefix = PREFIX  # type: ignore[attr-defined]  # read by collectstatic

    def check(self, **kwargs: Any) -> list[CheckMessage]:
        if not plotly_bundle().is_file():
            return [Error(f"{plotly_bundle()} is missing: reinstall plotly", id="dashboard.E001")]
        return []

    @overload
    def find(self, path: str, find_all: Literal[False] = False) -> str | None: ...
    @overload
    def find(self, path: str, find_all: Literal[True]) -> list[str]: ...
    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> str | list[str] | None:
        found = str(plotly_bundle()) if path == SERVED_AS and plotly_bundle().is_file() else None
        if find_all or kwargs.get("all"):
            return [found] if found else []
        return found

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, Any]]:
        if plotly_bundle().is_file():
            yield FILENAME, self.storage
