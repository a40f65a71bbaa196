"""The SDK as this server hands it out: its wheel, built from `sdk/` at install or release time
(`manage.py build_sdk`; `make install` and the image build run it), with the wheels of its
dependencies, served at `/sdk/` so `pip install` works from any machine that reaches this server.

`/sdk/` lists the files as links with their SHA-256 (pip reads it with `--find-links`); each file
is at `/sdk/<file name>`, a stable URL for as long as the SDK's version stays the same."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from apps.core.errors import ApplicationError

PACKAGE = "switchyard-sdk"
WHEEL_PREFIX = "switchyard_sdk-"
# A wheel or source archive name, and nothing that could leave the directory.
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*\.(whl|tar\.gz)$")


@dataclass(frozen=True)
class DistFile:
    name: str
    path: Path
    sha256: str


def source_dir() -> Path:
    return Path(settings.BASE_DIR) / "sdk"


def dist_dir() -> Path:
    return Path(settings.SDK_DIST_DIR)


def sdk_version() -> str:
    """The version the SDK's sources declare (sdk/src/switchyard/_version.py)."""
    text = (source_dir() / "src" / "switchyard" / "_version.py").read_text()
    found = re.search(r"__version__\s*=\s*[\"']([^\"']+)[\"']", text)
    if found is None:
        raise ApplicationError("sdk/src/switchyard/_version.py declares no __version__")
    return found.group(1)


def dist_files() -> list[DistFile]:
    """The files served at /sdk/, by name."""
    folder = dist_dir()
    if not folder.is_dir():
        return []
    return [
        DistFile(p.name, p, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(folder.iterdir())
        if p.is_file() and FILE_NAME.match(p.name)
    ]


def dist_file(name: str) -> DistFile | None:
    return next((f for f in dist_files() if f.name == name), None)


def sdk_wheel() -> DistFile | None:
    """The SDK's own wheel of the version the sources declare, if it was built."""
    wanted = f"{WHEEL_PREFIX}{sdk_version()}-"
    return next((f for f in dist_files() if f.name.startswith(wanted) and f.name.endswith(".whl")), None)


def _newest_source_change() -> float:
    root = source_dir()
    files = [root / "pyproject.toml", root / "README.md", *(root / "src").rglob("*")]
    return max(p.stat().st_mtime for p in files if p.is_file())


def sdk_build(*, dest: Path | None = None, dependencies: bool = True, force: bool = False) -> Path:
    """Build the SDK's wheel (and collect its dependencies' wheels) into `dest`, the served
    directory by default. Nothing is done when a wheel of this version is newer than every source
    file. Older SDK wheels are removed, so the directory serves one version. Needs what any pip
    install needs (the package index, for setuptools and the dependencies)."""
    folder = dest or dist_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{WHEEL_PREFIX}{sdk_version()}-py3-none-any.whl"
    built = folder / name
    if not force and built.is_file() and built.stat().st_mtime >= _newest_source_change():
        return built
    for old in folder.glob(f"{WHEEL_PREFIX}*.whl"):
        old.unlink()
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check"]
    command += ["--wheel-dir", str(folder), str(source_dir())]
    if not dependencies:
        command.insert(4, "--no-deps")
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0 or not built.is_file():
        raise ApplicationError(f"Building the SDK's wheel failed: {(result.stderr or result.stdout)[-2000:]}")
    return built
