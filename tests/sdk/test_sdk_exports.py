"""The public surface is small and declared: this test pins it (STYLE.md habit 9)."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import switchyard

EXPECTED = [
    "BudgetExceededError",
    "Call",
    "CallOptions",
    "Client",
    "ConfigurationError",
    "HTTPTransport",
    "InvalidConfigError",
    "MockTransport",
    "Request",
    "Response",
    "SignatureError",
    "Stats",
    "SwitchyardError",
    "Transport",
    "TransportError",
    "__version__",
    "attributes",
    "endpoint",
    "flush",
    "get_client",
    "init",
    "record_batch",
    "register_client",
    "shutdown",
    "stats",
    "track",
    "wait_for_config",
    "wrap",
]


def test_exported_names_are_pinned() -> None:
    assert switchyard.__all__ == EXPECTED
    for name in EXPECTED:
        assert hasattr(switchyard, name), name


def test_public_names_are_documented_and_come_from_private_modules() -> None:
    for name in EXPECTED:
        if name == "__version__":
            continue
        obj = getattr(switchyard, name)
        assert inspect.getdoc(obj), f"{name} has no docstring"
        module = getattr(obj, "__module__", "")
        assert re.match(r"^switchyard\._", module), f"{name} lives in {module}"


def test_one_exception_hierarchy() -> None:
    for exc in (
        switchyard.ConfigurationError,
        switchyard.TransportError,
        switchyard.InvalidConfigError,
        switchyard.SignatureError,
        switchyard.BudgetExceededError,
    ):
        assert issubclass(exc, switchyard.SwitchyardError)
    assert issubclass(switchyard.SignatureError, switchyard.InvalidConfigError)
    assert issubclass(switchyard.ConfigurationError, ValueError)


def test_version_matches_distribution() -> None:
    from importlib.metadata import version

    assert switchyard.__version__ == version("switchyard-sdk")


def test_sdk_never_imports_django_or_provider_sdks_at_import_time() -> None:
    code = (
        "import sys, switchyard; "
        "print(sorted(m for m in ('django', 'openai', 'anthropic') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_sdk_sources_never_mention_django_imports() -> None:
    src = Path(switchyard.__file__).parent
    for path in src.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import) django", text, re.MULTILINE), path
