"""Shared fixtures: embedded ClickHouse per test run, tenants, and the real services.

PostgreSQL and Redis must be running (tools/preflight.py says how to start them); tests never
skip because one is missing.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import TransactionTestCase

from apps.accounts.models import Role
from apps.accounts.services import invitation_create
from apps.warehouse import client as warehouse
from apps.warehouse import migrator
from tests.tenancy import Tenant, make_tenant

pytest_plugins = ["tests.reporting"]  # what tests show, printed by the process that prints the run


def _uses_database(item: pytest.Item) -> bool:
    cls = getattr(item, "cls", None)
    return bool(
        (cls and issubclass(cls, TransactionTestCase))
        or item.get_closest_marker("django_db")
        or {"db", "transactional_db", "live_server"} & set(getattr(item, "fixturenames", ()))
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In pytest-xdist workers (`make test`), the long tests that never touch the test database
    (marked slow or reliability) start first, so that no worker is left running one alone at the end.
    The rest keep pytest-django's order: database tests first, the transactional ones (which empty
    the tables) after them."""
    if not hasattr(config, "workerinput"):
        return

    def later(item: pytest.Item) -> bool:
        long = item.get_closest_marker("slow") or item.get_closest_marker("reliability")
        return not long or _uses_database(item)

    items.sort(key=later)  # stable: the order within each part stays


def pytest_xdist_node_collection_finished(node: object, ids: list[str]) -> None:
    """Every test needs a node id of its own: pytest-xdist's loadscope, loadgroup and loadfile modes
    hand tests out by it and run one test of each id. (pytest 9.2 gives every API operation of a
    schemathesis test the same one, hence pytest<9.2.)"""
    shared = sorted(nodeid for nodeid, n in Counter(ids).items() if n > 1)
    if shared:
        pytest.exit(
            f"{len(shared)} node ids name more than one test (pytest-xdist may run one of each): "
            + ", ".join(shared[:3]),
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


@pytest.fixture(scope="session", autouse=True)
def clickhouse() -> Iterator[None]:
    """A fresh embedded ClickHouse with every migration applied, removed after the run."""
    info = warehouse.connection_info()
    if info.embedded and Path(info.path).exists():
        shutil.rmtree(info.path)
    warehouse.reset_clients()
    migrator.migrate()
    yield
    warehouse.reset_clients()
    if info.embedded:
        shutil.rmtree(info.path, ignore_errors=True)


@pytest.fixture
def tenant(db: None) -> Tenant:
    return make_tenant("acme")


@pytest.fixture
def other_tenant(db: None) -> Tenant:
    return make_tenant("globex")


@pytest.fixture
def invitation_token(tenant: Tenant) -> str:
    _, token = invitation_create(
        organization=tenant.organization, email="new@x.example", role=Role.MEMBER, actor=tenant.user
    )
    tenant.extra["invitation_token"] = token
    return token


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """Forget this run's cache keys after each test (only ours: other runs may share the Redis db)."""
    yield
    from django.core.cache import cache

    client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
    keys = list(client.scan_iter(match=f"{settings.CACHES['default']['KEY_PREFIX']}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def output_dir() -> Path:
    path = Path(settings.BASE_DIR) / "var" / "test-output"
    path.mkdir(parents=True, exist_ok=True)
    return path
