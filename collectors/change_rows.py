"""Change rows: write a reading's rows only where they differ from the last stored row of the same key.

Used by the TEE registry and validator collectors (tables of migration 0008): every stored row is a
change, the state at block N is the latest row at or below N per key, and re-running a reading adds
nothing. Table and column names come from code, never from input; values are always bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

Row = dict[str, Any]


def latest(cur: duckdb.DuckDBPyConnection, table: str, key: Sequence[str], chain_id: int,
           where: dict[str, Any] | None = None) -> dict[tuple[Any, ...], Row]:
    """The latest stored row per key of one chain (optionally filtered by column equality)."""
    cond = "".join(f' AND "{c}" = ?' for c in (where or {}))
    part = ", ".join(f'"{c}"' for c in key)
    sql = (f'SELECT * FROM "{table}" WHERE chain_id = ?{cond} '  # noqa: S608 - names from code
           f"QUALIFY row_number() OVER (PARTITION BY {part} ORDER BY block_number DESC) = 1")
    res = cur.execute(sql, [chain_id, *(where or {}).values()])
    cols = [d[0] for d in res.description]
    out = {}
    for values in res.fetchall():
        row = dict(zip(cols, values, strict=True))
        out[tuple(row[c] for c in key)] = row
    return out


def changed(rows: Sequence[Row], last: dict[tuple[Any, ...], Row], key: Sequence[str],
            compare: Sequence[str]) -> list[Row]:
    """The rows whose compared columns differ from the last stored row of their key (or that are new)."""
    out = []
    for row in rows:
        before = last.get(tuple(row[c] for c in key))
        if before is None or any(_norm(before.get(c)) != _norm(row.get(c)) for c in compare):
            out.append(row)
    return out


def _norm(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def insert(cur: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Row]) -> None:
    """Insert rows (all with the same columns); a row for a key and block already stored replaces it.

    A second reading at the same block (a CometBFT height that has not moved, a re-run) is the newer word.
    """
    if not rows:
        return
    cols = list(rows[0])
    names, marks = ", ".join(f'"{c}"' for c in cols), ", ".join("?" * len(cols))
    cur.executemany(f'INSERT OR REPLACE INTO "{table}" ({names}) VALUES ({marks})',  # noqa: S608 - names from code
                    [[r[c] for c in cols] for r in rows])
