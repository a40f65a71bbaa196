from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks


class IngestConfig(AppConfig):
    name = "apps.ingest"
    label = "ingest"
    floor = 5  # tests/test_architecture.py: imports go to this floor or below
    public = ("models", "selectors", "services", "limits")

    def ready(self) -> None:
        checks.register(check_writer_coordination, checks.Tags.compatibility)


def check_writer_coordination(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A ClickHouse server can have many ingest processes; their writers coordinate in Redis."""
    from django.conf import settings

    from apps.warehouse.client import connection_info

    if not connection_info().embedded and not settings.REDIS_URL:
        return [
            checks.Warning(
                "CLICKHOUSE_URL points at a server but REDIS_URL is empty: with several web processes, a retried "
                "ingest batch racing its original on another process could be counted twice.",
                hint="Set REDIS_URL so ingest writers share event claims.",
                id="switchyard.W001",
            )
        ]
    return []
