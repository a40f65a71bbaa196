"""What can be validated here without a container engine: the Dockerfile's shape, the compose
file (by Docker Compose v2 itself), the Kubernetes manifests (rendered by kustomize, then checked
against Kubernetes' own OpenAPI schemas), production settings with the deployed variables, and the
exact gunicorn command serving against real services.

kustomize and Compose v2 are system tools: `bash tools/install-test-tools.sh` installs them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml
from kubernetes_validate import SchemaNotFoundError, ValidationError
from kubernetes_validate import validate as validate_k8s

from tests.production_server import production_server
from tools.preflight import compose_command

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def test_dockerfile_is_multistage_non_root_with_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert '"python:config.gunicorn"' in text


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_has_every_part_with_health_and_ordering() -> None:
    services = _compose()["services"]
    assert {"postgres", "clickhouse", "redis", "migrate", "web", "worker", "beat"} <= set(services)
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["image"] == services["migrate"]["image"]
    for name in ("postgres", "clickhouse", "redis"):
        assert services["migrate"]["depends_on"][name]["condition"] == "service_healthy"
        assert "test" in services[name]["healthcheck"]
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])


def test_compose_app_variables_are_documented() -> None:
    env = _compose()["services"]["web"]["environment"]
    readme = (ROOT / "README.md").read_text()
    undocumented = sorted(
        name for name in env if f"`{name}`" not in readme and not name.startswith("GUNICORN_")
    )
    assert not undocumented, f"compose sets variables the README does not document: {undocumented}"


INSTALL_HINT = "run `make tools` (make test does)"
# The oldest Kubernetes release the manifests must work on (HPA autoscaling/v2, PDB policy/v1).
KUBERNETES_VERSION = "1.30"
# Custom resources of the Altinity clickhouse-operator: Kubernetes' schemas do not cover them; their
# shape is checked in test_kubernetes_manifests_render_and_are_production_shaped.
OPERATOR_KINDS = {"ClickHouseInstallation", "ClickHouseKeeperInstallation"}


def _compose_command() -> list[str]:
    command = compose_command()
    assert command, f"Docker Compose v2 is needed to validate deploy/compose.yaml: {INSTALL_HINT}"
    return command


def _compose_config(compose_file: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`docker compose config` with deploy/.env.example, its required secrets filled in."""
    env_file = tmp_path / "compose.env"
    lines = (DEPLOY / ".env.example").read_text().splitlines()
    filled = [
        f"{line}placeholder-{i}" if re.fullmatch(r"[A-Z_]+=", line) else line for i, line in enumerate(lines)
    ]
    env_file.write_text("\n".join(filled) + "\n")
    return subprocess.run(
        [
            *_compose_command(),
            "-f",
            str(compose_file),
            "--env-file",
            str(env_file),
            "config",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")},
    )


def test_compose_file_is_valid_for_docker_compose(tmp_path: Path) -> None:
    out = _compose_config(DEPLOY / "compose.yaml", tmp_path)
    assert out.returncode == 0, out.stderr
    config = json.loads(out.stdout)
    assert config["name"] == "switchyard"
    web = config["services"]["web"]
    assert web["environment"]["SECRET_KEY"].startswith("placeholder-")
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert config["services"]["worker"]["image"] == web["image"]


def test_compose_validation_rejects_a_broken_file(tmp_path: Path) -> None:
    """The check above can fail: the same file with one misspelt key is refused, naming it."""
    broken = tmp_path / "compose.yaml"
    broken.write_text((DEPLOY / "compose.yaml").read_text().replace("healthcheck:", "helthcheck:", 1))
    out = _compose_config(broken, tmp_path)
    assert out.returncode != 0 and "helthcheck" in out.stderr, out.stderr


def _kustomize() -> list[dict]:
    if kustomize := shutil.which("kustomize"):
        command = [kustomize, "build"]
    elif kubectl := shutil.which("kubectl"):
        command = [kubectl, "kustomize"]
    else:
        raise AssertionError(f"kustomize is needed to render deploy/k8s: {INSTALL_HINT}")
    out = subprocess.run([*command, str(DEPLOY / "k8s")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def test_kubernetes_manifests_match_the_kubernetes_schemas() -> None:
    """Every rendered object, strictly (no unknown fields), against Kubernetes' OpenAPI schemas."""
    checked, problems = 0, []
    for doc in _kustomize():
        if doc["kind"] in OPERATOR_KINDS:
            continue
        try:
            validate_k8s(doc, KUBERNETES_VERSION, strict=True)
            checked += 1
        except (ValidationError, SchemaNotFoundError) as exc:
            problems.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc}")
    assert not problems, problems
    assert checked >= 14


def test_kubernetes_schema_check_rejects_a_misspelt_field() -> None:
    """The check above can fail: a probe with a misspelt field is refused."""
    web = next(
        d for d in _kustomize() if d["kind"] == "Deployment" and d["metadata"]["name"] == "switchyard-web"
    )
    web["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {"path": "/readyz"}
    with pytest.raises(ValidationError):
        validate_k8s(web, KUBERNETES_VERSION, strict=True)


def test_kubernetes_manifests_render_and_are_production_shaped() -> None:
    docs = _kustomize()
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for expected in [
        ("Deployment", "switchyard-web"),
        ("Deployment", "switchyard-worker"),
        ("Deployment", "switchyard-beat"),
        ("Job", "switchyard-migrate"),
        ("HorizontalPodAutoscaler", "switchyard-web"),
        ("ClickHouseInstallation", "switchyard"),
        ("ClickHouseKeeperInstallation", "keeper"),
    ]:
        assert expected in kinds, expected
    by_name = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    web = by_name[("Deployment", "switchyard-web")]["spec"]["template"]["spec"]
    assert web["securityContext"]["runAsNonRoot"] is True
    container = web["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert by_name[("Deployment", "switchyard-beat")]["spec"]["replicas"] == 1
    chi = by_name[("ClickHouseInstallation", "switchyard")]["spec"]["configuration"]
    assert chi["clusters"][0]["name"] == "switchyard" and chi["clusters"][0]["layout"]["shardsCount"] >= 2
    config = by_name[("ConfigMap", "switchyard-config")]["data"]
    assert (
        config["CLICKHOUSE_CLUSTER"] == "switchyard"
        and config["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    )
    assert all(d["metadata"].get("namespace") == "switchyard" for d in docs if d["kind"] != "Namespace")


def test_production_settings_load_with_the_deployed_configmap() -> None:
    config = next(d for d in _kustomize() if d["kind"] == "ConfigMap")["data"]
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DEBUG",)},
        **config,
        "SECRET_KEY": "x" * 50,
        "DATABASE_URL": "postgres://switchyard:pw@db:5432/switchyard",
        "CLICKHOUSE_URL": "http://switchyard:pw@clickhouse-switchyard:8123",
    }
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CLICKHOUSE_CLUSTER, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.DEBUG)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["switchyard", "True", "True", "True", "False"]


@pytest.mark.slow
def test_gunicorn_command_serves_against_postgres_redis_and_chdb(tmp_path: Path) -> None:
    """The image's CMD, run here on production settings against real PostgreSQL, Redis and chDB."""
    with production_server(tmp_path, SECURE_SSL_REDIRECT="false") as (base, _):
        with urllib.request.urlopen(f"{base}/readyz", timeout=10) as response:
            assert response.status == 200 and b'"status": "ok"' in response.read()
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
            assert response.status == 200
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
            assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("name", ["RUNBOOK.md"])
def test_runbook_covers_the_operations(name: str) -> None:
    text = (DEPLOY / name).read_text()
    for topic in ("Backups", "Upgrades with migrations", "Scaling", "Rotating keys"):
        assert f"## {topic}" in text
