"""A market's first reading compared with its state at creation: the changes made before watching began.

Without setter events or traces, the first reading of a market has nothing to compare with, so every change
made before it goes unseen. When the collector is asked to (`FeeStateCollector(..., from_creation=True)`), the
first reading instead takes as its previous reading the market's state in the block its code appeared (found
by bisecting `eth_getCode` inside the state the node keeps). The changes in between are then localized as any
others: setter events, traces, bisection of historical state. When the node's state window starts after the
creation, the oldest block it keeps is the baseline, and the coverage says that older changes were not checked.
A change made in the creation block itself, after the creation, is part of the baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from collectors.fee_state_read import State, read_state
from collectors.pool import RpcPool
from collectors.rpc import RpcError


@dataclass(frozen=True)
class Origin:
    """The baseline of a market's first reading: its state at a block."""

    address: str
    block: int
    state: State
    created: bool  # True: the creation block; False: the oldest block kept (the market is older)


def _has_code(pool: RpcPool, address: str, block: int) -> bool:
    return str(pool.call("eth_getCode", [address, hex(block)]) or "0x") not in ("0x", "0x0")


def creation_block(pool: RpcPool, address: str, lo: int, hi: int) -> int | None:
    """The first block of [lo, hi] where the address has code (lo when it already has); None: none at hi."""
    if not _has_code(pool, address, hi):
        return None
    if _has_code(pool, address, lo):
        return lo
    while hi - lo > 1:  # no code at lo, code at hi
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if _has_code(pool, address, mid) else (mid, hi)
    return hi


def origins(pool: RpcPool, markets: Sequence[tuple[str, str]], oldest: int | None,
            target: int) -> tuple[list[Origin], list[str]]:
    """The baseline of each (address, kind) market's first reading, and notes on what stays unchecked."""
    floor = oldest if oldest is not None else 0
    out: list[Origin] = []
    notes: list[str] = []
    for address, kind in markets:
        try:
            block = creation_block(pool, address, floor, target)
            if block is None or block >= target:
                continue  # no code yet, or created at the reading itself: nothing before it
            state = read_state(pool, kind, address, block)
        except RpcError as exc:
            notes.append(f"{address}: no state at its creation ({exc}): changes before the first reading not checked")
            continue
        out.append(Origin(address, block, state, block > floor or floor == 0))
    older = [o.address for o in out if not o.created]
    if older:
        notes.append(f"{len(older)} market(s) older than the node's state window: changes before block {floor} "
                     f"not checked ({', '.join(older)})")
    if out:
        notes.append("first reading compared with each market's state at " + ", ".join(
            f"{o.address} block {o.block}{'' if o.created else ' (oldest kept)'}" for o in out))
    return out, notes
