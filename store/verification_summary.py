"""Maintenance of the verification summaries (migration 0010): fold rows in, advance the watermark, roll back.

The summaries hold a chain's `inference_calls` rows with block_number <= its watermark; the queries
(store/queries_verification.py) read the rest from the rows themselves, so answers stay exact whatever the
watermark is. Every change runs in the caller's transaction:

- `fold`: add rows (given by a SELECT over `inference_calls`) to every summary and the per-chain coverage
  counts: the groups they touch are re-aggregated from their stored rows plus the new rows (sums, min / max),
  then replaced.
- `advance`: fold the rows above the watermark, at most `limit` rows' worth of blocks per call, and raise it.
- `rollback`: before a reorg deletes rows above a fork below the watermark, recompute the groups those rows
  touch from the rows at or below the fork and lower the watermark to the fork.
- `forget`: drop a chain's summaries (its data is being dropped).

`python -m store.verification_summary PATH` fills the summaries of an existing store in one go.
"""

# ruff: noqa: S608 - table and column names come from this module; every value is bound
from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

STATE = "verification_summary_state"
ADVANCE_ROWS = 100_000  # rows folded per advance step: bounded work per job tick (~1 s at 1M rows, loaded)
_DELTA = "_vs_delta"


@dataclass(frozen=True)
class TimeTable:
    """A summary table grouped by a UTC time bucket and some row columns."""

    name: str
    time_col: str
    seconds: int
    keys: tuple[str, ...]     # grouping columns besides chain_id and the time bucket
    blocks: bool              # carries first_block / last_block

    def time_expr(self, ts: str = "block_ts") -> str:
        """The bucket of a row's block time."""
        return f"{ts} // {self.seconds} * {self.seconds}"

    def aggregate(self, source: str) -> str:
        """SELECT of this table's rows from `inference_calls`-shaped rows of `source`."""
        keys = ", ".join(self.keys).replace("ckey", "lower(coalesce(caller, sender, '')) AS ckey")
        measures = "count(*) AS n" + (", min(block_number) AS first_block, max(block_number) AS last_block"
                                      if self.blocks else "")
        return (f"SELECT chain_id, {self.time_expr()} AS {self.time_col}, {keys}, {measures} "
                f"FROM {source} GROUP BY ALL")

    def combine(self) -> str:
        """Aggregates that merge stored rows of this table with new ones."""
        return "CAST(sum(n) AS BIGINT) AS n" + (", min(first_block) AS first_block, max(last_block) AS last_block"
                                                 if self.blocks else "")

    def columns(self) -> str:
        """Column list in table order."""
        return ", ".join(("chain_id", self.time_col, *self.keys, "n", *(("first_block", "last_block")
                                                                          if self.blocks else ())))


_CALLER_KEYS = ("caller", "ckey", "kind", "mode", "is_simulation", "caller_precision")
TIME_TABLES = (
    TimeTable("verification_caller_hours", "hour", 3600, _CALLER_KEYS, True),
    TimeTable("verification_caller_days", "day", 86400, _CALLER_KEYS, True),
    TimeTable("verification_model_hours", "hour", 3600, ("kind", "mode", "model", "is_simulation"), False),
    TimeTable("verification_mode_hours", "hour", 3600, ("mode", "is_simulation"), False),
)
SENDERS = "verification_senders"
SENDER_HISTOGRAMS = (("verification_sender_days", "day", 86400), ("verification_sender_hours", "hour", 3600))
_PAIR_AGG = """SELECT chain_id, caller, sender, count(*) AS n, min(block_number) AS first_block,
       max(block_number) AS last_block, max(block_ts) AS last_ts FROM {source} WHERE sender IS NOT NULL GROUP BY ALL"""
_PAIR_MATCH = "p.chain_id = d.chain_id AND p.caller IS NOT DISTINCT FROM d.caller AND p.sender = d.sender"


def _run(cur: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> None:
    """One statement, its result finished (DuckDB wants that before the connection's next statement)."""
    cur.execute(sql, params or []).fetchall()


def watermark(cur: duckdb.DuckDBPyConnection, chain_id: int) -> int | None:
    """The highest block whose rows the summaries hold (None: none)."""
    row = cur.execute(f"SELECT watermark FROM {STATE} WHERE chain_id = ?", [chain_id]).fetchone()
    return int(row[0]) if row else None


def _set_watermark(cur: duckdb.DuckDBPyConnection, chain_id: int, block: int) -> None:
    _run(cur, f"INSERT OR REPLACE INTO {STATE} VALUES (?, ?, ?)", [chain_id, block, datetime.now(UTC)])


def _merge_time(cur: duckdb.DuckDBPyConnection, t: TimeTable) -> None:
    """Replace the (chain, bucket) groups the delta touches by stored + new, re-aggregated."""
    touched = f"(SELECT DISTINCT chain_id, {t.time_expr()} AS b FROM {_DELTA})"
    where = (f"EXISTS (SELECT 1 FROM {touched} k WHERE k.chain_id = s.chain_id "
             f"AND k.b IS NOT DISTINCT FROM s.{t.time_col})")
    _run(cur, f"""CREATE OR REPLACE TEMP TABLE _vs_merged AS
        SELECT chain_id, {t.time_col}, {", ".join(t.keys)}, {t.combine()} FROM (
            SELECT {t.columns()} FROM {t.name} s WHERE {where}
            UNION ALL BY NAME {t.aggregate(_DELTA)}) GROUP BY ALL""")
    _run(cur, f"DELETE FROM {t.name} s WHERE {where}")
    _run(cur, f"INSERT INTO {t.name} SELECT {t.columns()} FROM _vs_merged ORDER BY {t.time_col}")  # zone maps
    _run(cur, "DROP TABLE _vs_merged")


def _merge_histogram(cur: duckdb.DuckDBPyConnection, table: str, col: str, seconds: int) -> None:
    """Add the pair changes of `_vs_hd` (+1 new, -1 replaced, at their last block time) to a histogram table."""
    _run(cur, f"""CREATE OR REPLACE TEMP TABLE _vs_hdelta AS SELECT chain_id, caller, last_ts // {seconds} * {seconds}
                    AS b, sum(k) AS pairs FROM _vs_hd GROUP BY ALL""")
    match = "h.chain_id = d.chain_id AND h.caller IS NOT DISTINCT FROM d.caller AND h.{col} IS NOT DISTINCT FROM d.b"
    where = f"EXISTS (SELECT 1 FROM _vs_hdelta d WHERE {match.format(col=col)})"
    _run(cur, f"""CREATE OR REPLACE TEMP TABLE _vs_hmerged AS
        SELECT chain_id, caller, b, CAST(sum(pairs) AS BIGINT) AS pairs FROM (
            SELECT chain_id, caller, {col} AS b, pairs FROM {table} h WHERE {where}
            UNION ALL SELECT chain_id, caller, b, pairs FROM _vs_hdelta) GROUP BY ALL HAVING sum(pairs) <> 0""")
    _run(cur, f"DELETE FROM {table} h WHERE {where}")
    _run(cur, f"INSERT INTO {table} SELECT chain_id, caller, b, pairs FROM _vs_hmerged")
    _run(cur, "DROP TABLE _vs_hmerged; DROP TABLE _vs_hdelta")


def _replace_pairs(cur: duckdb.DuckDBPyConnection, new_sql: str, params: list[object]) -> None:
    """Replace the stored pairs of `_vs_old` by the rows `new_sql` returns; keep the histograms in step."""
    _run(cur, f"CREATE OR REPLACE TEMP TABLE _vs_new AS {new_sql}", params)
    _run(cur, """CREATE OR REPLACE TEMP TABLE _vs_hd AS SELECT chain_id, caller, last_ts, 1 AS k FROM _vs_new
                   UNION ALL SELECT chain_id, caller, last_ts, -1 FROM _vs_old""")
    _run(cur, f"DELETE FROM {SENDERS} p WHERE EXISTS (SELECT 1 FROM _vs_old d WHERE {_PAIR_MATCH})")
    _run(cur, f"INSERT INTO {SENDERS} SELECT * FROM _vs_new ORDER BY last_ts")  # zone maps for `since`
    for table, col, seconds in SENDER_HISTOGRAMS:
        _merge_histogram(cur, table, col, seconds)
    _run(cur, "DROP TABLE _vs_new; DROP TABLE _vs_hd; DROP TABLE _vs_old")


def _merge_senders(cur: duckdb.DuckDBPyConnection) -> None:
    _run(cur, f"""CREATE OR REPLACE TEMP TABLE _vs_old AS
        SELECT p.* FROM {SENDERS} p WHERE EXISTS (SELECT 1 FROM {_DELTA} d WHERE {_PAIR_MATCH})""")
    _replace_pairs(cur, f"""SELECT chain_id, caller, sender, CAST(sum(n) AS BIGINT) AS n,
               min(first_block) AS first_block, max(last_block) AS last_block, max(last_ts) AS last_ts FROM (
            SELECT * FROM _vs_old UNION ALL {_PAIR_AGG.format(source=_DELTA)}) GROUP BY ALL""", [])


_COVERAGE = "verification_coverage_counts"
_COVERAGE_COLS = ("derived", "caller_from_trace", "caller_from_tx_to", "paired_with_result", "workflow_linked",
                  "unmatched")
_COVERAGE_AGG = """SELECT d.chain_id, count(i.chain_id) AS derived,
       count(i.chain_id) FILTER (WHERE d.caller_precision = 'trace') AS caller_from_trace,
       count(i.chain_id) FILTER (WHERE d.caller_precision = 'tx_to') AS caller_from_tx_to,
       count(d.result_log_index) FILTER (WHERE i.chain_id IS NOT NULL) AS paired_with_result,
       count(d.workflow_log_index) FILTER (WHERE i.chain_id IS NOT NULL) AS workflow_linked,
       count(*) FILTER (WHERE i.chain_id IS NULL) AS unmatched
FROM {source} d LEFT JOIN (SELECT chain_id, block_number, log_index FROM inferences
                           WHERE block_number BETWEEN {low} AND {high}) i
  ON i.chain_id = d.chain_id AND i.block_number = d.block_number AND i.log_index = d.log_index
GROUP BY d.chain_id"""


def _merge_coverage(cur: duckdb.DuckDBPyConnection) -> None:
    """Add the delta's coverage counts (its calls matched with their inference rows now) to its chains'."""
    sums = ", ".join(f"CAST(sum({c}) AS BIGINT) AS {c}" for c in _COVERAGE_COLS)
    delta = _COVERAGE_AGG.format(source=_DELTA, low=f"(SELECT min(block_number) FROM {_DELTA})",
                                 high=f"(SELECT max(block_number) FROM {_DELTA})")
    _run(cur, f"""CREATE OR REPLACE TEMP TABLE _vs_cov AS SELECT chain_id, {sums} FROM (
        SELECT * FROM {_COVERAGE} WHERE chain_id IN (SELECT chain_id FROM {_DELTA})
        UNION ALL BY NAME {delta}) GROUP BY chain_id""")
    _run(cur, f"DELETE FROM {_COVERAGE} WHERE chain_id IN (SELECT chain_id FROM _vs_cov)")
    _run(cur, f"INSERT INTO {_COVERAGE} SELECT chain_id, {', '.join(_COVERAGE_COLS)} FROM _vs_cov")
    _run(cur, "DROP TABLE _vs_cov")


def fold(cur: duckdb.DuckDBPyConnection, source_sql: str, params: list[object]) -> int:
    """Add the `inference_calls` rows a SELECT returns to every summary; returns how many were folded.
    The caller keeps them disjoint from the rows already folded (blocks above the watermark, or new rows)."""
    _run(cur, f"CREATE OR REPLACE TEMP TABLE {_DELTA} AS {source_sql}", params)
    try:
        row = cur.execute(f"SELECT count(*) FROM {_DELTA}").fetchone()
        n = int(row[0]) if row else 0
        if n:
            for t in TIME_TABLES:
                _merge_time(cur, t)
            _merge_senders(cur)
            _merge_coverage(cur)
    finally:
        _run(cur, f"DROP TABLE IF EXISTS {_DELTA}")
    return n


def advance(cur: duckdb.DuckDBPyConnection, chain_id: int, limit: int | None = ADVANCE_ROWS) -> int:
    """Fold the rows above the watermark (about `limit` rows' worth of whole blocks; None: all) and raise it."""
    low = watermark(cur, chain_id)
    low = -1 if low is None else low
    top = cur.execute("SELECT max(block_number) FROM inference_calls WHERE chain_id = ? AND block_number > ?",
                      [chain_id, low]).fetchone()
    if not top or top[0] is None:
        return 0
    high = int(top[0])
    if limit is not None:
        cut = cur.execute("""SELECT block_number FROM inference_calls WHERE chain_id = ? AND block_number > ?
                             ORDER BY block_number LIMIT 1 OFFSET ?""", [chain_id, low, max(0, limit - 1)]).fetchone()
        high = int(cut[0]) if cut else high
    n = fold(cur, "SELECT * FROM inference_calls WHERE chain_id = ? AND block_number > ? AND block_number <= ?",
             [chain_id, low, high])
    _set_watermark(cur, chain_id, high)
    return n


def _recompute_time(cur: duckdb.DuckDBPyConnection, t: TimeTable, chain_id: int, fork: int) -> None:
    """Groups of buckets with rows above the fork: deleted, then aggregated again from the rows at or below it."""
    _run(cur, f"""CREATE OR REPLACE TEMP TABLE _vs_buckets AS
        SELECT DISTINCT {t.time_expr()} AS b FROM _vs_gone""")
    _run(cur, f"""DELETE FROM {t.name} s WHERE s.chain_id = ? AND EXISTS (
        SELECT 1 FROM _vs_buckets k WHERE k.b IS NOT DISTINCT FROM s.{t.time_col})""", [chain_id])
    kept = ("(SELECT * FROM inference_calls c WHERE c.chain_id = ? AND c.block_number <= ? AND EXISTS ("
            f"SELECT 1 FROM _vs_buckets k WHERE k.b IS NOT DISTINCT FROM {t.time_expr('c.block_ts')}))")
    _run(cur, f"INSERT INTO {t.name} SELECT {t.columns()} FROM ({t.aggregate(kept)})", [chain_id, fork])
    _run(cur, "DROP TABLE _vs_buckets")


def _recompute_senders(cur: duckdb.DuckDBPyConnection, chain_id: int, fork: int) -> None:
    _run(cur, f"""CREATE OR REPLACE TEMP TABLE _vs_old AS
        SELECT p.* FROM {SENDERS} p WHERE EXISTS (SELECT 1 FROM _vs_gone d WHERE {_PAIR_MATCH})""")
    kept = ("(SELECT * FROM inference_calls p WHERE p.chain_id = ? AND p.block_number <= ? "
            f"AND EXISTS (SELECT 1 FROM _vs_gone d WHERE {_PAIR_MATCH}))")
    _replace_pairs(cur, _PAIR_AGG.format(source=kept), [chain_id, fork])


def rollback(cur: duckdb.DuckDBPyConnection, chain_id: int, fork: int) -> None:
    """Before rows above `fork` are deleted: make the summaries hold exactly the rows at or below it."""
    high = watermark(cur, chain_id)
    if high is None or high <= fork:
        return  # the summaries hold nothing above the fork
    _run(cur, """CREATE OR REPLACE TEMP TABLE _vs_gone AS SELECT * FROM inference_calls
                   WHERE chain_id = ? AND block_number > ? AND block_number <= ?""", [chain_id, fork, high])
    try:
        for t in TIME_TABLES:
            _recompute_time(cur, t, chain_id, fork)
        _recompute_senders(cur, chain_id, fork)
        _run(cur, f"DELETE FROM {_COVERAGE} WHERE chain_id = ?", [chain_id])
        kept = "(SELECT * FROM inference_calls WHERE chain_id = ? AND block_number <= ?)"
        _run(cur, f"INSERT INTO {_COVERAGE} {_COVERAGE_AGG.format(source=kept, low=-1, high='?')}",
             [chain_id, fork, fork])
    finally:
        _run(cur, "DROP TABLE IF EXISTS _vs_gone")
    _set_watermark(cur, chain_id, fork)


def forget(cur: duckdb.DuckDBPyConnection, chain_id: int) -> None:
    """Drop every summary row and the watermark of a chain."""
    for table in (*(t.name for t in TIME_TABLES), SENDERS, *(h[0] for h in SENDER_HISTOGRAMS), _COVERAGE, STATE):
        _run(cur, f"DELETE FROM {table} WHERE chain_id = ?", [chain_id])


def fill(cur: duckdb.DuckDBPyConnection) -> int:
    """Advance every chain with rows to its newest block (the seeder; an existing store's one-off fill)."""
    chains = [int(r[0]) for r in cur.execute("SELECT DISTINCT chain_id FROM inference_calls").fetchall()]
    return sum(advance(cur, c, None) for c in chains)


def main(argv: list[str] | None = None) -> int:
    """`python -m store.verification_summary PATH`: fill an existing store's summaries (run with no writer)."""
    from store.db import Store  # the one module that opens DuckDB
    from store.errors import StoreError

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m store.verification_summary PATH", file=sys.stderr)
        return 2
    if not Path(args[0]).is_file():
        print(f"error: no store at {args[0]}", file=sys.stderr)
        return 2
    try:
        with Store(args[0], serve=False) as store, store.transaction() as cur:
            print(f"folded {fill(cur):,} inference rows into the verification summaries")
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
