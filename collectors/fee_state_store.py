"""What the fee-state collector reads from and writes to the store (tables of migration 0004).

Reads: each market's last reading (`market_state`), the setter events the log engine indexed
(`market_events`) and its checkpoint. Writes: a tick's readings, changes and coverage, in the caller's
transaction; every insert ignores rows already present, so writing a tick twice adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from collectors.fee_state_read import State, from_text, to_text
from collectors.fee_state_steps import Step
from store import chainwrite

CHANGE_COLUMNS = ("chain_id", "address", "field", "old", "new", "old_f", "new_f", "block_number", "block_from",
                  "tx_hash", "tx_index", "sender", "caller", "tx_to", "path", "detected_by", "precision", "note",
                  "detected_at")
COVERAGE_COLUMNS = ("chain_id", "block_from", "block_number", "markets", "traces", "events", "state_from", "note",
                    "rpc_calls", "checked_at")


def last_readings(cur: duckdb.DuckDBPyConnection, chain_id: int,
                  addresses: Sequence[str]) -> dict[str, tuple[int, State]]:
    """Each market's latest stored reading: (block, state)."""
    rows = cur.execute("""
        SELECT s.address, s.block_number, s.field, s.value FROM market_state s
        JOIN (SELECT address, max(block_number) AS b FROM market_state WHERE chain_id = ? GROUP BY address) m
          ON s.address = m.address AND s.block_number = m.b
        WHERE s.chain_id = ?""", [chain_id, chain_id]).fetchall()
    wanted, out = set(addresses), dict[str, tuple[int, State]]()
    for address, block, field, value in rows:
        if address in wanted:
            out.setdefault(address, (int(block), {}))[1][field] = from_text(field, value)
    return out


def events_checkpoint(cur: duckdb.DuckDBPyConnection, collector: str, chain_id: int) -> int | None:
    """How far the log engine has indexed this chain's setter events (None: not indexed here)."""
    cp = chainwrite.get_checkpoint(cur, collector, chain_id)
    return cp.block_number if cp else None


def setter_events(cur: duckdb.DuckDBPyConnection, chain_id: int, address: str, lo: int, hi: int) -> list[Step]:
    """A market's setter events in blocks [lo, hi] as steps (who sent them is filled in later)."""
    rows = cur.execute("""
        SELECT block_number, tx_hash, tx_index, log_index, field, value FROM market_events
        WHERE chain_id = ? AND address = ? AND block_number BETWEEN ? AND ?
        ORDER BY block_number, log_index""", [chain_id, address, lo, hi]).fetchall()
    return [Step(address, str(f), from_text(str(f), v), int(b), (int(b), int(i), int(li)), str(h), int(i))
            for b, h, i, li, f, v in rows]


def write_tick(cur: duckdb.DuckDBPyConnection, chain_id: int, block: int, states: dict[str, State],
               changes: Sequence[dict[str, Any]], coverage: dict[str, Any] | None) -> None:
    """One tick's readings, changes and coverage row (in the caller's transaction)."""
    readings = [(chain_id, address, block, f, *to_text(f, v)) for address, st in states.items() for f, v in st.items()]
    if readings:
        cur.executemany("INSERT OR IGNORE INTO market_state VALUES (?, ?, ?, ?, ?, ?)", readings)
    _insert(cur, "fee_changes", CHANGE_COLUMNS, changes)
    if coverage is not None:
        _insert(cur, "fee_watch_coverage", COVERAGE_COLUMNS, [coverage])


def _insert(cur: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    cols, marks = ", ".join(columns), ", ".join("?" * len(columns))
    cur.executemany(f"INSERT OR IGNORE INTO {table} ({cols}) VALUES ({marks})",  # noqa: S608 - names from code
                    [[r.get(c) for c in columns] for r in rows])
