"""Schema migrations: applied once, in order, atomically; a newer file is refused."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from store import migrate
from store.db import Store
from store.errors import MigrationError


def _tables(path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        con.close()


def test_fresh_store_reaches_latest_and_rerun_is_noop(tmp_path) -> None:
    latest = len(migrate.available())
    with Store(tmp_path / "s.duckdb", serve=False) as s:
        assert s.applied == list(range(1, latest + 1))
        assert int(s.query("schema_version")["version"].iloc[0]) == latest
    with Store(tmp_path / "s.duckdb", serve=False) as s:
        assert s.applied == []
    assert {"checkpoints", "blocks", "state_reads", "collector_health", "service_heartbeats"} <= _tables(
        tmp_path / "s.duckdb")


def test_failed_migration_rolls_back_and_keeps_data(tmp_path) -> None:
    mdir = tmp_path / "migs"
    shutil.copytree(migrate.MIGRATIONS_DIR, mdir)
    db = tmp_path / "s.duckdb"
    con = duckdb.connect(str(db))
    migrate.migrate(con, mdir)
    con.execute("INSERT INTO blocks VALUES (1, 5, '0xh', '0xp', now())")
    n = len(migrate.available(mdir))
    (mdir / f"{n + 1:04d}_broken.sql").write_text(
        "CREATE TABLE half_done (a INT);\n"
        "INSERT INTO blocks VALUES (1, 6, '0xh', '0xp', now());\n"
        "SELECT nope FROM nowhere;")
    with pytest.raises(MigrationError, match=f"{n + 1:04d}_broken"):
        migrate.migrate(con, mdir)
    assert migrate.current_version(con) == n
    assert con.execute("SELECT count(*) FROM blocks").fetchone() == (1,)
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name='half_done'").fetchone() == (0,)
    con.close()


def test_newer_schema_is_refused(tmp_path) -> None:
    db = tmp_path / "s.duckdb"
    with Store(db, serve=False):
        pass
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO schema_migrations VALUES (999, 'from_the_future', now())")
    con.close()
    with pytest.raises(MigrationError, match="version 999"):
        Store(db, serve=False)


@pytest.mark.parametrize("name", ["1_x.sql", "0001-x.sql", "0001_X.sql"])
def test_bad_migration_names(tmp_path, name) -> None:
    (tmp_path / name).write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="bad migration file name"):
        migrate.available(tmp_path)


def test_gap_in_numbers(tmp_path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0003_c.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="without gaps"):
        migrate.available(tmp_path)
