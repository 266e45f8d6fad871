"""Retention: prune what is only operational, never evidence.

Pruned, older than the policy's horizon (each table on its own horizon):
- `delivery_attempts` of notifications that are finished (outbox status delivered, dead or expired); the
  outbox row itself (its webhook id, status, attempt count and last error) and `dead_letters` stay.
- `collector_health` tick rows; the latest row and the latest successful row of each (collector, chain)
  always stay, so the health strip, "last success" and the staleness rules read the same afterwards.
- `service_heartbeats`; the latest beat always stays (the sequence goes on from it).
- `alert_runs` (one row per evaluation pass); the latest stays.
- `market_state` readings that repeat a value: inside a run of equal readings of one (market, field), the
  readings between the run's first and last are dropped. The first and last of every run, and so every
  reading next to a change and each market's latest reading, stay: "the value at block N" is unchanged.

Never touched: event tables, `fee_changes`, `ceilings`/`ceiling_evidence`, `market_control`, alerts,
`alert_history`, `outbox`, `dead_letters`, checkpoints, blocks, reorgs, the TEE and validator change rows.
All deletes of one pass run in one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb

from store.db import Store

log = logging.getLogger("ogwatch.retention")

FINISHED = ("delivered", "dead", "expired")


@dataclass(frozen=True)
class Policy:
    """How long each kind of operational row is kept, in days (None: kept for ever)."""

    delivery_attempts_days: float | None = 30.0
    collector_health_days: float | None = 7.0
    service_heartbeats_days: float | None = 7.0
    alert_runs_days: float | None = 30.0
    market_state_days: float | None = 30.0


@dataclass(frozen=True)
class Pruned:
    """Rows removed per table by one pass."""

    delivery_attempts: int = 0
    collector_health: int = 0
    service_heartbeats: int = 0
    alert_runs: int = 0
    market_state: int = 0

    @property
    def total(self) -> int:
        """All rows removed."""
        return (self.delivery_attempts + self.collector_health + self.service_heartbeats + self.alert_runs
                + self.market_state)


_SQL = {
    "delivery_attempts": """
        DELETE FROM delivery_attempts WHERE attempted_at < $cutoff
          AND message_id IN (SELECT id FROM outbox WHERE status IN ('delivered', 'dead', 'expired'))""",
    "collector_health": """
        DELETE FROM collector_health h WHERE h.observed_at < $cutoff
          AND h.observed_at < (SELECT max(l.observed_at) FROM collector_health l
                               WHERE l.collector = h.collector AND l.chain_id = h.chain_id)
          AND (NOT h.ok OR h.observed_at < (SELECT max(s.observed_at) FROM collector_health s
                               WHERE s.collector = h.collector AND s.chain_id = h.chain_id AND s.ok))""",
    "service_heartbeats": """
        DELETE FROM service_heartbeats WHERE observed_at < $cutoff
          AND seq < (SELECT max(seq) FROM service_heartbeats)""",
    "alert_runs": """
        DELETE FROM alert_runs WHERE evaluated_at < $cutoff
          AND evaluated_at < (SELECT max(evaluated_at) FROM alert_runs)""",
}

def _cutoff(now: datetime, days: float | None) -> datetime | None:
    return None if days is None else now - timedelta(days=days)


def prune(cur: duckdb.DuckDBPyConnection, policy: Policy, now: datetime) -> Pruned:
    """One pass over every operational table, inside the caller's transaction; rows removed per table."""
    counts: dict[str, int] = {}
    for table, sql in _SQL.items():
        cutoff = _cutoff(now, getattr(policy, f"{table}_days"))
        counts[table] = 0 if cutoff is None else _delete(cur, sql, cutoff)
    cutoff = _cutoff(now, policy.market_state_days)
    counts["market_state"] = 0 if cutoff is None else _prune_market_state(cur, cutoff)
    return Pruned(**counts)


def _delete(cur: duckdb.DuckDBPyConnection, sql: str, cutoff: datetime) -> int:
    row = cur.execute(sql, {"cutoff": cutoff}).fetchone()
    return int(row[0]) if row else 0


def _prune_market_state(cur: duckdb.DuckDBPyConnection, cutoff: datetime) -> int:
    """Readings inside runs of equal values, in blocks older than the cutoff (by each chain's block times)."""
    limits = cur.execute("SELECT chain_id, max(number) FROM blocks WHERE ts < $cutoff GROUP BY chain_id",
                         {"cutoff": cutoff}).fetchall()
    removed = 0
    for chain_id, upto in limits:
        removed += _delete_runs(cur, int(chain_id), int(upto))
    return removed


def _delete_runs(cur: duckdb.DuckDBPyConnection, chain_id: int, upto: int) -> int:
    """Drop the readings (up to block `upto`) whose value equals both neighbours' (NULLs count as equal)."""
    row = cur.execute("""
        DELETE FROM market_state m USING (
            SELECT address, field, block_number FROM (
                SELECT address, field, block_number, value,
                       lag(value) OVER w AS prev_value, lead(value) OVER w AS next_value,
                       lag(block_number) OVER w AS prev_block, lead(block_number) OVER w AS next_block
                FROM market_state WHERE chain_id = $chain
                WINDOW w AS (PARTITION BY address, field ORDER BY block_number))
            WHERE prev_block IS NOT NULL AND next_block IS NOT NULL AND block_number <= $upto
              AND value IS NOT DISTINCT FROM prev_value AND value IS NOT DISTINCT FROM next_value) d
        WHERE m.chain_id = $chain AND m.address = d.address AND m.field = d.field
          AND m.block_number = d.block_number""", {"chain": chain_id, "upto": upto}).fetchone()
    return int(row[0]) if row else 0


def prune_store(store: Store, policy: Policy, now: datetime | None = None) -> Pruned:
    """One pruning pass over a store in one transaction; a failure is one log line, retried next time."""
    try:
        with store.transaction() as cur:
            done = prune(cur, policy, now or datetime.now(UTC))
    except duckdb.Error as exc:
        log.warning("retention: pass failed: %s", f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        return Pruned()
    if done.total:
        log.info("retention: pruned %s operational rows (%s)", done.total,
                 ", ".join(f"{k} {v}" for k, v in vars(done).items() if v))
    return done
