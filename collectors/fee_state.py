"""Fee watch from state: read every market each tick, and find every fee change whichever path made it.

The contract's state is the ground truth: each tick reads every field of every market at the confirmed
head (`read_state`) and compares it with the last stored reading. Each difference is then localized with
the best evidence the node and the store offer, in this order:

1. setter events indexed by the log engine (`market_events`) that replay to the new value: exact tx;
2. traces: every successful setter call into the market, top-level or internal (a timelock, a multisig,
   a batch): exact tx, sender, caller, path. Traces are scanned every tick even when state did not change,
   so a change undone before the next reading (A->B->A) is still recorded, and reverted calls are ignored;
3. historical state inside the node's state window: bisection to the exact block, plus the likely tx;
4. otherwise the range between the readings (or the part of it outside the window), with a note.

Each tick also records its coverage: which evidence it had, and what could not be checked. Readings,
changes and coverage land in one transaction; re-running a tick adds nothing. A market's first reading
has nothing to compare with, unless `from_creation` is set: then it is compared with the market's state at
its creation block, when the node keeps it (`collectors.fee_state_origin`).

When the log engine indexes the markets, a reading never runs ahead of its checkpoint, and every change the
indexed setter events show is also derived on its own (`collectors.fee_state_events`), before and between
readings alike: the event-found changes do not depend on when ticks ran relative to indexing, or on a crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eth_utils import to_checksum_address

from collectors import capabilities
from collectors.fee_state_events import EventChanges, missing, replace_rows
from collectors.fee_state_locate import History, Segment, blocks_with_txs, likely_tx, narrow
from collectors.fee_state_origin import origins
from collectors.fee_state_read import (
    KIND_FEE_FIELDS,
    State,
    Value,
    fee_fields,
    read_state,
    read_states,
    to_text,
)
from collectors.fee_state_steps import Step, describe_txs, replay, trace_steps
from collectors.fee_state_store import events_checkpoint, last_readings, setter_events, write_tick
from collectors.pool import RpcPool
from collectors.rpc import RpcError
from store.db import Store

__all__ = ["FeeStateCollector", "read_state"]


@dataclass
class Tick:
    """What one tick knows while it localizes differences."""

    head: int
    target: int
    depth: int | None
    oldest: int | None
    use_events: bool
    traces: list[Step] | None = None
    refused: int | None = None  # the highest block whose state the node refused in this tick
    events_to: int | None = None  # the log engine's checkpoint: setter events are complete up to it
    notes: list[str] = field(default_factory=list)


class FeeStateCollector:
    """Reads the fee markets of one chain each tick and records every fee change found."""

    def __init__(self, store: Store, pool: RpcPool, chain_id: int, markets: Sequence[tuple[str, str]],
                 confirmations: int = 2, *, events_collector: str | None = "fees", max_event_lag: int = 64,
                 from_creation: bool = False):
        unknown = sorted({kind for _a, kind in markets} - set(KIND_FEE_FIELDS))
        if unknown:
            raise ValueError(f"not fee market kinds: {unknown}")
        self.store, self.pool, self.chain_id, self.confirmations = store, pool, chain_id, confirmations
        self.markets = [(to_checksum_address(a), kind) for a, kind in markets]
        self.events_collector, self.max_event_lag = events_collector, max_event_lag  # lag: kept for callers
        self.from_creation = from_creation  # a first reading compares with the state at creation (fee_state_origin)
        self.events = EventChanges(pool, chain_id, self.markets, self._max_batch)
        self.last_coverage: dict[str, Any] | None = None

    # ---- one tick -------------------------------------------------------------------------
    def tick(self) -> list[dict[str, Any]]:
        """Read every market at head - confirmations, localize every change since the last reading, store."""
        calls0 = self.pool.counters.calls
        tk = self._plan(int(self.pool.call("eth_blockNumber"), 16))
        found = self._from_events(tk)
        with self.store.transaction() as cur:
            last = last_readings(cur, self.chain_id, [a for a, _k in self.markets])
        due = [(a, k) for a, k in self.markets if a not in last or last[a][0] < tk.target]
        if not due:
            self.last_coverage = None
            return found
        now = read_states(self.pool, due, tk.target, self._max_batch())
        if self.from_creation:
            found_origins, notes = origins(self.pool, [(a, k) for a, k in due if a not in last], tk.oldest, tk.target)
            last |= {o.address: (o.block, o.state) for o in found_origins}
            tk.notes += notes
        compared = [(a, k) for a, k in due if a in last]
        lo = min((last[a][0] for a, _k in compared), default=tk.target)
        self._scan_traces(tk, [a for a, _k in compared], lo + 1)
        changes = [c for a, k in compared for c in self._market(tk, a, k, last[a], now[a])]
        self._describe_event_txs(changes)
        coverage = self._coverage(tk, lo, len(due), bool(compared), calls0)
        with self.store.transaction() as cur:
            write_tick(cur, self.chain_id, tk.target, now, changes, coverage)
        self.last_coverage = coverage
        return found + [c for c in changes if c["detected_by"] != "event"]

    def _from_events(self, tk: Tick) -> list[dict[str, Any]]:
        """Every change the indexed setter events show that is not stored yet (independent of readings)."""
        if tk.events_to is None:
            return []
        with self.store.transaction() as cur:
            rows = missing(cur, self.events.rows(cur, tk.events_to, self._event_row))
        if not rows:
            return []
        if not self._describe_event_txs(rows):
            return []  # the transactions could not be read: the next tick writes these rows complete
        with self.store.transaction() as cur:
            replace_rows(cur, rows)
            write_tick(cur, self.chain_id, tk.target, {}, rows, None)
        return rows

    def _event_row(self, address: str, f: str, old: Value, new: Value, step: Step) -> dict[str, Any]:
        return self._row(address, f, old, new, step.block, step.block, "tx", "event", step=step)

    def events_checkpoint(self) -> int | None:
        """How far the log engine has indexed this chain's setter and admin events (None: not indexed)."""
        return self._events_checkpoint()

    def _plan(self, head: int) -> Tick:
        caps = self._capabilities(head)
        depth = caps.get("state_depth")
        target = head - (self.confirmations if depth is None else min(self.confirmations, depth))
        tk = Tick(head, target, depth, None if depth is None else head - depth, False)
        cp = self._events_checkpoint()
        tk.events_to = cp
        if cp is not None and (cp >= target or tk.oldest is None or cp >= tk.oldest):
            # never read past the log engine: a range read without its events would lose what they show
            tk.target, tk.use_events = min(target, cp), True
        elif cp is not None:
            tk.notes.append(f"setter events indexed only up to block {cp}, outside the node's state window: not used")
        return tk

    def _capabilities(self, head: int) -> dict[str, Any]:
        if self.pool.capabilities is None:
            self.pool.capabilities = capabilities.detect(self.pool, head)
        return self.pool.capabilities

    def _max_batch(self) -> int:
        return int((self.pool.capabilities or {}).get("max_batch") or 1)

    def _events_checkpoint(self) -> int | None:
        if self.events_collector is None:
            return None
        with self.store.transaction() as cur:
            return events_checkpoint(cur, self.events_collector, self.chain_id)

    def _scan_traces(self, tk: Tick, markets: list[str], lo: int) -> None:
        """Every setter call into the markets since the oldest compared reading, when the node has traces."""
        if not markets or not (self.pool.capabilities or {}).get("traces"):
            return
        try:
            tk.traces = trace_steps(self.pool, markets, lo, tk.target)
        except RpcError as exc:
            tk.notes.append(f"traces failed ({exc}): setter calls not checked")

    # ---- one market -------------------------------------------------------------------------
    def _market(self, tk: Tick, address: str, kind: str, last: tuple[int, State], now: State) -> list[dict[str, Any]]:
        """The changes of one market between its last reading and now."""
        lo, before = last
        events = self._events(address, lo + 1, tk.target) if tk.use_events else []
        out: list[dict[str, Any]] = []
        unexplained: list[str] = []
        for f in fee_fields(kind):
            old, new = before.get(f), now[f]
            if old is None or new is None:
                continue  # no code at one of the readings: nothing to compare
            explained = self._explained(tk, address, f, old, new, lo, events)
            if explained is not None:
                out += explained
            elif old != new:
                unexplained.append(f)
        if unexplained:
            out += self._from_history(tk, address, kind, unexplained, (lo, before), now)
        return out

    def _events(self, address: str, lo: int, hi: int) -> list[Step]:
        with self.store.transaction() as cur:
            return setter_events(cur, self.chain_id, address, lo, hi)

    def _explained(self, tk: Tick, address: str, f: str, old: Value, new: Value, lo: int,
                   events: list[Step]) -> list[dict[str, Any]] | None:
        """Changes from setter events, else from traces, when they replay from old to new; else None."""
        sources: list[tuple[str, list[Step]]] = []
        ev = [s for s in events if s.field == f]
        if ev:
            sources.append(("event", ev))
        if tk.traces is not None:
            sources.append(("state+trace", [s for s in tk.traces if s.market == address and s.field == f
                                            and s.block > lo]))
        for detected_by, steps in sources:
            changes, final = replay(old, steps)
            if final == new:
                return [self._row(address, f, o, n, s.block, s.block, "tx", detected_by, step=s) for s, o, n in changes]
        return None

    def _from_history(self, tk: Tick, address: str, kind: str, fields: list[str], last: tuple[int, State],
                      now: State) -> list[dict[str, Any]]:
        """Changes no setter event or call explains: bisected in historical state, else a range."""
        history = History(self.pool, kind, address, fields, tk.oldest, tk.depth)
        segments = narrow(history, fields, last[0], last[1], tk.target, now)
        if history.refused is not None:
            tk.refused = max(history.refused, tk.refused or history.refused)
        txs = blocks_with_txs(self.pool, [s.hi for s in segments if s.exact])
        whole = (last[0], tk.target)
        extra = ("no setter call in the traces explains it" if tk.traces is not None
                 else "no setter event explains it" if tk.use_events and kind == "twinfun_market" else None)
        return [self._segment_row(address, f, seg, txs.get(seg.hi), whole, extra)
                for seg in segments for f in fields if seg.before.get(f) != seg.after.get(f)]

    def _segment_row(self, address: str, f: str, seg: Segment, txs: list[dict[str, Any]] | None,
                     whole: tuple[int, int], extra: str | None) -> dict[str, Any]:
        old, new = seg.before[f], seg.after[f]
        if not seg.exact:
            narrowed = (seg.lo, seg.hi) != whole
            return self._row(address, f, old, new, seg.hi, seg.lo + 1, "range",
                             "state+history" if narrowed else "state", note=_join(seg.note, extra))
        path, sender, tx_to, why = (likely_tx(txs, address, seg.after.get("owner"), f, new) if txs is not None
                                    else ("unknown", None, None, "the block's transactions could not be read"))
        return self._row(address, f, old, new, seg.hi, seg.hi, "block", "state+history", path=path, sender=sender,
                         tx_to=tx_to, note=_join(why, extra))

    def _row(self, address: str, f: str, old: Value, new: Value, block: int, block_from: int, precision: str,
             detected_by: str, *, step: Step | None = None, path: str = "unknown", sender: str | None = None,
             tx_to: str | None = None, note: str | None = None) -> dict[str, Any]:
        """One fee_changes row."""
        (old_t, old_f), (new_t, new_f) = to_text(f, old), to_text(f, new)
        row = {"chain_id": self.chain_id, "address": address, "field": f, "old": old_t, "new": new_t,
               "old_f": old_f, "new_f": new_f, "block_number": block, "block_from": block_from, "tx_hash": None,
               "tx_index": None, "sender": sender, "caller": None, "tx_to": tx_to, "path": path,
               "detected_by": detected_by, "precision": precision, "note": note, "detected_at": datetime.now(UTC)}
        if step is not None:
            row |= {"tx_hash": step.tx_hash, "tx_index": step.tx_index, "sender": step.sender, "caller": step.caller,
                    "tx_to": step.tx_to, "path": step.path}
        return row

    def _describe_event_txs(self, changes: list[dict[str, Any]]) -> bool:
        """Sender, `to` and path of the transactions behind event-found changes (one batch); False: unread."""
        rows = [c for c in changes if c["detected_by"] == "event"]
        if not rows:
            return True
        try:
            txs = describe_txs(self.pool, [c["tx_hash"] for c in rows])
        except RpcError:
            return False
        for c in rows:
            sender, to = txs.get(c["tx_hash"], (None, None))
            direct = to is not None and to == c["address"]
            c.update(sender=sender, tx_to=to, path="direct" if direct else "via-contract" if to else "unknown",
                     caller=sender if direct else None)
        return True

    # ---- coverage -------------------------------------------------------------------------
    def _coverage(self, tk: Tick, lo: int, markets: int, compared: bool, calls0: int) -> dict[str, Any]:
        """What this tick checked and what it could not."""
        notes = list(tk.notes)
        if not compared:
            notes.append("first reading: nothing to compare yet")
        elif tk.traces is not None:
            notes.append("every setter call into the markets checked in traces")
        else:
            but = " except where setter events show it" if tk.use_events else ""
            notes.append(f"no traces: a change undone before the next reading (A->B->A) cannot be seen{but}")
        if compared and tk.oldest is not None and tk.oldest > lo + 1:
            notes.append(f"state before block {tk.oldest} is older than the node's {tk.depth}-block state window")
        if tk.refused is not None:
            notes.append(f"the node refused state at block {tk.refused} (older state unavailable)")
        return {"chain_id": self.chain_id, "block_from": lo + 1 if compared else tk.target,
                "block_number": tk.target, "markets": markets, "traces": tk.traces is not None,
                "events": tk.use_events, "state_from": tk.oldest, "note": "; ".join(notes),
                "rpc_calls": self.pool.counters.calls - calls0, "checked_at": datetime.now(UTC)}


def _join(*parts: str | None) -> str | None:
    text = "; ".join(p for p in parts if p)
    return text or None
