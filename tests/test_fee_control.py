"""Fee control: owners and their rules, ceiling labels from simulated setter calls, re-evaluation, queued changes.

The devnet tests hold the collector against the deployment (who owns what), the simulator's intents and
receipts (the upgrade, the timelock's schedule / cancel / execute and their eta) and chain state read here
(hasRole), never against ogwatch's own decoding. Read-only checks use the shared world; anything that sends
transactions starts a fresh one.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest
from eth_utils import keccak, to_checksum_address

from collectors import runner
from collectors.engine import Engine
from collectors.fee_control import Evaluation, FeeControlCollector, QueuedChange, queued_changes, watched_markets
from collectors.fee_control_probe import (
    PRECISION,
    implementation,
    probe_ceiling,
    resolve_owner,
    roundest,
)
from collectors.pool import RpcPool
from collectors.rpc import RpcError
from devnet import world
from devnet.chain import Chain, Receipt
from devnet.deploy import TIMELOCK_DELAY_S
from devnet.scenario_markets import MarketScenario
from devnet.truth import Truth, read
from devnet.world import TRUTH_FILE, World
from store import chainwrite
from store.db import Store
from store.u256 import MAX_U256
from tests.engine_helpers import world_config

CAP = 5 * 10**16
BSC_MARKETS = ("twin_eoa", "twin_timelock", "twin_multisig", "twin_batcher")  # capped, upgradeable at first
LOCKED = "twin_locked"  # capped, its implementation refuses upgrades, timelock-owned, one change left queued
ALL_BSC = (*BSC_MARKETS, LOCKED)
ZERO_ROLE = "0x" + "00" * 32
CLAIM_ROLE = "0x" + keccak(text="CLAIM_OWNERSHIP_ROLE").hex()


# ---- the bisection, against a stand-in node ----------------------------------------------------------

@dataclass
class CapPool(RpcPool):
    """Answers eth_call of a setter: reverts above `cap` (None: accepts everything), counts the calls."""

    cap: int | None = None
    failure: bool = False
    probes: list[int] = field(default_factory=list)

    def call(self, method: str, params: list[Any] | None = None, *, range_call: bool = False) -> Any:
        tx = (params or [{}])[0]
        if self.failure:
            raise RpcError("rpc", "header not found", code=-32000)
        value = int(tx["data"][10:], 16)
        self.probes.append(value)
        if self.cap is not None and value > self.cap:
            raise RpcError("rpc", "execution reverted: Fee percent too high", code=3)
        return "0x"


def _probe(pool: CapPool, upgradeable: bool = False) -> Any:
    return probe_ceiling(pool, "0x" + "11" * 20, "twinfun_market", "protocolFeePercent", "0x" + "22" * 20, 7,
                         upgradeable=upgradeable)


def test_round_cap_is_found_exactly() -> None:
    pool = CapPool(["http://127.0.0.1:9"], cap=CAP)
    label, top, evidence = _probe(pool, upgradeable=True)
    assert (label, top) == ("capped-but-upgradeable", CAP)
    by_value = {e.value: e.reverted for e in evidence}
    assert by_value[10**18] and by_value[CAP + 1] and not by_value[CAP]
    assert len(pool.probes) == len(set(pool.probes)) < 30


def test_odd_cap_is_found_to_the_precision() -> None:
    cap = 123_456_789_012_345_678
    ceiling = _probe(CapPool(["http://127.0.0.1:9"], cap=cap))
    assert ceiling.label == "capped"
    assert ceiling.max_accepted is not None and ceiling.min_rejected is not None
    assert ceiling.max_accepted <= cap < ceiling.min_rejected <= ceiling.max_accepted + PRECISION


def test_uncapped_and_nothing_accepted() -> None:
    pool = CapPool(["http://127.0.0.1:9"])
    ceiling = _probe(pool)
    assert (ceiling.label, ceiling.max_accepted, ceiling.min_rejected) == ("uncapped", MAX_U256, None)
    assert pool.probes == [10**18, MAX_U256]
    nothing = _probe(CapPool(["http://127.0.0.1:9"], cap=-1))
    assert (nothing.label, nothing.max_accepted, nothing.min_rejected) == ("capped", None, 0)


def test_node_failure_is_not_taken_for_a_revert() -> None:
    with pytest.raises(RpcError, match="header not found"):
        _probe(CapPool(["http://127.0.0.1:9"], failure=True))


def test_roundest() -> None:
    assert roundest(49_999_999_000_000_001, 50_000_000_900_000_000) == CAP
    assert roundest(17, 17) == 17
    assert roundest(0, 10**18) == 0


def test_schema_macro_and_views(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb", serve=False) as store:
        cur = store.cursor()
        tables = {t for t, _ in chainwrite.chain_tables(cur)}
        assert {"market_control", "ceiling_evidence", "ceilings"} <= tables
        assert not {"role_holders", "queued_changes"} & tables  # views are never trimmed by a rollback
        got = cur.execute("SELECT u256_hex_text(?), u256_hex_text(?)", ["f" * 64, f"{CAP:064x}"]).fetchall()
        assert got == [(str(MAX_U256), str(CAP))]


def test_queued_view_filters_and_decodes(tmp_path: Path) -> None:
    market, timelock, dest = "0x" + "Aa" * 20, "0x" + "Bb" * 20, "0x" + "cd" * 20
    with Store(tmp_path / "s.duckdb", serve=False) as store, store.transaction() as cur:
        cur.execute("INSERT INTO market_control VALUES (1, ?, 5, 'twinfun_market', ?, 'timelock', '{}', NULL, false,"
                    " 0, '[]', now())", [market, timelock])
        calls = {"0x01": "0xa4983421" + f"{MAX_U256:064x}", "0x02": "0x5a8a764e" + f"{CAP:064x}",
                 "0x03": "0xfbe53234" + dest[2:].rjust(64, "0"), "0x04": "0xa4983421" + f"{CAP:064x}",
                 "0x05": "0x12345678" + f"{CAP:064x}"}
        rows: list[tuple[int, str, str, str | None]] = [
            (i, "CallScheduled", op, d) for i, (op, d) in enumerate(calls.items())]
        rows += [(10, "Cancelled", "0x02", None), (11, "CallExecuted", "0x04", calls["0x04"])]
        for log_index, event, op, data in rows:
            cur.execute("INSERT INTO timelock_events (chain_id, block_number, block_hash, block_ts, tx_hash, tx_index,"
                        " log_index, address, event, operation_id, call_index, target, data, selector, delay)"
                        " VALUES (1, 6, '0xb', 1000, '0xt', 0, ?, ?, ?, ?, '0', ?, ?, ?, '3600')",
                        [log_index, timelock, event, op, market, data, data and data[:10]])
        got = {q.operation_id: q for q in queued_changes(cur, 1, 4600)}
        view = cur.execute("SELECT operation_id, new_value, eta FROM queued_changes ORDER BY 1").fetchall()
    assert set(got) == {"0x01", "0x03"}  # cancelled, executed and non-fee calls are not queued
    assert (got["0x01"].field, got["0x01"].new_value, got["0x01"].eta) == ("protocolFeePercent", MAX_U256, 4600)
    assert got["0x01"].ready and got["0x01"].seconds_left == 0 and got["0x01"].owner_is_timelock
    assert (got["0x03"].field, got["0x03"].new_value) == ("protocolFeeDestination", to_checksum_address(dest))
    assert view == [("0x01", str(MAX_U256), 4600), ("0x03", dest, 4600)]


# ---- the shared world (read-only) -----------------------------------------------------------------------

def _index(cfg: Any, store: Store, networks: list[str]) -> list[Engine]:
    engines = runner.engines(cfg, store, networks=networks, sources=["fees"])
    for e in engines:
        while e.tick().spans:
            pass
    return engines


def _collector(w: World, cfg: Any, store: Store, key: str) -> FeeControlCollector:
    return FeeControlCollector(store, RpcPool([w.chains[key].url]), w.dep.chains[key], watched_markets(cfg, key))


def _ceilings(cur: duckdb.DuckDBPyConnection, address: str, block: int) -> dict[str, tuple[str, int | None]]:
    rows = cur.execute("SELECT field, label, max_accepted FROM ceilings WHERE address = ? AND block_number = ?",
                       [address, block]).fetchall()
    return {f: (label, None if top is None else int(top)) for f, label, top in rows}


@dataclass
class Shared:
    """The shared world indexed into a store, with the truth records."""

    w: World
    store: Store
    cfg: Any
    truth: list[dict[str, Any]]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.truth if r["kind"] == kind]

    def head(self, key: str) -> int:
        return int(self.w.chains[key].head()["number"], 16)


@pytest.fixture(scope="module")
def shared(devnet_world: World, devnet_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    path = tmp_path_factory.mktemp("fee_control") / "s.duckdb"
    cfg = world_config(devnet_world, path)
    with Store(path, serve=False) as store:
        _index(cfg, store, ["bsc", "base_sepolia", "base"])
        yield Shared(devnet_world, store, cfg, list(read(devnet_snapshot / TRUTH_FILE)))


@pytest.mark.devnet
def test_owner_kinds_and_rules(shared: Shared) -> None:
    dep, acct = shared.w.dep, shared.w.dep.accounts
    pool = RpcPool([shared.w.chains["bsc"].url])
    head = shared.head("bsc")
    got = {name: resolve_owner(pool, dep.get(name).address, head) for name in ALL_BSC}
    assert got["twin_eoa"] == (acct["market_owner"], "eoa", {})
    assert got["twin_timelock"] == (dep.get("bsc_timelock").address, "timelock", {"min_delay": TIMELOCK_DELAY_S})
    assert got[LOCKED] == got["twin_timelock"]
    signers = [acct["signer_a"], acct["signer_b"], acct["signer_c"]]
    assert got["twin_multisig"] == (dep.get("bsc_multisig").address, "multisig", {"threshold": 2, "signers": signers})
    assert got["twin_batcher"] == (dep.get("bsc_batcher").address, "contract", {})
    for name in ("twin_docs", "friendtech"):
        d = dep.get(name)
        other = RpcPool([shared.w.chains[d.chain].url])
        assert resolve_owner(other, d.address, shared.head(d.chain)) == (d.owner, "eoa", {})


@pytest.mark.devnet
def test_labels_on_every_variant(shared: Shared) -> None:
    dep = shared.w.dep
    upgrade = shared.of("upgrade")[0]
    before = upgrade["block"] - 1
    bsc = _collector(shared.w, shared.cfg, shared.store, "bsc")
    first = {ev.market.address: ev.upgradeable for ev in bsc.tick(before)}
    assert first == {dep.get(n).address: n != LOCKED for n in ALL_BSC}
    cur = shared.store.cursor()
    both = {"protocolFeePercent": ("capped-but-upgradeable", CAP), "subjectFeePercent": ("capped-but-upgradeable", CAP)}
    for name in BSC_MARKETS:
        assert _ceilings(cur, dep.get(name).address, before) == both, name
    locked = dep.get(LOCKED).address
    cap = shared.w.chains["bsc"].call(locked, "DigitalTwinSharesV1Locked", "maxFeePercent")  # the contract's own
    final = {"protocolFeePercent": ("capped", cap), "subjectFeePercent": ("capped", cap)}
    assert _ceilings(cur, locked, before) == final
    # after the upgrade only twin_eoa is re-evaluated, for its Upgraded event and its new implementation
    head = shared.head("bsc")
    again = bsc.tick(head)
    eoa = dep.get("twin_eoa").address
    assert [(ev.market.address, ev.reasons) for ev in again] == [(eoa, ["admin_events", "implementation"])]
    assert again[0].control.implementation == upgrade["intent"]["new_implementation"]
    uncapped = {"protocolFeePercent": ("uncapped", MAX_U256), "subjectFeePercent": ("uncapped", MAX_U256)}
    assert _ceilings(cur, eoa, head) == uncapped
    for name in ("twin_docs", "friendtech"):
        d = dep.get(name)
        evs = _collector(shared.w, shared.cfg, shared.store, d.chain).tick(shared.head(d.chain))
        assert [ev.market.address for ev in evs] == [d.address]
        assert _ceilings(cur, d.address, shared.head(d.chain)) == uncapped, name


@pytest.mark.devnet
def test_evidence_shows_the_revert_just_above_the_cap(shared: Shared) -> None:
    d = shared.w.dep.get("twin_multisig")
    head = shared.head("bsc")
    _collector(shared.w, shared.cfg, shared.store, "bsc").tick(head)  # evaluates only what is new or changed
    rows = shared.store.cursor().execute(
        "SELECT value, reverted, caller FROM ceiling_evidence WHERE address = ? AND field = 'subjectFeePercent'"
        " AND block_number <= ? ORDER BY block_number DESC, seq", [d.address, head]).fetchall()
    got = {int(v): r for v, r, _ in rows}
    assert got[CAP] is False and got[CAP + 1] is True and got[10**18] is True
    assert {c for _, _, c in rows} == {d.owner}  # simulated from the owner contract itself


@pytest.mark.devnet
def test_the_upgrade_record_matches_the_slot(shared: Shared) -> None:
    upgrade = shared.of("upgrade")[0]
    pool = RpcPool([shared.w.chains["bsc"].url])
    market = upgrade["intent"]["market"]
    assert implementation(pool, market, upgrade["block"] - 1) == upgrade["intent"]["old_implementation"]
    assert implementation(pool, market, upgrade["block"]) == upgrade["intent"]["new_implementation"]
    reverted = next(r for r in shared.of("setter_reverted") if r["intent"]["market"] == market)
    ceiling = probe_ceiling(pool, market, "twinfun_market", reverted["intent"]["field"],
                            reverted["intent"]["actor"], reverted["block"] - 1)
    assert ceiling.max_accepted == int(reverted["intent"]["cap"]) < int(reverted["intent"]["attempted"])  # JSON text


@pytest.mark.devnet
def test_role_holders_match_has_role(shared: Shared) -> None:
    ch = shared.w.chains["bsc"]
    rows = shared.store.cursor().execute(
        "SELECT address, role, role_name, account FROM role_holders WHERE chain_id = ?",
        [shared.w.dep.chains["bsc"]]).fetchall()
    for name in ALL_BSC:
        d = shared.w.dep.get(name)
        mine = {(role, account) for addr, role, _n, account in rows if addr == d.address}
        assert mine == {(ZERO_ROLE, shared.w.dep.accounts["deployer"]), (CLAIM_ROLE, shared.w.dep.accounts["deployer"])}
        for role, account in mine:
            assert ch.call(d.address, d.artifact, "hasRole", bytes.fromhex(role[2:]), account) is True
    timelock, owner = shared.w.dep.get("bsc_timelock").address, shared.w.dep.accounts["market_owner"]
    names = {n for addr, _r, n, account in rows if addr == timelock and account == owner}
    assert names == {"PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE"}


# ---- a fresh world: the scenario plays, the collector watches at chosen moments -----------------------

class WatchedTruth(Truth):
    """Ground truth that calls a hook after each record (the moment right after that transaction)."""

    def __init__(self, path: Path, hook: Callable[[str, dict[str, Any], Receipt], None]):
        super().__init__(path)
        self.hook = hook

    def record(self, chain: Chain, kind: str, intent: dict[str, Any], receipt: Receipt,
               expect_success: bool = True) -> Receipt:
        rec = super().record(chain, kind, intent, receipt, expect_success)
        self.hook(kind, intent, rec)
        return rec


@dataclass
class Moment:
    """What the collector saw right after one ground-truth record."""

    kind: str
    intent: dict[str, Any]
    block: int
    evaluations: list[Evaluation]
    queued: list[QueuedChange]


@dataclass
class Watcher:
    """Indexes bsc and ticks the fee control collector at the moments the test cares about."""

    w: World
    store: Store
    engines: list[Engine]
    collector: FeeControlCollector
    moments: list[Moment] = field(default_factory=list)
    watch: tuple[str, ...] = ("timelock_schedule", "timelock_cancel", "fee_set", "setter_reverted", "upgrade")

    def hook(self, kind: str, intent: dict[str, Any], rec: Receipt) -> None:
        if kind in self.watch and (kind != "fee_set" or intent["path"] == "timelock"):
            self.moments.append(self.observe(kind, intent))

    def observe(self, kind: str, intent: dict[str, Any]) -> Moment:
        for e in self.engines:
            while e.tick().spans:
                pass
        head = self.w.chains["bsc"].head()
        number, ts = int(head["number"], 16), int(head["timestamp"], 16)
        evs = self.collector.tick(number)
        return Moment(kind, intent, number, evs, queued_changes(self.store.cursor(), self.collector.chain_id, ts))


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Watcher]:
    tmp = tmp_path_factory.mktemp("fee_control_fresh")
    w = world.start(keys=["bsc", "base_sepolia", "base"])
    try:
        cfg = world_config(w, tmp / "s.duckdb")
        with Store(tmp / "s.duckdb", serve=False) as store:
            watcher = Watcher(w, store, runner.engines(cfg, store, networks=["bsc"], sources=["fees"]),
                              _collector(w, cfg, store, "bsc"))
            truth = WatchedTruth(tmp / "truth.jsonl", watcher.hook)
            scenario = MarketScenario(w.chains, w.dep, truth, random.Random(11))
            scenario.setup()
            scenario.scripted()
            truth.close()
            yield watcher
    finally:
        w.stop()


def _at(watcher: Watcher, kind: str) -> list[Moment]:
    return [m for m in watcher.moments if m.kind == kind]


@pytest.mark.devnet
def test_queued_until_executed_and_cancelled_never_shown(fresh: Watcher) -> None:
    kept_at, dropped_at, pending_at = _at(fresh, "timelock_schedule")
    kept, dropped = kept_at.intent, dropped_at.intent
    assert kept["delay"] == dropped["delay"] == TIMELOCK_DELAY_S

    def shown(m: Moment) -> dict[str, QueuedChange]:
        return {q.operation_id: q for q in m.queued}

    assert set(shown(kept_at)) == {kept["id"]}
    assert set(shown(dropped_at)) == {kept["id"], dropped["id"]}
    for intent in (kept, dropped):
        q = shown(dropped_at)[intent["id"]]
        assert (q.market, q.field, q.new_value, q.eta) == (intent["market"], intent["field"], intent["new"],
                                                           intent["eta"])
        assert q.timelock == intent["timelock"] and q.owner_is_timelock is True and not q.ready
    (cancel,) = _at(fresh, "timelock_cancel")
    assert cancel.intent["id"] == dropped["id"]
    assert set(shown(cancel)) == {kept["id"]}
    (executed,) = _at(fresh, "fee_set")
    assert executed.intent["timelock_id"] == kept["id"]
    assert shown(executed) == {}
    later = fresh.moments[fresh.moments.index(executed):]
    assert all(dropped["id"] not in shown(m) for m in [cancel, *later])
    pending = pending_at.intent  # the capped market without upgrade path: scheduled last, never executed
    assert pending["market"] == fresh.w.dep.get(LOCKED).address and pending_at is fresh.moments[-1]
    (q,) = pending_at.queued
    assert (q.operation_id, q.market, q.field, q.new_value, q.eta, q.delay) == (
        pending["id"], pending["market"], pending["field"], int(pending["new"]), pending["eta"], TIMELOCK_DELAY_S)
    tl, op = fresh.w.dep.get("bsc_timelock").address, bytes.fromhex(pending["id"][2:])
    ch = fresh.w.chains["bsc"]
    assert ch.call(tl, "DevTimelock", "isOperationPending", op) is True  # the timelock's own view agrees
    assert ch.call(tl, "DevTimelock", "getTimestamp", op) == q.eta and not q.ready and q.seconds_left


@pytest.mark.devnet
def test_re_evaluated_after_the_upgrade_only(fresh: Watcher) -> None:
    dep = fresh.w.dep
    first = fresh.moments[0]
    assert {ev.market.address: ev.reasons for ev in first.evaluations} == {dep.get(n).address: ["new"]
                                                                          for n in ALL_BSC}
    for ev in first.evaluations:
        label = "capped" if ev.market.address == dep.get(LOCKED).address else "capped-but-upgradeable"
        assert {f: (c.label, c.max_accepted) for f, c in ev.ceilings.items()} == {
            "protocolFeePercent": (label, CAP), "subjectFeePercent": (label, CAP)}
        assert ev.upgradeable == (label != "capped") and ev.rpc_calls < 80
    (upgrade,) = _at(fresh, "upgrade")
    others = [m for m in fresh.moments[1:] if m is not upgrade]
    assert all(m.evaluations == [] for m in others)  # trades, fee changes and schedules trigger nothing
    (ev,) = upgrade.evaluations
    assert ev.market.address == upgrade.intent["market"] == dep.get("twin_eoa").address
    assert ev.reasons == ["admin_events", "implementation"] and ev.block == upgrade.block
    assert ev.control.implementation == upgrade.intent["new_implementation"]
    assert {f: c.label for f, c in ev.ceilings.items()} == {"protocolFeePercent": "uncapped",
                                                           "subjectFeePercent": "uncapped"}


@pytest.mark.devnet
def test_role_and_ownership_changes_re_evaluate(fresh: Watcher) -> None:
    dep, ch = fresh.w.dep, fresh.w.chains["bsc"]
    market, acct = dep.get("twin_batcher"), dep.accounts
    rec = ch.transact(acct["deployer"], market.address, market.artifact, "grantRole", bytes.fromhex(CLAIM_ROLE[2:]),
                      acct["trader_0"])
    assert rec.status == 1
    moment = fresh.observe("grant", {})
    assert [(ev.market.address, ev.reasons) for ev in moment.evaluations] == [(market.address, ["admin_events"])]
    holders = fresh.store.cursor().execute(
        "SELECT since_block FROM role_holders WHERE address = ? AND role = ? AND account = ?",
        [market.address, CLAIM_ROLE, acct["trader_0"]]).fetchall()
    assert holders == [(rec.block_number,)]
    eoa = dep.get("twin_eoa")
    rec = ch.transact(acct["market_owner"], eoa.address, eoa.artifact, "transferOwnership", acct["signer_a"])
    assert rec.status == 1
    (ev,) = fresh.observe("transfer", {}).evaluations
    assert (ev.market.address, ev.reasons, ev.control.owner) == (eoa.address, ["admin_events", "owner"],
                                                                 acct["signer_a"])
    stored = fresh.store.cursor().execute(
        "SELECT owner, owner_kind, reasons FROM market_control WHERE address = ? ORDER BY block_number DESC LIMIT 1",
        [eoa.address]).fetchall()
    assert stored == [(acct["signer_a"], "eoa", json.dumps(["admin_events", "owner"]))]
