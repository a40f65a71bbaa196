"""Migrations: numbered, recorded, idempotent; cluster DDL pinned by snapshots.

Set UPDATE_SNAPSHOTS=1 to rewrite the snapshot files after an intended DDL change.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.warehouse import client as warehouse
from apps.warehouse import ddl, migrator

SNAPSHOTS = Path(__file__).parent / "snapshots"


def _rendered(cluster: str) -> str:
    rendered = migrator.render_all(migrator.discover(), database="switchyard", cluster=cluster)
    parts = [ddl.migrations_table_ddl(database="switchyard", cluster=cluster) + ";"]
    for name, statements in rendered.items():
        parts.append(f"-- {name}")
        parts.extend(s.rstrip() + ";" for s in statements)
    return "\n\n".join(parts) + "\n"


@pytest.mark.parametrize(("mode", "cluster"), [("single", ""), ("cluster", "switchyard_cluster")])
def test_ddl_matches_snapshot(mode: str, cluster: str) -> None:
    path = SNAPSHOTS / f"ddl_{mode}.sql"
    text = _rendered(cluster)
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.write_text(text)
    assert path.exists(), f"missing snapshot {path}; run with UPDATE_SNAPSHOTS=1"
    assert text == path.read_text()


def test_cluster_ddl_uses_replicated_engines_and_distributed_tables() -> None:
    text = _rendered("c1")
    for table in ddl.tables_created([s for m in migrator.discover() for s in m.statements]):
        assert f"CREATE TABLE IF NOT EXISTS {table}_local ON CLUSTER 'c1'" in text
        assert f"Distributed('c1', 'switchyard', '{table}_local'" in text
    assert "ENGINE = MergeTree" not in text and "ENGINE = ReplacingMergeTree(" not in text
    assert (
        "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/switchyard/llm_calls_local', '{replica}', revision)"
        in text
    )
    assert "TO llm_calls_1m_local" in text and "FROM llm_calls_local" in text


def test_cluster_mode_refuses_statements_it_cannot_render() -> None:
    with pytest.raises(ddl.UnsupportedClusterDDL):
        ddl.render(
            ddl.Statement("OPTIMIZE TABLE llm_calls FINAL", ""),
            database="d",
            cluster="c",
            replicated_tables=set(),
        )


def test_alter_renders_for_local_and_distributed() -> None:
    statement = ddl.Statement("ALTER TABLE llm_calls ADD COLUMN x UInt8", "")
    out = ddl.render(statement, database="d", cluster="c", replicated_tables={"llm_calls"})
    assert out == [
        "ALTER TABLE llm_calls_local ON CLUSTER 'c' ADD COLUMN x UInt8",
        "ALTER TABLE llm_calls ON CLUSTER 'c' ADD COLUMN x UInt8",
    ]


def test_a_backfill_runs_as_written_over_the_distributed_tables() -> None:
    sql = "INSERT INTO llm_spend_key_days SELECT * FROM llm_spend_keys_1d"
    out = ddl.render(ddl.Statement(sql, ""), database="d", cluster="c", replicated_tables={"llm_spend_key_days"})
    assert out == [sql]
    with pytest.raises(ddl.UnsupportedClusterDDL):
        ddl.render(ddl.Statement("INSERT INTO elsewhere SELECT 1", ""), database="d", cluster="c", replicated_tables=set())


def test_migrate_is_recorded_and_idempotent(capsys: pytest.CaptureFixture[str]) -> None:
    names = [m.name for m in migrator.discover()]
    assert set(migrator.applied()) == set(names)
    assert migrator.migrate() == []
    call_command("migrate_clickhouse", "--plan")
    assert "nothing to apply" in capsys.readouterr().out
    tables = {r[0] for r in warehouse.system_query("SHOW TABLES", feature="test").rows}
    assert {"llm_calls", "llm_calls_1m", "llm_calls_1h", "llm_feedback", "switchyard_migrations"} <= tables


def test_migrations_are_numbered_without_gaps() -> None:
    numbers = [int(m.name[:4]) for m in migrator.discover()]
    assert numbers == list(range(1, len(numbers) + 1))


def _parses(statement: str) -> bool:
    """ClickHouse's own parser (formatQuery parses without running): ON CLUSTER DDL cannot run on
    the embedded server, which has no cluster or Keeper, but its syntax can be checked there."""
    try:
        warehouse.system_query("SELECT formatQuery({q:String})", {"q": statement}, feature="test")
    except warehouse.WarehouseUnavailable:
        return False
    return True


def test_cluster_ddl_parses_in_clickhouse() -> None:
    rendered = migrator.render_all(migrator.discover(), database="switchyard", cluster="switchyard")
    statements = [ddl.migrations_table_ddl(database="switchyard", cluster="switchyard")]
    statements += [s for batch in rendered.values() for s in batch]
    assert len(statements) > len(rendered)
    assert [s[:80] for s in statements if not _parses(s)] == []
    with_engine = next(s for s in reversed(statements) if "ENGINE" in s)
    assert not _parses(with_engine.replace("ENGINE", "ENGIN", 1))
