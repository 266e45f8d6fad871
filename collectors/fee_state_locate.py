"""Locating a state change from historical state: bisection inside the node's state window.

Between two readings whose values differ, the block range is split at its middle and the market read
there; each half whose ends differ is split again, down to single blocks (precision "block"). A half
whose middle cannot be read (older than the node's state window, or refused) stays a range with a note
saying why. Changes undone between two sampled blocks cannot be seen this way: only traces show them.
Once a block is known, its transactions suggest the path: a setter call to the market with the new value
(direct), or a call to the owner contract (via-contract); without traces this stays a likely transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address

from collectors.fee_state_read import SETTERS, State, Value, decode, setter_value, state_calls
from collectors.pool import RpcPool
from collectors.rpc import RpcError


@dataclass(frozen=True)
class Segment:
    """A change of state within blocks (lo, hi]; exact when hi = lo + 1."""

    lo: int
    hi: int
    before: State
    after: State
    note: str | None = None

    @property
    def exact(self) -> bool:
        """Whether the change is pinned to one block."""
        return self.hi == self.lo + 1


class History:
    """Some fields of one market (and its owner) at past blocks, as far back as the node answers.

    `oldest` starts as the detected window's edge; a refused read moves it above the refused block and
    makes the edge unknown, so later probes search for it by halving instead of trusting the detection.
    """

    def __init__(self, pool: RpcPool, kind: str, address: str, fields: Sequence[str], oldest: int | None,
                 depth: int | None):
        self.pool, self.kind, self.address, self.oldest, self.depth = pool, kind, address, oldest, depth
        self.fields = {*fields, "owner"}
        self.refused: int | None = None  # the highest block whose state the node refused
        self.reads = 0

    def readable(self, block: int) -> bool:
        """Whether the block may be inside the node's state window (as far as is known)."""
        return self.oldest is None or block >= self.oldest

    def at(self, block: int) -> State | None:
        """The market's state at a block, or None when the node refuses it (remembered)."""
        self.reads += 1
        calls = [(f, call) for f, call in state_calls(self.kind, self.address, block) if f in self.fields]
        try:
            words = self.pool.batch([call for _f, call in calls])
        except RpcError:
            self.refused = max(block, self.refused or block)
            self.oldest = max(block + 1, self.oldest or 0)
            return None
        return {f: decode(f, w) for (f, _call), w in zip(calls, words, strict=True)}

    def window_note(self) -> str:
        """Why a range below the readable state stays a range."""
        if self.refused is not None:
            return f"the node refused state at block {self.refused} (older state unavailable)"
        return f"state before block {self.oldest} is older than the node's {self.depth}-block state window"


def _differ(a: State, b: State, fields: Sequence[str]) -> bool:
    return any(a.get(f) != b.get(f) for f in fields)


def _middle(history: History, lo: int, hi: int) -> int | None:
    """A block strictly inside (lo, hi) whose state may be read, or None.

    Below the readable state: the window's first block when the window is known, else (after a refusal)
    the middle of what is left above the refused block.
    """
    mid = (lo + hi) // 2
    if not history.readable(mid) and history.oldest is not None:
        mid = history.oldest if history.refused is None else (history.oldest - 1 + hi) // 2
    return mid if lo < mid < hi and history.readable(mid) else None


def narrow(history: History, fields: Sequence[str], lo: int, before: State, hi: int, after: State) -> list[Segment]:
    """Every segment of (lo, hi] where the fields change, as narrow as historical state allows, in order."""
    out: list[Segment] = []
    pending = [(lo, before, hi, after)]
    while pending:
        a, sa, b, sb = pending.pop()
        if not _differ(sa, sb, fields):
            continue
        if b == a + 1:
            out.append(Segment(a, b, sa, sb))
            continue
        mid = _middle(history, a, b)
        if mid is None:
            out.append(Segment(a, b, sa, sb, history.window_note()))
            continue
        state = history.at(mid)
        if state is None:  # refused: the edge moved above mid, try again with it
            pending.append((a, sa, b, sb))
            continue
        pending += [(mid, state, b, sb), (a, sa, mid, state)]  # the lower half first
    return sorted(out, key=lambda s: s.lo)


def blocks_with_txs(pool: RpcPool, numbers: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Full transactions of blocks, in one batch; a refused batch gives no blocks."""
    unique = sorted(set(numbers))
    try:
        got = pool.batch([("eth_getBlockByNumber", [hex(n), True]) for n in unique]) if unique else []
    except RpcError:
        return {}
    return {n: list(b.get("transactions") or []) for n, b in zip(unique, got, strict=True) if isinstance(b, dict)}


def likely_tx(txs: list[dict[str, Any]], market: str, owner: Value, field: str,
              new: Value) -> tuple[str, str | None, str | None, str]:
    """(path, sender, tx_to, note) suggested by a block's transactions for a change found by state."""
    m, own = market.lower(), str(owner or "").lower()
    direct = [t for t in txs if str(t.get("to") or "").lower() == m and str(t.get("input", ""))[:10] == SETTERS[field]
              and setter_value(field, str(t["input"])) == new]
    if len(direct) == 1:
        t = direct[0]
        return ("direct", to_checksum_address(t["from"]), market,
                f"likely tx {t['hash']}: a direct setter call with this value (not proven without traces)")
    via = [t for t in txs if own and str(t.get("to") or "").lower() == own]
    if len(via) == 1 and not direct:
        t = via[0]
        return ("via-contract", to_checksum_address(t["from"]), to_checksum_address(t["to"]),
                f"likely tx {t['hash']}: a call to the owner contract (not proven without traces)")
    return "unknown", None, None, "no single transaction of the block calls the market's setter or its owner"
