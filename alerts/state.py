"""Alert state: findings in, transitions out (firing, resolved, retracted, silenced), history kept.

A stored alert that a rule no longer finds resolves, unless a reorg recorded after it fired forked its chain
below the block its data came from: then the data is gone and the alert is retracted. Runs inside the caller's
transaction, so state, history and the outbox rows grouping writes next land together.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from alerts.model import Finding, jsonable
from alerts.routing import Silence, group_key, silenced
from ogwatch.config import AlertSettings


@dataclass
class Transitions:
    """Counts of what one pass changed."""

    fired: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    retracted: list[str] = field(default_factory=list)
    silenced: list[str] = field(default_factory=list)


def _history(cur: duckdb.DuckDBPyConnection, fp: str, now: datetime, transition: str, detail: str) -> None:
    cur.execute("INSERT INTO alert_history SELECT coalesce(max(seq), 0) + 1, ?, ?, ?, ? FROM alert_history",
                [fp, now, transition, detail])


def _stored(cur: duckdb.DuckDBPyConnection, rules: list[str]) -> dict[str, tuple[str, bool, int | None, int | None,
                                                                              datetime]]:
    if not rules:
        return {}
    rows = cur.execute("SELECT fingerprint, status, silenced, source_chain, source_block, first_fired_at FROM alerts "
                       "WHERE rule IN (SELECT unnest(?))", [rules]).fetchall()
    return {r[0]: (r[1], bool(r[2]), r[3], r[4], r[5]) for r in rows}


def _upsert(cur: duckdb.DuckDBPyConnection, f: Finding, gk: str, muted: bool, now: datetime, fresh: bool) -> None:
    values = [f.severity, gk, f.summary, json.dumps(f.labels, sort_keys=True),
              json.dumps(jsonable(f.evidence), sort_keys=True, default=str), f.source_chain, f.source_block,
              f.chain_time, now, muted]
    if fresh:
        cur.execute("INSERT OR REPLACE INTO alerts (fingerprint, rule, status, first_fired_at, severity, group_key, "
                    "summary, labels, evidence, source_chain, source_block, chain_time, last_seen_at, silenced, "
                    "resolved_at) VALUES (?, ?, 'firing', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                    [f.fingerprint, f.rule, now, *values])
    else:
        cur.execute("UPDATE alerts SET severity=?, group_key=?, summary=?, labels=?, evidence=?, source_chain=?, "
                    "source_block=?, chain_time=?, last_seen_at=?, silenced=? WHERE fingerprint=?",
                    [*values, f.fingerprint])


def _reorged(cur: duckdb.DuckDBPyConnection, chain: int | None, block: int | None, since: datetime) -> bool:
    if chain is None or block is None:
        return False
    row = cur.execute("SELECT count(*) FROM reorgs WHERE chain_id=? AND fork_block<? AND detected_at>=?",
                      [chain, block, since]).fetchone()
    return bool(row and row[0])


def apply(cur: duckdb.DuckDBPyConnection, findings: list[Finding], evaluated: list[str], settings: AlertSettings,
          silences: list[Silence], now: datetime) -> Transitions:
    """Record the findings of the rules in `evaluated` (rules that failed this pass keep their state)."""
    out = Transitions()
    stored = _stored(cur, evaluated)
    seen: set[str] = set()
    for f in findings:
        fp = f.fingerprint
        if fp in seen:
            continue
        seen.add(fp)
        muted = silenced(silences, f.rule, f.labels, now)
        before = stored.get(fp)
        fresh = before is None or before[0] != "firing"
        _upsert(cur, f, group_key(settings, f.rule, f.labels), muted, now, fresh)
        if fresh:
            out.fired.append(fp)
            _history(cur, fp, now, "firing", f.summary)
        if before is not None and not fresh and before[1] != muted:
            _history(cur, fp, now, "silenced" if muted else "unsilenced", "")
        if muted and (fresh or not before or not before[1]):
            out.silenced.append(fp)
    for fp, (status, _m, chain, block, fired_at) in stored.items():
        if status != "firing" or fp in seen:
            continue
        gone = _reorged(cur, chain, block, fired_at)
        new = "retracted" if gone else "resolved"
        cur.execute("UPDATE alerts SET status=?, resolved_at=? WHERE fingerprint=?", [new, now, fp])
        (out.retracted if gone else out.resolved).append(fp)
        _history(cur, fp, now, new, f"a reorg below block {block} removed its data" if gone else "condition cleared")
    return out
