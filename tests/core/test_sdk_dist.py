"""The SDK installs the way the pages say, from a machine that reaches only this server: the
wheel built from sdk/ (with its dependencies' wheels) is served at /sdk/, the Start page shows
the exact `pip install` line, and a fresh virtualenv with no package index installs it from the
live server and sends a call that lands in the project."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from apps.core.sdk_dist import sdk_build, sdk_version
from tests.builds import in_tree_build
from tests.ingest.events import stored_count
from tests.tenancy import Tenant


@pytest.fixture(scope="session")
def sdk_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SDK's wheel and its dependencies', built once per run as `make install` builds them."""
    dest = tmp_path_factory.mktemp("sdk-dist")
    with in_tree_build():
        sdk_build(dest=dest)
    return dest


def _lines(page: str) -> tuple[str, str]:
    install = re.search(r'<pre class="code" id="sdk-install">(.*?)</pre>', page, re.S)
    offline = re.search(r'<p class="muted small" id="sdk-offline">.*?<code>(.*?)</code>', page, re.S)
    assert install and offline, page
    return html.unescape(install.group(1)).splitlines()[0], html.unescape(offline.group(1))


def _server_only_env() -> dict[str, str]:
    """pip as on a machine whose only reachable host is the Switchyard server: no index, no config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    return env | {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def _run(command: list[str], **kwargs: Any) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, **kwargs)
    assert result.returncode == 0, (command, result.stdout[-3000:], result.stderr[-3000:])
    return result.stdout + result.stderr


def test_the_build_serves_the_wheel_and_its_dependencies(sdk_wheels: Path, settings: Any) -> None:
    wheel = sdk_wheels / f"switchyard_sdk-{sdk_version()}-py3-none-any.whl"
    names = {p.name for p in sdk_wheels.iterdir()}
    assert wheel.name in names and any(n.startswith("cryptography-") for n in names)
    built_at = wheel.stat().st_mtime
    with in_tree_build():
        again = sdk_build(dest=sdk_wheels)
    assert again == wheel and wheel.stat().st_mtime == built_at  # fresh: not rebuilt
    settings.SDK_DIST_DIR = sdk_wheels
    client = Client()
    index = client.get("/sdk/").content.decode()
    assert f'href="http://testserver/sdk/{wheel.name}#sha256=' in index
    served = client.get(f"/sdk/{wheel.name}")
    assert served.status_code == 200 and b"".join(served.streaming_content) == wheel.read_bytes()
    for missing in ("/sdk/nothing-1.0-py3-none-any.whl", "/sdk/..%2Fsettings.py", "/sdk/.hidden.whl"):
        assert client.get(missing).status_code == 404, missing


def test_a_server_without_the_wheel_says_how_to_build_it(
    tenant: Tenant, settings: Any, tmp_path: Path
) -> None:
    settings.SDK_DIST_DIR = tmp_path / "empty"
    page = tenant.web().get("/accounts/start/").content.decode()
    assert "pip install ./sdk" in page and "manage.py build_sdk" in page


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_sdk_installs_from_the_server_alone_as_the_start_page_says(
    live_server: Any, tenant: Tenant, sdk_wheels: Path, settings: Any, tmp_path: Path
) -> None:
    settings.SDK_DIST_DIR = sdk_wheels
    host = live_server.url.removeprefix("http://")
    page = tenant.web().get("/accounts/start/", HTTP_HOST=host).content.decode()
    line, offline = _lines(page)
    wheel = f"switchyard_sdk-{sdk_version()}-py3-none-any.whl"
    assert line == f"pip install {live_server.url}/sdk/{wheel}"
    assert offline == f"pip install --no-index --find-links {live_server.url}/sdk/ switchyard-sdk"
    assert tenant.project.api_keys.get(kind="ingest").display_prefix in page

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    pip, python = str(venv / "bin" / "pip"), str(venv / "bin" / "python")
    env = _server_only_env()
    _run([pip, *offline.split()[1:]], env=env)  # the SDK and cryptography, from the server only
    _run([pip, "uninstall", "--yes", "switchyard-sdk"], env=env)
    _run([pip, *line.split()[1:]], env=env)  # the exact line (its one dependency is already there)
    script = (
        "import switchyard\n"
        f"switchyard.init(api_key={tenant.ingest_key!r}, host={live_server.url!r}, sync_mode=True,"
        " enable_routing=False)\n"
        "with switchyard.endpoint('support-reply'):\n"
        "    with switchyard.track(provider='openai', model='gpt-4o-mini') as call:\n"
        "        call.set_usage(input_tokens=12, output_tokens=3)\n"
        "switchyard.shutdown()\n"
        "print(switchyard.__version__)\n"
    )
    assert sdk_version() in _run([python, "-c", script], env=env)
    assert stored_count(tenant.project.pk) == 1  # the call is there to see


def test_the_readme_quick_start_names_the_wheel_the_server_builds() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    quick = readme.split("## Send your first call", 1)[1].split("\n## ", 1)[0]
    code = quick.split("```python\n", 1)[1].split("```", 1)[0].splitlines()
    assert (
        len(code) == 5
        and code[0]
        == f"# pip install http://127.0.0.1:8000/sdk/switchyard_sdk-{sdk_version()}-py3-none-any.whl"
    )
    assert "switchyard.init(" in code[2] and "switchyard.wrap(" in code[3] and "create(" in code[4]
