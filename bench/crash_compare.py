"""Compare two ogwatch stores table by table, row by row, leaving out what the wall clock decides.

Chain data and everything derived from it must be equal. Left out: operational tables (tick history,
heartbeats, evaluation passes, delivery attempts), wall-clock columns (`*_at`, `dirty_since`) and run
counters (`rpc_calls`). Alerts are compared as the set of (fingerprint, rule, status): those of rules about
the chain must be equal (their outcome is a function of the indexed data; tee_health was made so after a crash
run found it firing on registry readings taken ahead of the indexed events); those of the rules about the monitor
itself (`MONITOR_RULES`: wall-clock staleness, failing or lagging ticks) are compared apart and not counted, since
a kill is an outage of the monitor and a crashed run is expected to see one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

OPERATIONAL = frozenset({"collector_health", "service_heartbeats", "alert_runs", "delivery_attempts",
                         "schema_migrations"})
ALERT_TABLES = frozenset({"alerts", "alert_history", "alert_groups", "outbox", "dead_letters", "silences"})
CLOCK_COLUMNS = frozenset({"dirty_since", "rpc_calls", "duration_ms", "retries"})
MONITOR_RULES = ("stale_data", "collector_failing")


# The final state of the fee and TEE watches' reading logs: whatever the reading schedule was, these must agree.
LATEST = {
    "market_state@latest": """SELECT chain_id, address, field, value FROM market_state
        QUALIFY row_number() OVER (PARTITION BY chain_id, address, field ORDER BY block_number DESC) = 1""",
    "market_control@latest": """
        SELECT chain_id, address, kind, owner, owner_kind, rule, implementation, upgradeable FROM market_control
        QUALIFY row_number() OVER (PARTITION BY chain_id, address ORDER BY block_number DESC) = 1""",
    "tee_state@latest": """
        SELECT chain_id, registry, tee_id, owner, payment_address, endpoint, pcr_hash, tee_type, enabled, active,
               pcr_approved FROM tee_state
        QUALIFY row_number() OVER (PARTITION BY chain_id, registry, tee_id ORDER BY block_number DESC) = 1""",
    "tee_pcrs@latest": """SELECT chain_id, registry, pcr_hash, tee_type, approved, version, source FROM tee_pcrs
        QUALIFY row_number() OVER (PARTITION BY chain_id, registry, pcr_hash, tee_type
                                   ORDER BY block_number DESC) = 1""",
}


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = con.execute("SELECT table_name, column_name FROM information_schema.columns "
                       "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position").fetchall()
    out: dict[str, list[str]] = {}
    for table, col in rows:
        if not col.endswith("_at") and col not in CLOCK_COLUMNS:
            out.setdefault(str(table), []).append(str(col))
    return out


def digest(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every compared table's rows (without clock columns), sorted."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for table, cols in _columns(con).items():
            if table in OPERATIONAL or table in ALERT_TABLES:
                continue
            sel = ", ".join(f'"{c}"' for c in cols)
            out[table] = sorted(con.execute(f'SELECT {sel} FROM "{table}"').fetchall(), key=repr)  # noqa: S608
        for name, sql in LATEST.items():
            out[name] = sorted(con.execute(sql).fetchall(), key=repr)
        alerts = sorted(con.execute("SELECT fingerprint, rule, status FROM alerts").fetchall())
        out["alerts"] = [a for a in alerts if a[1] not in MONITOR_RULES]
        out["alerts_monitor"] = [a for a in alerts if a[1] in MONITOR_RULES]
        return out
    finally:
        con.close()


def compare(ref: Path, got: Path) -> dict[str, Any]:
    """Per table: equal or how many rows differ each way; alerts apart."""
    a, b = digest(ref), digest(got)
    tables: dict[str, Any] = {}
    for table in sorted(set(a) | set(b)):
        ra, rb = a.get(table, []), b.get(table, [])
        if ra == rb:
            tables[table] = {"rows": len(ra), "equal": True}
        else:
            sa, sb = _counted(ra), _counted(rb)
            tables[table] = {"rows": len(ra), "rows_crashed": len(rb), "equal": False,
                             "only_in_reference": sum((sa - sb).values()), "only_in_crashed": sum((sb - sa).values()),
                             "example": repr(next(iter((sa - sb) or (sb - sa))))[:300]}
    chain = {k: v for k, v in tables.items() if not k.startswith("alerts")}
    return {"tables": chain, "alerts": tables.get("alerts"), "alerts_monitor": tables.get("alerts_monitor"),
            "tables_compared": len(chain), "tables_equal": sum(1 for v in chain.values() if v["equal"]),
            "rows_compared": sum(v["rows"] for v in chain.values())}


def _counted(rows: list[tuple[Any, ...]]) -> Any:
    from collections import Counter

    return Counter(rows)


def opens(path: Path) -> tuple[bool, str, int]:
    """Whether the file opens read-only and every table can be read: (ok, error, checkpoint blocks summed)."""
    if not path.exists():
        return True, "no file yet", 0
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        return False, f"{type(exc).__name__}: {str(exc).splitlines()[0]}", 0
    try:
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables "
                                    "WHERE table_schema = 'main'").fetchall():
            con.execute(f'SELECT count(*) FROM "{table}"').fetchone()  # noqa: S608
        row = con.execute("SELECT coalesce(sum(block_number), 0) FROM checkpoints").fetchone()
        return True, "", int(row[0]) if row else 0
    except duckdb.Error as exc:
        return False, f"{type(exc).__name__}: {str(exc).splitlines()[0]}", 0
    finally:
        con.close()
