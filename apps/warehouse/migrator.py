"""Applying numbered ClickHouse migrations (`manage.py migrate_clickhouse`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from apps.warehouse import client, ddl

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class Migration:
    name: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def statements(self) -> list[ddl.Statement]:
        return ddl.split_statements(self.text)


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    files = sorted(p for p in directory.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    return [Migration(p.stem, p.read_text()) for p in files]


def render_all(migrations: list[Migration], *, database: str, cluster: str) -> dict[str, list[str]]:
    """Every migration's SQL as it would run, keyed by migration name."""
    replicated: set[str] = set()
    rendered: dict[str, list[str]] = {}
    for migration in migrations:
        statements = migration.statements
        replicated.update(ddl.tables_created(statements))
        rendered[migration.name] = [
            sql
            for statement in statements
            for sql in ddl.render(statement, database=database, cluster=cluster, replicated_tables=replicated)
        ]
    return rendered


def applied() -> dict[str, str]:
    info = client.connection_info()
    client.system_command(
        ddl.migrations_table_ddl(database=info.database, cluster=info.cluster), feature="migrate"
    )
    result = client.system_query("SELECT name, checksum FROM switchyard_migrations FINAL", feature="migrate")
    return {name: checksum for name, checksum in result.rows}


@dataclass(frozen=True)
class PlanItem:
    name: str
    statements: list[str]
    changed_since_applied: bool = False


def plan() -> list[PlanItem]:
    info = client.connection_info()
    migrations = discover()
    done = applied()
    rendered = render_all(migrations, database=info.database, cluster=info.cluster)
    items = []
    for migration in migrations:
        if migration.name not in done:
            items.append(PlanItem(migration.name, rendered[migration.name]))
        elif done[migration.name] != migration.checksum:
            items.append(PlanItem(migration.name, [], changed_since_applied=True))
    return items


def migrate() -> list[str]:
    """Apply pending migrations in order; returns their names. Safe to run again."""
    ran = []
    checksums = {m.name: m.checksum for m in discover()}
    for item in plan():
        if item.changed_since_applied:
            continue
        for sql in item.statements:
            client.system_command(sql, feature="migrate")
        client.system_command(
            "INSERT INTO switchyard_migrations (name, checksum) VALUES ({name:String}, {checksum:String})",
            {"name": item.name, "checksum": checksums[item.name]},
            feature="migrate",
        )
        ran.append(item.name)
    return ran
