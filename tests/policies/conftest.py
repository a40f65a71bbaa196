"""Policy test fixtures: fresh price books and config caches, a priced catalogue, an admin and a member."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apps.accounts.models import Role
from apps.ingest import limits
from apps.policies import api
from apps.policies.selectors import config_cache_clear
from apps.pricing.models import LlmModel
from apps.pricing.selectors import price_book_invalidate
from tests.policies.factories import price_catalogue
from tests.tenancy import Tenant, add_member


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    price_book_invalidate()
    config_cache_clear()
    api.rate_limits_reset()
    limits.reset()
    yield
    price_book_invalidate()
    config_cache_clear()


@pytest.fixture
def catalogue(db: None) -> dict[str, LlmModel]:
    return price_catalogue()


@pytest.fixture
def member(tenant: Tenant) -> Any:
    return add_member(tenant, Role.MEMBER, "member")


@pytest.fixture
def admin(tenant: Tenant) -> Any:
    return add_member(tenant, Role.ADMIN, "admin")
