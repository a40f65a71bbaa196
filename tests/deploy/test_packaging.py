"""`pip install` of the project and the SDK prints no build backend banners: `make install` (and so
`make demo`) shows setuptools' project.license deprecation table and its 'Editable installation'
notice to nobody. Both are built for real, in pip's isolated build environments."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.builds import in_tree_build

ROOT = Path(__file__).resolve().parents[2]
BANNERS = ("Warning", "deprecated", "!!", "********")


def _pip(*args: str, python: str = sys.executable) -> str:
    """pip of this environment, working on `python`'s (never this one's: an install with --prefix
    would still uninstall this environment's copy first)."""
    command = [sys.executable, "-m", "pip", "--python", python, *args, "--quiet", "--no-deps"]
    command.append("--disable-pip-version-check")
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    # pip's own notes about this machine's package index settings are not the project's
    return "\n".join(line for line in result.stderr.splitlines() if not line.startswith("WARNING: Location"))


@pytest.mark.slow
def test_installing_the_project_and_the_sdk_prints_no_banner(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    with in_tree_build():
        editable = _pip("install", "-e", ".", "-e", "./sdk", python=str(venv / "bin" / "python"))
        wheels = _pip("wheel", "--wheel-dir", str(tmp_path / "wheels"), ".", "./sdk")
    for output in (editable, wheels):
        assert not [b for b in BANNERS if b in output], output
    assert len(list((tmp_path / "wheels").glob("*.whl"))) == 2
