"""Writes of chain-derived data: a span's rows, blocks and checkpoint together; reorg rollbacks.

Everything a collector learns about a block range lands in one transaction with its checkpoint, so
a crash leaves either all of it or none. Inserts ignore rows already present (natural keys), so
re-running a range is harmless.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from store import verification_summary

if TYPE_CHECKING:
    import pandas as pd


def chain_tables(cur: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(table, block column) of every table holding chain data: a rollback trims all of them.

    Found from the schema, so a table added by a later migration is covered without a list to keep:
    any table with a `chain_id` and a `block_number` column, plus `blocks` itself.
    """
    rows = cur.execute("""
        SELECT table_name FROM information_schema.columns WHERE column_name IN ('chain_id', 'block_number')
        GROUP BY table_name HAVING count(*) = 2 ORDER BY table_name""").fetchall()
    return [("blocks", "number"), *((str(r[0]), "block_number") for r in rows)]


@dataclass(frozen=True)
class Checkpoint:
    """How far a collector has indexed a chain."""

    collector: str
    chain_id: int
    genesis_hash: str
    block_number: int
    block_hash: str


def get_checkpoint(cur: duckdb.DuckDBPyConnection, collector: str, chain_id: int) -> Checkpoint | None:
    """The stored checkpoint, if any."""
    row = cur.execute("SELECT genesis_hash, block_number, block_hash FROM checkpoints WHERE collector=? AND chain_id=?",
                      [collector, chain_id]).fetchone()
    return Checkpoint(collector, chain_id, row[0], int(row[1]), row[2]) if row else None


def insert_rows(cur: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame | pa.Table) -> None:
    """Insert a DataFrame or Arrow table whose columns match the table's, ignoring rows already stored."""
    if not len(df):
        return
    cur.register("_rows", df)
    try:
        cols = ", ".join(f'"{c}"' for c in (df.column_names if isinstance(df, pa.Table) else df.columns))
        cur.execute(f'INSERT OR IGNORE INTO "{table}" ({cols}) SELECT {cols} FROM _rows')  # noqa: S608 - names from code
    finally:
        cur.unregister("_rows")


def insert_span_rows(cur: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, block_col: str = "block_number",
                     *, distinct: bool = False) -> None:
    """Insert one chain's rows of a block range, ignoring rows already stored.

    When the caller knows the rows' natural keys are distinct (`distinct`) and the table holds nothing of
    this chain in the rows' block range, no row can conflict: a plain INSERT then does the same as
    INSERT OR IGNORE at a fraction of the cost (DuckDB's conflict handling is the slow part of a write).
    """
    if not len(rows):
        return
    if distinct:
        span = pc.min_max(rows[block_col])
        stored = cur.execute(f'SELECT 1 FROM "{table}" WHERE chain_id=? AND "{block_col}" BETWEEN ? AND ? '  # noqa: S608
                             "LIMIT 1", [rows["chain_id"][0].as_py(), span["min"].as_py(), span["max"].as_py()])
        if not stored.fetchall():  # fetchall: DuckDB wants a result finished before the next statement
            cur.register("_rows", rows)
            try:
                cur.execute(f'INSERT INTO "{table}" SELECT * FROM _rows')  # noqa: S608 - names from code
            finally:
                cur.unregister("_rows")
            return
    insert_rows(cur, table, rows)


def write_span(cur: duckdb.DuckDBPyConnection, cp: Checkpoint, tables: dict[str, pa.Table],
               blocks: list[tuple[int, str, str, int]], *, distinct: bool = False) -> None:
    """Rows, block headers (number, hash, parent hash, unix ts) and the new checkpoint, in the caller's txn.

    `distinct`: the rows' (block_number, log_index) are known to be distinct (see insert_span_rows); each
    table's columns are in table order, chain_id first (collectors.decode.to_arrow).
    """
    write_rows(cur, tables, distinct=distinct)
    write_blocks(cur, cp, blocks)


def write_rows(cur: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table], *, distinct: bool = False) -> None:
    """A span's rows per table (see write_span), without its blocks and checkpoint."""
    for table, rows in tables.items():
        insert_span_rows(cur, table, rows, distinct=distinct)


def write_blocks(cur: duckdb.DuckDBPyConnection, cp: Checkpoint, blocks: list[tuple[int, str, str, int]]) -> None:
    """Block headers (number, hash, parent hash, unix ts; ascending, no number twice) and the checkpoint.

    The engine writes these once per commit unit, for all of its spans, just before the unit commits: in the
    same transaction as the rows, so a crash still leaves rows, blocks and checkpoint together.
    """
    if blocks:
        number, hsh, parent, ts = zip(*blocks, strict=True)
        pool = pa.system_memory_pool()
        insert_span_rows(cur, "blocks", pa.table({
            "chain_id": pa.array([cp.chain_id] * len(blocks), pa.int64(), memory_pool=pool),
            "number": pa.array(number, pa.int64(), memory_pool=pool),
            "hash": pa.array(hsh, pa.string(), memory_pool=pool),
            "parent_hash": pa.array(parent, pa.string(), memory_pool=pool),
            "ts": pa.array(ts, pa.timestamp("s", tz="UTC"), memory_pool=pool)}), "number", distinct=True)
    cur.execute("INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?, ?, ?)",
                [cp.collector, cp.chain_id, cp.genesis_hash, cp.block_number, cp.block_hash, datetime.now(UTC)])


def stored_hashes(cur: duckdb.DuckDBPyConnection, chain_id: int, below: int, limit: int) -> list[tuple[int, str]]:
    """Our stored block hashes at or below a height, newest first."""
    return [(int(n), str(h)) for n, h in cur.execute(
        "SELECT number, hash FROM blocks WHERE chain_id=? AND number<=? ORDER BY number DESC LIMIT ?",
        [chain_id, below, limit]).fetchall()]


def rollback_above(cur: duckdb.DuckDBPyConnection, chain_id: int, fork_block: int, fork_hash: str | None,
                   old_hash: str, new_hash: str) -> dict[str, int]:
    """Remove everything above the fork point, pull every checkpoint back to it, record the reorg."""
    verification_summary.rollback(cur, chain_id, fork_block)  # before its source rows go (it reads them)
    removed: dict[str, int] = {}
    for table, col in chain_tables(cur):
        n = cur.execute(f'DELETE FROM "{table}" WHERE chain_id=? AND {col}>?',  # noqa: S608 - names from code
                        [chain_id, fork_block]).fetchone()
        removed[table] = int(n[0]) if n else 0
    if fork_hash is None:  # nothing in common: start again from scratch
        cur.execute("DELETE FROM checkpoints WHERE chain_id=?", [chain_id])
    else:
        cur.execute("UPDATE checkpoints SET block_number=?, block_hash=? WHERE chain_id=? AND block_number>?",
                    [fork_block, fork_hash, chain_id, fork_block])
    cur.execute("INSERT INTO reorgs VALUES (?, ?, ?, ?, ?, ?)",
                [chain_id, datetime.now(UTC), fork_block, old_hash, new_hash, json.dumps(removed, sort_keys=True)])
    return removed


def forget_chain(cur: duckdb.DuckDBPyConnection, chain_id: int) -> None:
    """Drop all of a chain's data and checkpoints (a devnet restarted with a new genesis)."""
    verification_summary.forget(cur, chain_id)
    for table, _col in chain_tables(cur):
        cur.execute(f'DELETE FROM "{table}" WHERE chain_id=?', [chain_id])  # noqa: S608 - names from the schema
    cur.execute("DELETE FROM checkpoints WHERE chain_id=?", [chain_id])


def record_health(cur: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> None:
    """One collector tick's outcome for the data-health strip."""
    cols = ["collector", "chain_id", "observed_at", "ok", "head_block", "indexed_block", "head_ts", "error",
            "events", "blocks", "rpc_calls", "retries", "duration_ms"]
    cur.execute(f"INSERT INTO collector_health ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",  # noqa: S608
                [row.get(c) for c in cols])


def record_capabilities(cur: duckdb.DuckDBPyConnection, chain_id: int, url: str, caps: dict[str, Any]) -> None:
    """Store what a node was found able to do (timestamps in logs, once seen, stay known)."""
    seen = cur.execute("SELECT block_timestamps_in_logs FROM node_capabilities WHERE chain_id=? AND url=?",
                       [chain_id, url]).fetchone()
    caps = {**caps, "block_timestamps_in_logs": bool(caps["block_timestamps_in_logs"] or (seen and seen[0]))}
    cur.execute("INSERT OR REPLACE INTO node_capabilities VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [chain_id, url, datetime.now(UTC), caps["traces"], caps["debug_trace"], caps.get("state_depth"),
                 caps.get("max_batch"), caps["block_timestamps_in_logs"]])
