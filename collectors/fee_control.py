"""Fee watch: who can change a market's fees, how far (ceiling evidence), and which changes are queued.

`FeeControlCollector.tick(head)` evaluates each watched market at the confirmed head when it is new, when
admin_events show an Upgraded, OwnershipTransferred or role change since the last evaluation, or when the
owner, the owner's rule (timelock delay, multisig threshold and signers) or the ERC-1967 implementation read at
the head differ from the last evaluation. An evaluation writes its market_control row, every simulated setter
call (ceiling_evidence) and the verdict per setter (ceilings) in one transaction. When admin_events at or below
the latest evaluation's block are indexed after it (the log engine was behind), that evaluation is redone at
its block with the full count, so admin_events_seen does not depend on indexing order. The probes themselves are in
`collectors.fee_control_probe`; queued timelock fee changes come from the `queued_changes` view.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
from eth_utils import to_checksum_address

from collectors.fee_control_probe import (
    MARKET_KINDS,
    PERCENT_FIELDS,
    Ceiling,
    implementation,
    is_upgradeable,
    probe_ceiling,
    resolve_owner,
)
from collectors.pool import RpcPool
from ogwatch.config import Config
from store.db import Store

#: admin_events of a market that call for a new evaluation
TRIGGERS = ("Upgraded", "OwnershipTransferred", "RoleGranted", "RoleRevoked", "RoleAdminChanged")

#: the pending fee changes of one chain; parameters: [now_ts (unix s, the chain's clock), chain_id]
QUEUED_SQL = """
SELECT timelock, operation_id, call_index, market, field, new_value, new_value_word, delay, scheduled_block,
       scheduled_ts, eta, coalesce(eta <= ?, false) AS ready, tx_hash, owner_is_timelock
FROM queued_changes WHERE chain_id = ?
ORDER BY eta NULLS LAST, scheduled_block, operation_id, call_index
"""


@dataclass(frozen=True)
class WatchedMarket:
    """A market whose control is evaluated: its address and config kind."""

    address: str
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in MARKET_KINDS:
            raise ValueError(f"{self.address}: {self.kind!r} is not a fee market kind")
        object.__setattr__(self, "address", to_checksum_address(self.address))


@dataclass(frozen=True)
class Control:
    """Who controls a market at a block: owner, what it is, its rule, the implementation behind the proxy."""

    owner: str | None
    owner_kind: str
    rule: dict[str, Any]
    implementation: str | None

    @property
    def rule_json(self) -> str:
        """The rule as stored (sorted JSON)."""
        return json.dumps(self.rule, sort_keys=True)


@dataclass
class Evaluation:
    """One evaluation of a market: why it ran, what it found, and the RPC calls it took."""

    market: WatchedMarket
    block: int
    reasons: list[str]
    control: Control
    admin_events_seen: int
    upgradeable: bool = False
    ceilings: dict[str, Ceiling] = field(default_factory=dict)
    rpc_calls: int = 0


def read_control(pool: RpcPool, address: str, block: int) -> Control:
    """Owner, owner kind, rule and implementation of a market at a block (3 to 6 eth_calls)."""
    owner, kind, rule = resolve_owner(pool, address, block)
    return Control(owner, kind, rule, implementation(pool, address, block))


def watched_markets(cfg: Config, network: str) -> list[WatchedMarket]:
    """The fee markets a config declares on one network."""
    return [WatchedMarket(c.address, c.kind) for c in cfg.contracts_on(network) if c.kind in MARKET_KINDS]


class FeeControlCollector:
    """Evaluates the control and fee ceilings of one chain's markets at the confirmed head."""

    def __init__(self, store: Store, pool: RpcPool, chain_id: int,
                 markets: Iterable[WatchedMarket | tuple[str, str]]):
        self.store, self.pool, self.chain_id = store, pool, chain_id
        self.markets = [m if isinstance(m, WatchedMarket) else WatchedMarket(*m) for m in markets]

    def tick(self, head: int) -> list[Evaluation]:
        """Re-evaluate at `head` (the confirmed head) every market that needs it; returns the evaluations."""
        return [ev for m in self.markets if (ev := self.check(m, head)) is not None]

    def check(self, market: WatchedMarket, head: int) -> Evaluation | None:
        """Evaluate one market at `head` if it is new or something changed since its last evaluation.

        The latest evaluation is first redone at its own block when admin_events at or below that block were
        indexed after it (the log engine was behind): its admin_events_seen never stays undercounted."""
        calls0 = self.pool.counters.calls
        last = self.last(market.address)
        if last is not None and last["block_number"] <= head:
            redone = self._recount(market, last, calls0)
            if redone is not None and last["block_number"] == head:
                return redone
            last = self.last(market.address)
        if last is not None and last["block_number"] >= head:
            return None
        seen = self._admin_events(market.address, head)
        control = read_control(self.pool, market.address, head)
        reasons = changes(last, seen, control)
        if not reasons:
            return None
        ev = self.evaluate(market, head, control, seen, reasons)
        ev.rpc_calls = self.pool.counters.calls - calls0
        self._write(ev)
        return ev

    def _recount(self, market: WatchedMarket, last: dict[str, Any], calls0: int) -> Evaluation | None:
        """The latest evaluation redone at its block, with its reasons, if more admin_events are indexed now."""
        block = int(last["block_number"])
        seen = self._admin_events(market.address, block)
        if seen == last["admin_events_seen"]:
            return None
        ev = self.evaluate(market, block, read_control(self.pool, market.address, block), seen,
                           json.loads(last["reasons"]))
        ev.rpc_calls = self.pool.counters.calls - calls0
        self._write(ev)
        return ev

    def evaluate(self, market: WatchedMarket, block: int, control: Control, seen: int,
                 reasons: list[str]) -> Evaluation:
        """Upgradeability and the ceiling of every fee setter, simulated as the owner at `block`."""
        ev = Evaluation(market, block, reasons, control, seen)
        owner = control.owner
        if owner is None:
            return ev  # nobody can call the setters: no ceiling to probe
        ev.upgradeable = is_upgradeable(self.pool, market.address, control.implementation, owner, block)
        ev.ceilings = {f: probe_ceiling(self.pool, market.address, market.kind, f, owner, block,
                                        upgradeable=ev.upgradeable) for f in PERCENT_FIELDS}
        return ev

    def last(self, address: str) -> dict[str, Any] | None:
        """The latest stored evaluation of a market, or None."""
        rows = self.store.fetch(
            "SELECT block_number, owner, owner_kind, rule, implementation, admin_events_seen, reasons"
            " FROM market_control WHERE chain_id = ? AND address = ? ORDER BY block_number DESC LIMIT 1",
            [self.chain_id, address])
        keys = ("block_number", "owner", "owner_kind", "rule", "implementation", "admin_events_seen", "reasons")
        return dict(zip(keys, rows[0], strict=True)) if rows else None

    def _admin_events(self, address: str, head: int) -> int:
        rows = self.store.fetch(
            f"SELECT count(*) FROM admin_events WHERE chain_id = ? AND address = ? AND block_number <= ?"  # noqa: S608
            f" AND event IN ({', '.join('?' * len(TRIGGERS))})", [self.chain_id, address, head, *TRIGGERS])
        return int(rows[0][0])

    def _write(self, ev: Evaluation) -> None:
        with self.store.transaction() as cur:
            write_evaluation(cur, self.chain_id, ev)


def changes(last: dict[str, Any] | None, seen: int, control: Control) -> list[str]:
    """Why a market needs an evaluation (empty: it does not)."""
    if last is None:
        return ["new"]
    found = [("admin_events", last["admin_events_seen"] != seen), ("owner", last["owner"] != control.owner),
             ("owner_kind", last["owner_kind"] != control.owner_kind), ("rule", last["rule"] != control.rule_json),
             ("implementation", last["implementation"] != control.implementation)]
    return [name for name, changed in found if changed]


def write_evaluation(cur: duckdb.DuckDBPyConnection, chain_id: int, ev: Evaluation) -> None:
    """The control row, the evidence and the ceilings of one evaluation, in the caller's transaction."""
    addr, blk, c = ev.market.address, ev.block, ev.control
    cur.execute("INSERT OR REPLACE INTO market_control VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [chain_id, addr, blk, ev.market.kind, c.owner, c.owner_kind, c.rule_json, c.implementation,
                 ev.upgradeable, ev.admin_events_seen, json.dumps(ev.reasons), datetime.now(UTC)])
    for table in ("ceiling_evidence", "ceilings"):
        cur.execute(f"DELETE FROM {table} WHERE chain_id = ? AND address = ? AND block_number = ?",  # noqa: S608
                    [chain_id, addr, blk])
    for fld, ceiling in ev.ceilings.items():
        cur.executemany("INSERT INTO ceiling_evidence VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [[chain_id, addr, fld, blk, seq, e.caller, str(e.value), float(e.value), e.reverted]
                         for seq, e in enumerate(ceiling.evidence)])
        top, low = ceiling.max_accepted, ceiling.min_rejected
        cur.execute("INSERT INTO ceilings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [chain_id, addr, fld, blk, ceiling.label, _text(top), _float(top), _text(low), _float(low)])


def _text(value: int | None) -> str | None:
    return None if value is None else str(value)


def _float(value: int | None) -> float | None:
    return None if value is None else float(value)


# ---- queued timelock changes ----------------------------------------------------------------------------

@dataclass(frozen=True)
class QueuedChange:
    """A fee change scheduled on a timelock, neither executed nor cancelled yet."""

    timelock: str
    operation_id: str
    call_index: int
    market: str
    field: str
    new_value: int | str        # exact uint256, or the checksummed address for protocolFeeDestination
    delay: int
    scheduled_block: int
    scheduled_ts: int | None
    eta: int | None             # earliest execution: the schedule block's timestamp + delay (unix s)
    ready: bool                 # eta has passed at now_ts
    seconds_left: int | None
    tx_hash: str
    owner_is_timelock: bool | None


def queued_changes(cur: duckdb.DuckDBPyConnection, chain_id: int, now_ts: int) -> list[QueuedChange]:
    """Pending fee changes on one chain, earliest first; `now_ts` is the chain's clock (head timestamp)."""
    rows = cur.execute(QUEUED_SQL, [now_ts, chain_id]).fetchall()
    return [_queued(row, now_ts) for row in rows]


def _queued(row: tuple[Any, ...], now_ts: int) -> QueuedChange:
    timelock, op, index, market, fld, _text_value, word, delay, blk, ts, eta, ready, tx, owns = row
    raw = int(word, 16)
    value: int | str = to_checksum_address(f"0x{raw:064x}"[-40:]) if fld == "protocolFeeDestination" else raw
    return QueuedChange(timelock, op, int(index), market, fld, value, int(delay), int(blk),
                        None if ts is None else int(ts), None if eta is None else int(eta), bool(ready),
                        None if eta is None else max(0, int(eta) - now_ts), tx, owns)
