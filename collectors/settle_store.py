"""What the blob check reads from and writes to the store (tables of migration 0007).

Reads: batch settlements (`settlements`) not yet checked, or found unavailable long enough ago to try again.
Writes: one check row per batch and, for a verified batch, its leaves, in the caller's transaction. A row is
written only while its settlement is still stored, so a reorg that removed the batch meanwhile leaves nothing
behind; writing the same batch again replaces its rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from collectors.settle_merkle import Leaf
from store import chainwrite

MAX_BACKOFF = 288  # times the base wait: 5 min doubling up to one day between attempts
LEAF_COLUMNS = ("chain_id", "block_number", "log_index", "leaf_index", "tee_id", "input_hash", "output_hash",
                "timestamp_int", "leaf_hash")


@dataclass(frozen=True)
class Batch:
    """A batch settlement to check, as indexed from the relay's BatchSettlement event."""

    chain_id: int
    block_number: int
    log_index: int
    address: str
    relay_version: int
    merkle_root: str
    batch_size: int | None
    blob_id: str | None
    attempts: int


@dataclass(frozen=True)
class Check:
    """The outcome of checking one batch."""

    batch: Batch
    status: str              # verified | mismatch | unavailable
    reason: str
    rebuilt_root: str | None = None
    leaves: int | None = None
    proof_checked: bool = False
    proof_ok: bool | None = None


def pending(cur: duckdb.DuckDBPyConnection, chain_id: int, now: datetime, recheck_s: float,
            limit: int) -> list[Batch]:
    """Unchecked batches, then unavailable ones with a blob id whose wait is over, least recently tried first.

    The wait after the n-th failed attempt is recheck_s * 2^(n-1), capped at MAX_BACKOFF times recheck_s: a blob
    not uploaded yet is found soon, one that expired is not asked for again and again.
    """
    rows = cur.execute("""
        SELECT s.block_number, s.log_index, s.address, s.relay_version, s.merkle_root,
               TRY_CAST(s.batch_size AS BIGINT), s.walrus_blob_id, coalesce(c.attempts, 0)
        FROM settlements s
        LEFT JOIN settlement_checks c
          ON c.chain_id = s.chain_id AND c.block_number = s.block_number AND c.log_index = s.log_index
        WHERE s.chain_id = ? AND s.event = 'BatchSettlement' AND s.merkle_root IS NOT NULL
          AND (c.status IS NULL OR (c.status = 'unavailable' AND coalesce(c.walrus_blob_id, '') <> ''
               AND c.checked_at + to_seconds(? * least(pow(2, c.attempts - 1), ?)) <= ?))
        ORDER BY c.status NULLS FIRST, c.checked_at NULLS FIRST, s.block_number, s.log_index
        LIMIT ?""", [chain_id, recheck_s, MAX_BACKOFF, now, limit]).fetchall()
    return [Batch(chain_id, int(b), int(li), str(a), int(v), str(r), None if n is None else int(n),
                  None if blob is None else str(blob), int(att)) for b, li, a, v, r, n, blob, att in rows]


_EXISTS = """EXISTS (SELECT 1 FROM settlements s WHERE s.chain_id = ? AND s.block_number = ? AND s.log_index = ?
                     AND s.merkle_root = ?)"""


def write(cur: duckdb.DuckDBPyConnection, check: Check, leaves: Sequence[Leaf], at: datetime) -> bool:
    """Replace a batch's check (and leaves); False when the settlement is gone (reorged away)."""
    b = check.batch
    key = [b.chain_id, b.block_number, b.log_index]
    for table in ("settlement_checks", "settlement_leaves"):
        cur.execute(f"DELETE FROM {table} WHERE chain_id = ? AND block_number = ? AND log_index = ?",  # noqa: S608
                    key)
    row = cur.execute("SELECT " + _EXISTS, [*key, b.merkle_root]).fetchone()
    if not row or not row[0]:
        return False
    cur.execute("INSERT INTO settlement_checks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [*key, b.address, b.merkle_root, b.blob_id, check.status, check.reason, check.rebuilt_root,
                 check.leaves, check.proof_checked, check.proof_ok, b.attempts + 1, at])
    if leaves:
        df = pd.DataFrame([(*key, lf.index, lf.tee_id, lf.input_hash, lf.output_hash, lf.timestamp_int, lf.leaf_hash)
                           for lf in leaves], columns=list(LEAF_COLUMNS))
        df["timestamp_int"] = df["timestamp_int"].astype("Int64")
        chainwrite.insert_rows(cur, "settlement_leaves", df)
    return True
