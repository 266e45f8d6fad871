"""Versioned schema migrations: numbered SQL files in store/migrations, each applied once, atomically."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from store.errors import MigrationError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    """One numbered schema step."""

    version: int
    name: str
    sql: str


def available(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration file in order; gaps or duplicate numbers are an error."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise MigrationError(f"bad migration file name: {path.name} (want NNNN_name.sql)")
        found.append(Migration(int(m.group(1)), m.group(2), path.read_text()))
    for expected, mig in enumerate(found, start=1):
        if mig.version != expected:
            raise MigrationError(f"migration numbers must run 1..N without gaps; found {mig.version}")
    return found


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema version of an open database (0 when empty)."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply pending migrations, each in its own transaction; returns the versions applied."""
    steps = available(directory)
    have = current_version(con)
    if have > len(steps):
        raise MigrationError(
            f"database schema is version {have} but this ogwatch knows only {len(steps)}: upgrade ogwatch"
        )
    applied = []
    for mig in steps[have:]:
        try:
            con.execute("BEGIN TRANSACTION")
            con.execute(mig.sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, now())", [mig.version, mig.name]
            )
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise MigrationError(f"migration {mig.version:04d}_{mig.name} failed: {exc}") from exc
        applied.append(mig.version)
    return applied
