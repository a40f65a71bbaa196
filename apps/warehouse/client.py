"""The one door to ClickHouse.

Every query and insert in Switchyard goes through this module. It

- builds the client from `CLICKHOUSE_URL` (`chdb:///path` embedded, or `http(s)://…` server);
- binds values server-side (`{name:Type}` placeholders), never formats them into SQL;
- requires a project: `ProjectScope(project_id).query(sql, …)` refuses SQL that does not filter
  on `{project_id:UInt64}`, so a query that forgot the tenant filter cannot run;
- applies a timeout and tags each query with its feature (`log_comment`) for `system.query_log`.

Cross-project work (the ingest writer, migrations, metering) uses the explicitly named
`system_*` functions, so every unscoped access is easy to find in review.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError
from django.conf import settings

from apps.core.errors import ApplicationError

PROJECT_PARAM = re.compile(r"\{project_id:\s*UInt64\s*\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class WarehouseUnavailable(ApplicationError):
    """ClickHouse could not be reached or failed; the caller should answer 503."""

    def __init__(self, message: str = "The analytics store is unavailable; try again shortly"):
        super().__init__(message, code="warehouse_unavailable", status=503)


class UnscopedQuery(Exception):
    """A programming error: a project-scoped query without the project filter."""


@dataclass(frozen=True)
class ConnectionInfo:
    embedded: bool
    path: str  # chDB data directory, when embedded
    url: str
    database: str
    cluster: str


def connection_info() -> ConnectionInfo:
    url = settings.CLICKHOUSE_URL
    embedded = url.startswith("chdb:")
    path = urlparse(url).path if embedded else ""
    return ConnectionInfo(
        embedded=embedded,
        path=path,
        url=url,
        database=settings.CLICKHOUSE_DATABASE,
        cluster=settings.CLICKHOUSE_CLUSTER,
    )


_lock = threading.Lock()
_shared: dict[str, Client] = {}
_local = threading.local()


def _build(info: ConnectionInfo, database: str | None) -> Client:
    common: dict[str, Any] = {"database": database} if database else {}
    if info.embedded:
        import os

        os.makedirs(info.path, exist_ok=True)
        return clickhouse_connect.get_client(dsn=f"chdb://{info.path}", **common)
    return clickhouse_connect.get_client(
        dsn=info.url,
        send_receive_timeout=settings.CLICKHOUSE_QUERY_TIMEOUT_S + 5,
        autogenerate_session_id=False,
        **common,
    )


def raw_client(*, database: bool = True) -> Client:
    """The underlying client. chDB: one per process; HTTP: one per thread."""
    info = connection_info()
    db = info.database if database else None
    key = f"{info.url}|{db}"
    if info.embedded:
        with _lock:
            client = _shared.get(key)
            if client is None:
                if db:
                    _build(info, None).command(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(db)}")
                client = _shared[key] = _build(info, db)
            return client
    clients: dict[str, Client] = getattr(_local, "clients", None) or {}
    _local.clients = clients
    if key not in clients:
        if db:
            _build(info, None).command(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(db)}")
        clients[key] = _build(info, db)
    return clients[key]


def reset_clients() -> None:
    """Forget cached clients (tests that switch databases; after fork)."""
    with _lock:
        _shared.clear()
    _local.clients = {}


def close_clients() -> None:
    """Close this process's clients. Embedded, this hands the chDB directory over: another process
    (a worker) may open it, and this one opens it again at its next query, once that one is gone."""
    with _lock:
        clients = list(_shared.values())
        _shared.clear()
    clients += list((getattr(_local, "clients", None) or {}).values())
    _local.clients = {}
    for client in clients:
        client.close()


def safe_identifier(name: str) -> str:
    """The name itself, if it is a plain identifier (tables and databases named in code)."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a safe identifier: {name!r}")
    return name


def quote_identifier(name: str) -> str:
    return f"`{safe_identifier(name)}`"


def allowed_identifier(value: str, allowed: Sequence[str]) -> str:
    """An identifier that varies (an ORDER BY column) must come from an allow-list."""
    if value not in allowed:
        raise ApplicationError(f"{value!r} is not one of {', '.join(allowed)}", code="invalid_choice")
    return value


def _settings(feature: str, project_id: int | None, extra: dict[str, Any] | None) -> dict[str, Any]:
    tag = {"feature": feature}
    if project_id is not None:
        tag["project_id"] = str(project_id)
    out: dict[str, Any] = {
        "max_execution_time": settings.CLICKHOUSE_QUERY_TIMEOUT_S,
        "log_comment": json.dumps(tag, separators=(",", ":")),
    }
    out.update(extra or {})
    return out


@contextmanager
def _translate_errors() -> Iterator[None]:
    try:
        yield
    except ClickHouseError as exc:
        raise WarehouseUnavailable(f"The analytics store failed: {str(exc).splitlines()[0][:300]}") from exc
    except OSError as exc:
        raise WarehouseUnavailable() from exc


@dataclass(frozen=True)
class QueryResult:
    columns: tuple[str, ...]
    rows: list[Any]

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None


class ProjectScope:
    """Queries about one project. The only way product code reads ClickHouse."""

    def __init__(self, project_id: int):
        if not isinstance(project_id, int) or isinstance(project_id, bool) or project_id <= 0:
            raise UnscopedQuery(f"project_id must be a positive int, got {project_id!r}")
        self.project_id = project_id

    def _params(self, sql: str, params: dict[str, Any] | None) -> dict[str, Any]:
        if not PROJECT_PARAM.search(sql):
            raise UnscopedQuery("project-scoped SQL must filter on {project_id:UInt64}")
        merged = dict(params or {})
        if merged.setdefault("project_id", self.project_id) != self.project_id:
            raise UnscopedQuery("project_id parameter differs from the scope's project")
        return merged

    def query(
        self,
        sql: str,
        params: dict[str, Any] | None = None,
        *,
        feature: str,
        settings: dict[str, Any] | None = None,
    ) -> QueryResult:
        bound = self._params(sql, params)
        with _translate_errors():
            result = raw_client().query(
                sql, parameters=bound, settings=_settings(feature, self.project_id, settings)
            )
        return QueryResult(tuple(result.column_names), list(result.result_rows))

    def query_df(
        self,
        sql: str,
        params: dict[str, Any] | None = None,
        *,
        feature: str,
        settings: dict[str, Any] | None = None,
    ) -> Any:
        bound = self._params(sql, params)
        with _translate_errors():
            return raw_client().query_df(
                sql, parameters=bound, settings=_settings(feature, self.project_id, settings)
            )

    def stream_rows(
        self, sql: str, params: dict[str, Any] | None = None, *, feature: str
    ) -> Iterator[tuple[Any, ...]]:
        """Rows in blocks, for exports too big to hold in memory."""
        bound = self._params(sql, params)
        with (
            _translate_errors(),
            raw_client().query_row_block_stream(
                sql, parameters=bound, settings=_settings(feature, self.project_id, None)
            ) as stream,
        ):
            for block in stream:
                yield from block

    def command(self, sql: str, params: dict[str, Any] | None = None, *, feature: str) -> Any:
        """A scoped mutation (e.g. ALTER TABLE … UPDATE … WHERE project_id = {project_id:UInt64})."""
        bound = self._params(sql, params)
        with _translate_errors():
            return raw_client().command(
                sql, parameters=bound, settings=_settings(feature, self.project_id, None)
            )


def load_sql(package_file: str, name: str) -> str:
    """Read a .sql file that lives next to the selector that uses it (`queries/<name>.sql`)."""
    from pathlib import Path

    return (Path(package_file).resolve().parent / "queries" / f"{name}.sql").read_text()


def system_insert(
    table: str,
    rows: Sequence[Any],
    column_names: Sequence[str],
    *,
    feature: str,
    settings: dict[str, Any] | None = None,
    column_oriented: bool = False,
) -> None:
    """Insert rows that may belong to many projects. Every row must carry project_id."""
    if "project_id" not in column_names:
        raise UnscopedQuery(f"insert into {table} without a project_id column")
    with _translate_errors():
        raw_client().insert(
            safe_identifier(table),
            rows,
            column_names=list(column_names),
            settings=_settings(feature, None, settings),
            column_oriented=column_oriented,
        )


_JSON_AS_TEXT = {
    "input_format_json_read_objects_as_strings": 1,
    "input_format_json_read_arrays_as_strings": 1,
    "input_format_json_read_numbers_as_strings": 1,
    "input_format_json_read_bools_as_strings": 1,
}


def system_insert_json(table: str, column_names: Sequence[str], block: bytes, *, feature: str) -> None:
    """Insert JSONCompactEachRow lines (one JSON array per row, in `column_names` order).

    The fast path for the ingest writer: rows are encoded by the request threads, and ClickHouse
    parses the block in C++. JSON objects in String columns are stored as their raw JSON text.
    """
    if "project_id" not in column_names:
        raise UnscopedQuery(f"insert into {table} without a project_id column")
    with _translate_errors():
        raw_client().raw_insert(
            safe_identifier(table),
            column_names=list(column_names),
            insert_block=block,
            settings=_settings(feature, None, _JSON_AS_TEXT),
            fmt="JSONCompactEachRow",
        )


def system_query(
    sql: str, params: dict[str, Any] | None = None, *, feature: str, settings: dict[str, Any] | None = None
) -> QueryResult:
    """A query across projects (metering, migrations, health). Named so reviews can find it."""
    with _translate_errors():
        result = raw_client().query(sql, parameters=params or {}, settings=_settings(feature, None, settings))
    return QueryResult(tuple(result.column_names), list(result.result_rows))


def system_command(sql: str, params: dict[str, Any] | None = None, *, feature: str) -> Any:
    with _translate_errors():
        return raw_client().command(sql, parameters=params or {}, settings=_settings(feature, None, None))


def ping() -> bool:
    try:
        return system_query("SELECT 1", feature="health").scalar() == 1
    except WarehouseUnavailable:
        return False


def store_problem() -> str:
    """Why this process cannot use ClickHouse right now ("" when it can). Embedded, the usual
    reason is another process (the running server) owning the chDB directory."""
    try:
        system_query("SELECT 1", feature="health")
    except WarehouseUnavailable as exc:
        return exc.message
    return ""
