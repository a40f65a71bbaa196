"""Rendering migration DDL for one server or a cluster.

Migrations are written once, for a single server, in `migrations/NNNN_name.sql`. With
`CLICKHOUSE_CLUSTER` set, each statement is rewritten:

- `CREATE TABLE t (...) ENGINE = XMergeTree(args) ...` becomes a `t_local` table
  `ON CLUSTER` with `ReplicatedXMergeTree('/clickhouse/tables/{shard}/<db>/t_local', '{replica}', args)`
  plus a `Distributed` table `t` over it, sharded by the statement's `-- sharding_key: <expr>`
  directive (default `cityHash64(project_id)`). Queries keep using `t` in both modes.
- `CREATE MATERIALIZED VIEW v TO t AS SELECT … FROM s` runs on every node against the local tables.
- `ALTER TABLE t …` alters `t_local`, and `t` too when columns change.
- `DROP TABLE t` drops both.
- `INSERT INTO t … SELECT …` (a backfill) runs once, as written: it reads and writes the
  Distributed tables, which send each row to its shard by the target's sharding key.
Anything else is refused in cluster mode rather than half-applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_SHARDING_KEY = "cityHash64(project_id)"

_CREATE_TABLE = re.compile(
    r"^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>\w+)\s*(?P<body>\(.*\))\s*"
    r"ENGINE\s*=\s*(?P<engine>\w*MergeTree)(?:\s*\((?P<args>[^)]*)\))?(?P<rest>.*)$",
    re.S | re.I,
)
_CREATE_MV = re.compile(
    r"^CREATE\s+MATERIALIZED\s+VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>\w+)\s+TO\s+(?P<target>\w+)\s+"
    r"(?P<rest>AS\s+SELECT.*)$",
    re.S | re.I,
)
_ALTER = re.compile(r"^ALTER\s+TABLE\s+(?P<name>\w+)\s+(?P<ops>.*)$", re.S | re.I)
_DROP = re.compile(r"^DROP\s+(?P<kind>TABLE|VIEW)\s+(?:IF\s+EXISTS\s+)?(?P<name>\w+)\s*$", re.S | re.I)
_INSERT_SELECT = re.compile(r"^INSERT\s+INTO\s+(?P<name>\w+)\s+SELECT\b", re.S | re.I)
_DIRECTIVE = re.compile(r"^--\s*sharding_key:\s*(?P<expr>.+?)\s*$", re.M)
_COLUMN_OPS = re.compile(r"\b(ADD|DROP|MODIFY|RENAME|COMMENT)\s+COLUMN\b", re.I)


@dataclass(frozen=True)
class Statement:
    sql: str
    sharding_key: str


def split_statements(text: str) -> list[Statement]:
    """Split a migration file on `;` at line ends; comments go, `sharding_key` directives stay."""
    out: list[Statement] = []
    for chunk in re.split(r";\s*(?:\n|$)", text):
        directive = _DIRECTIVE.search(chunk)
        lines = [line for line in chunk.splitlines() if not line.strip().startswith("--")]
        sql = "\n".join(lines).strip()
        if sql:
            out.append(Statement(sql, directive.group("expr") if directive else DEFAULT_SHARDING_KEY))
    return out


def tables_created(statements: list[Statement]) -> list[str]:
    return [m.group("name") for s in statements if (m := _CREATE_TABLE.match(s.sql))]


class UnsupportedClusterDDL(ValueError):
    pass


def render(statement: Statement, *, database: str, cluster: str, replicated_tables: set[str]) -> list[str]:
    """The SQL to run for one migration statement: itself, or its cluster form."""
    if not cluster:
        return [statement.sql]
    on = f"ON CLUSTER '{cluster}'"

    def local(sql: str) -> str:
        for table in sorted(replicated_tables, key=len, reverse=True):
            sql = re.sub(rf"\b(FROM|JOIN)\s+{table}\b", rf"\1 {table}_local", sql, flags=re.I)
        return sql

    if m := _CREATE_TABLE.match(statement.sql):
        name, engine, args = m.group("name"), m.group("engine"), (m.group("args") or "").strip()
        zk = f"'/clickhouse/tables/{{shard}}/{database}/{name}_local', '{{replica}}'"
        replicated_args = f"{zk}, {args}" if args else zk
        return [
            f"CREATE TABLE IF NOT EXISTS {name}_local {on}\n{m.group('body')}\n"
            f"ENGINE = Replicated{engine}({replicated_args}){m.group('rest')}",
            f"CREATE TABLE IF NOT EXISTS {name} {on} AS {name}_local\n"
            f"ENGINE = Distributed('{cluster}', '{database}', '{name}_local', {statement.sharding_key})",
        ]
    if m := _CREATE_MV.match(statement.sql):
        return [
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {m.group('name')} {on} TO {m.group('target')}_local\n"
            f"{local(m.group('rest'))}"
        ]
    if m := _ALTER.match(statement.sql):
        name, ops = m.group("name"), m.group("ops")
        if name not in replicated_tables:
            raise UnsupportedClusterDDL(f"ALTER of a table no migration created: {name}")
        out = [f"ALTER TABLE {name}_local {on} {ops}"]
        if _COLUMN_OPS.search(ops):
            out.append(f"ALTER TABLE {name} {on} {ops}")
        return out
    if m := _DROP.match(statement.sql):
        kind, name = m.group("kind").upper(), m.group("name")
        out = [f"DROP {kind} IF EXISTS {name} {on} SYNC"]
        if kind == "TABLE" and name in replicated_tables:
            out.append(f"DROP TABLE IF EXISTS {name}_local {on} SYNC")
        return out
    if m := _INSERT_SELECT.match(statement.sql):
        if m.group("name") not in replicated_tables:
            raise UnsupportedClusterDDL(f"INSERT into a table no migration created: {m.group('name')}")
        return [statement.sql]
    raise UnsupportedClusterDDL(f"cannot render for a cluster: {statement.sql.splitlines()[0][:80]}")


def migrations_table_ddl(*, database: str, cluster: str) -> str:
    """The bookkeeping table. On a cluster every replica of every shard shares one copy."""
    columns = "(name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))"
    if not cluster:
        return f"CREATE TABLE IF NOT EXISTS switchyard_migrations {columns} ENGINE = ReplacingMergeTree ORDER BY name"
    return (
        f"CREATE TABLE IF NOT EXISTS switchyard_migrations ON CLUSTER '{cluster}' {columns} "
        f"ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/switchyard_migrations', "
        f"'{{replica}}') ORDER BY name"
    )
