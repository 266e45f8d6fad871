"""Fee changes from setter events alone, whenever the fee pass runs relative to the log engine.

The state pass compares two readings, so the setter events it can use depend on when its readings were
taken: events before a market's first reading, or in a range read before the log engine got there, were
never turned into changes. This pass does not depend on readings: for every market it replays each field's
setter events indexed up to the log engine's checkpoint, starting from the field's value just before the
first event (read at that block), and records every change with detected_by = "event", precision "tx".

It keeps no cursor: each pass derives the same rows from the store and inserts those missing, so a pass
cut short (kill -9) loses nothing and the result is the same whatever the schedule. An event row replaces
a row another source (traces, historical state) wrote earlier for the same change, as it is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import duckdb

from collectors.fee_state_read import Value, fee_fields, read_states
from collectors.fee_state_steps import Step, replay
from collectors.fee_state_store import setter_events
from collectors.pool import RpcPool
from collectors.rpc import RpcError

#: builds a fee_changes row from (address, field, old, new, step)
RowOf = Callable[[str, str, Value, Value, Step], dict[str, Any]]
KEY = ("chain_id", "address", "field", "block_number", "old", "new")


class EventChanges:
    """Derives every fee change the indexed setter events show, for the markets of one chain."""

    def __init__(self, pool: RpcPool, chain_id: int, markets: Sequence[tuple[str, str]], max_batch: Callable[[], int]):
        self.pool, self.chain_id, self.markets, self.max_batch = pool, chain_id, list(markets), max_batch
        self._before: dict[tuple[str, int], dict[str, Value]] = {}  # (market, block) -> state (confirmed: fixed)

    def rows(self, cur: duckdb.DuckDBPyConnection, hi: int, row_of: RowOf) -> list[dict[str, Any]]:
        """Every change shown by setter events in blocks <= hi (the log engine's checkpoint)."""
        out: list[dict[str, Any]] = []
        for address, kind in self.markets:
            events = setter_events(cur, self.chain_id, address, 0, hi)
            if not events:
                continue
            before = self._state_before(address, kind, min(s.block for s in events))
            if before is None:
                continue  # the value before the first event cannot be read: the state pass localizes these
            for f in fee_fields(kind):
                steps = [s for s in events if s.field == f]
                base = before.get(f)
                if steps and base is None:  # no code before the first event: it sets the first value
                    base, steps = steps[0].value, steps[1:]
                if steps:
                    changes, _end = replay(base, steps)
                    out += [row_of(address, f, old, new, step) for step, old, new in changes]
        return out

    def _state_before(self, address: str, kind: str, block: int) -> dict[str, Value] | None:
        """The market's fields at the end of block - 1 (cached: a confirmed block does not change)."""
        key = (address, block)
        if key not in self._before:
            try:
                self._before[key] = read_states(self.pool, [(address, kind)], max(block - 1, 0),
                                                self.max_batch())[address]
            except RpcError:
                return None
        return self._before[key]


def missing(cur: duckdb.DuckDBPyConnection, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows not stored yet as complete event rows (others stored for the same change are replaced)."""
    out = []
    for r in rows:
        found = cur.execute("SELECT detected_by, sender FROM fee_changes WHERE chain_id = ? AND address = ?"
                            " AND field = ? AND block_number = ? AND old = ? AND new = ?",
                            [r[k] for k in KEY]).fetchall()
        if not found or found[0][0] != "event" or found[0][1] is None:
            out.append(r)
    return out


def replace_rows(cur: duckdb.DuckDBPyConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Drop rows of the same changes found by another source or left incomplete (the caller inserts anew)."""
    cur.executemany("DELETE FROM fee_changes WHERE chain_id = ? AND address = ? AND field = ? AND block_number = ?"
                    " AND old = ? AND new = ? AND (detected_by <> 'event' OR sender IS NULL)",
                    [[r[k] for k in KEY] for r in rows])
