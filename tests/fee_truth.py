"""The fee watch's expectation from the ground truth, shared by the fee-state tests.

Every setter record of the simulator's truth states in its intent what a monitor should find of it per node
capability (``expected``: devnet/scenario_markets_expect.py). `expected` turns those words into the fee_changes
rows a capability level should hold, using the readings' coverage rows only for what depends on when ogwatch
read: which interval holds each change and how far back the node kept state then.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from eth_utils import to_checksum_address
from web3 import Web3

from devnet import world
from devnet.faultproxy import Faults
from devnet.scenario_markets_expect import KEYS, WORDS

PCT = 10**16
CHAINS = ("bsc", "base_sepolia", "base")
SETTER_KINDS = {"fee_set", "fee_destination_set", "min_shares_set"}
REVERTED_KINDS = {"setter_reverted", "setter_inner_reverted"}
SET_TOPICS = {f: Web3.to_hex(Web3.keccak(text=sig)) for f, sig in (
    ("protocolFeePercent", "ProtocolFeePercentSet(uint256)"),
    ("subjectFeePercent", "SubjectFeePercentSet(uint256)"),
    ("protocolFeeDestination", "ProtocolFeeDestinationSet(address)"),
    ("minSharesToCreate", "MinSharesToCreateSet(uint256)"))}


@dataclass(frozen=True)
class Level:
    """What the node offers (through the proxy) and whether the log engine indexes setter events first."""

    name: str
    faults: Faults
    traces: bool
    events: bool = False
    window: int | None = None


LEVELS = [
    Level("full", Faults(), traces=True),
    Level("no_traces", Faults(hide_traces=True), traces=False),
    Level("no_traces_window_128", Faults(hide_traces=True, state_window=128), traces=False, window=128),
    Level("no_traces_window_3", Faults(hide_traces=True, state_window=3), traces=False, window=3),
    Level("no_traces_with_events", Faults(hide_traces=True), traces=False, events=True),
]


def markets(w: world.World, key: str) -> list[tuple[str, str]]:
    """(address, kind) of the world's fee markets on one chain."""
    return [(c.address, c.kind) for c in w.dep.contracts if c.chain == key and c.kind in
            ("twinfun_market", "twinfun_docs_market", "friendtech_market")]


def table_rows(path: Path, table: str) -> list[dict[str, Any]]:
    """Every row of a store table, as dicts (read-only)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        cur = con.execute(f"SELECT * FROM {table}")  # noqa: S608 - a table name from this file
        names = [d[0] for d in cur.description or []]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def norm(fld: str, value: Any) -> str:
    """A truth value as fee_changes stores it."""
    return to_checksum_address(value) if fld == "protocolFeeDestination" else str(int(value))


@dataclass(frozen=True)
class Change:
    """A truth record of a successful setter change, normalized."""

    chain_id: int
    market: str
    field: str
    old: str
    new: str
    block: int
    tx: str
    path: str
    actor: str
    via: str | None
    expected: dict[str, str]
    undo: str | None


def changes(truth: list[dict[str, Any]]) -> list[Change]:
    """Every successful setter change of the truth (its `expected` checked against its receipt)."""
    out = []
    for r in truth:
        if r["kind"] in SETTER_KINDS and r["status"] == 1:
            i = r["intent"]
            assert set(i["expected"]) == set(KEYS) and set(i["expected"].values()) <= WORDS, i
            emitted = [lg for lg in r["logs"] if lg["address"].lower() == i["market"].lower()
                       and lg["topic0"] == SET_TOPICS[i["field"]]]  # the receipt: is there an event to find?
            assert len(emitted) == (i["expected"]["events"] == "tx"), i
            out.append(Change(r["chain_id"], i["market"], i["field"], norm(i["field"], i["old"]),
                              norm(i["field"], i["new"]), r["block"], r["tx"], i["path"], i["actor"], i["via"],
                              i["expected"], i["undo"]))
    return out


def word(level: Level, want: dict[str, str], *, undone: bool, beyond: bool) -> str:
    """The truth's word for a record at this level: the first of its keys that applies, in KEYS order."""
    if level.traces:
        return want["traces"]
    if level.events and want["events"] != "as_state":
        return want["events"]
    if undone:
        return want["undone_before_reading"]
    return want["state_beyond_window"] if beyond else want["state"]


def _group_rows(level: Level, cov: dict[str, Any], group: list[Change]) -> set[tuple[Any, ...]]:
    """The rows one reading should make of one field's changes since the previous reading."""
    undone = group[0].old == group[-1].new  # the field is back at the previous reading's value
    if undone:
        assert all(c.undo in ("there", "back") for c in group), "only the scenario's own A->B->A loops back"
    oldest = cov["state_from"] if cov["state_from"] is not None else -1
    out: set[tuple[Any, ...]] = set()
    ranged: list[Change] = []
    for c in group:
        w = word(level, c.expected, undone=undone, beyond=c.block <= oldest)
        if w in ("block", "range"):
            values = [group[0].old, *(g.new for g in group)]
            assert len(set(values)) == len(values), "bisection finds every change only without repeated values"
        if w in ("tx", "block"):
            out.add((c.market, c.field, c.old, c.new, c.block, c.block, w))
        elif w == "range":
            ranged.append(c)
        else:
            assert w == "invisible", (w, c)
    if ranged and ranged[0].old != ranged[-1].new:  # one range per field and reading, from its value there
        out.add((group[0].market, group[0].field, ranged[0].old, ranged[-1].new, oldest, cov["block_from"], "range"))
    return out


def expected(level: Level, truth: list[dict[str, Any]], coverage: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    """(chain, market, field, old, new, block, block_from, precision) of every row the level should find."""
    out: set[tuple[Any, ...]] = set()
    found = changes(truth)
    for cov in coverage:
        inside = [c for c in found if c.chain_id == cov["chain_id"]
                  and cov["block_from"] <= c.block <= cov["block_number"]]
        groups: dict[tuple[str, str], list[Change]] = {}
        for c in inside:
            groups.setdefault((c.market, c.field), []).append(c)
        for group in groups.values():
            out |= {(cov["chain_id"], *row) for row in _group_rows(level, cov, group)}
    return out


def row_key(row: dict[str, Any]) -> tuple[Any, ...]:
    """A fee_changes row as `expected` states it."""
    return (row["chain_id"], row["address"], row["field"], row["old"], row["new"], row["block_number"],
            row["block_from"], row["precision"])
