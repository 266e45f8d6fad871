"""The market scenario against real anvil nodes: every ground-truth record checked from receipts and chain state.

Nothing here trusts the scenario's own claims: receipts come from eth_getTransactionReceipt, state from eth_call
at the recorded block (and the one before), the implementation from eth_getStorageAt, and event topics are
computed here from the signatures.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from devnet import deploy, nodes
from devnet.chain import Chain, calldata
from devnet.deploy import Deployment
from devnet.scenario_markets import MarketScenario
from devnet.truth import Truth, read

pytestmark = pytest.mark.devnet

KEYS = ["bsc", "base_sepolia", "base"]
SEED = 7
E18, CAP = 10**18, 5 * 10**16
IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc"
TWIN_TRADE = "0x311a52e66bed13064f865403cc4c02927bd6506c88460c4c66ed158c4279f130"
FT_TRADE = "0x2c76e7a47fd53e2854856ac3f0a5f3ee40d15cfaa82266357ea9779c486ab9c3"
SETTER_KINDS = {"fee_set", "fee_destination_set", "min_shares_set"}
TRADE_KINDS = {"trade", "twin_create"}


def topic(signature: str) -> str:
    return Web3.to_hex(Web3.keccak(text=signature))


SET_EVENTS = {"protocolFeePercent": topic("ProtocolFeePercentSet(uint256)"),
              "subjectFeePercent": topic("SubjectFeePercentSet(uint256)"),
              "protocolFeeDestination": topic("ProtocolFeeDestinationSet(address)"),
              "minSharesToCreate": topic("MinSharesToCreateSet(uint256)")}
CALL_SCHEDULED = topic("CallScheduled(bytes32,uint256,address,uint256,bytes,bytes32,uint256)")
CALL_EXECUTED = topic("CallExecuted(bytes32,uint256,address,uint256,bytes)")
CANCELLED = topic("Cancelled(bytes32)")
UPGRADED = topic("Upgraded(address)")
EXECUTED = topic("Executed(uint256,bool)")


@dataclass
class Run:
    chains: dict[str, Chain]
    dep: Deployment
    records: list[dict[str, Any]]
    scripted_count: int
    bulk: int
    timings: dict[str, float]
    receipts: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["kind"] == kind]

    def artifact(self, r: dict[str, Any]) -> str:
        return self.dep.get(r["intent"]["market_name"]).artifact

    def logs(self, r: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self.receipts[(r["chain"], r["tx"])]["logs"])

    def call(self, r: dict[str, Any], getter: str, *args: Any, block: int) -> Any:
        return self.chains[r["chain"]].call(r["intent"]["market"], self.artifact(r), getter, *args, block=block)


def _scenario(tmp: Path, name: str) -> tuple[nodes.Devnet, dict[str, Chain], Deployment, Truth, MarketScenario]:
    dn = nodes.Devnet()
    chains = deploy.chains_for(dn.start(keys=KEYS))
    dep = deploy.deploy_all(chains)
    truth = Truth(tmp / f"{name}.jsonl")
    return dn, chains, dep, truth, MarketScenario(chains, dep, truth, random.Random(SEED))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    try:
        nodes.anvil_binary()
    except nodes.DevnetError as exc:
        pytest.skip(str(exc))
    tmp = tmp_path_factory.mktemp("scenario_markets")
    dn, chains, dep, truth, sc = _scenario(tmp, "run")
    try:
        t0 = time.monotonic()
        sc.setup()
        sc.scripted()
        t1 = time.monotonic()
        scripted_count = truth.count
        for _ in range(20):
            sc.random_trade()
        t2 = time.monotonic()
        bulk = sc.bulk_trades(300)
        t3 = time.monotonic()
        truth.close()
        out = Run(chains, dep, list(read(truth.path)), scripted_count, bulk,
                  {"scripted_s": t1 - t0, "random_s": t2 - t1, "bulk_s": t3 - t2, "bulk_per_s": bulk / (t3 - t2)})
        by_chain: dict[str, list[str]] = defaultdict(list)
        for r in out.records:
            by_chain[r["chain"]].append(r["tx"])
        for key, hashes in by_chain.items():
            unique = list(dict.fromkeys(hashes))
            answers = nodes.rpc_batch(chains[key].url, [("eth_getTransactionReceipt", [h]) for h in unique])
            out.receipts.update({(key, h): a for h, a in zip(unique, answers, strict=True)})
        print(f"\nmarket scenario timings: {out.timings}")
        yield out
    finally:
        dn.stop()


def _int(v: Any) -> int:
    return int(v)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and a.startswith("0x") and len(a) == 42:
        return isinstance(b, str) and a.lower() == b.lower()
    return _int(a) == _int(b)


def _market_logs(run: Run, r: dict[str, Any]) -> list[dict[str, Any]]:
    return [lg for lg in run.logs(r) if lg["address"].lower() == r["intent"]["market"].lower()]


def _words(data: str) -> list[int]:
    raw = data.removeprefix("0x")
    return [int(raw[i:i + 64], 16) for i in range(0, len(raw), 64)]


def test_every_record_matches_its_receipt(run: Run) -> None:
    assert run.records and len(run.records) == len({(r["tx"], r["kind"], str(r["intent"])) for r in run.records})
    for r in run.records:
        raw = run.receipts[(r["chain"], r["tx"])]
        assert raw is not None, r
        assert int(raw["blockNumber"], 16) == r["block"] and raw["blockHash"] == r["block_hash"]
        assert int(raw["status"], 16) == r["status"] == int(r["expect_success"])
        assert [lg["topics"][0] if lg["topics"] else None for lg in raw["logs"]] == [lg["topic0"] for lg in r["logs"]]
    kinds = Counter(r["kind"] for r in run.records)
    for kind in ("twin_create", "trade", "batch_trade", "fee_set", "fee_destination_set", "min_shares_set",
                 "timelock_schedule", "timelock_cancel", "multisig_submit", "setter_inner_reverted",
                 "setter_reverted", "upgrade"):
        assert kinds[kind] >= 1, kind


def test_setter_records_match_state_at_their_block(run: Run) -> None:
    records = [r for r in run.records if r["kind"] in SETTER_KINDS]
    assert {r["intent"]["path"] for r in records} == {"direct", "timelock", "multisig", "batcher"}
    for r in records:
        i = r["intent"]
        assert _same(run.call(r, i["field"], block=r["block"]), i["new"]), r
        assert _same(run.call(r, i["field"], block=r["block"] - 1), i["old"]), r
        assert not _same(i["old"], i["new"]), r


def test_setter_events_exactly_where_expected(run: Run) -> None:
    for r in (r for r in run.records if r["kind"] in SETTER_KINDS):
        i, logs = r["intent"], _market_logs(run, r)
        if run.artifact(r) == "DigitalTwinSharesV1":
            assert i["emits_event"] is True
            sets = [lg for lg in logs if lg["topics"][0] == SET_EVENTS[i["field"]]]
            assert len(sets) == 1, r
            assert _same("0x" + sets[0]["data"][-40:] if i["field"] == "protocolFeeDestination"
                         else _words(sets[0]["data"])[0], i["new"])
        else:
            assert i["emits_event"] is False and logs == [], r


def test_reverted_setter_changes_nothing(run: Run) -> None:
    (r,) = run.of("setter_reverted")
    i = r["intent"]
    assert r["status"] == 0 and run.logs(r) == [] and _int(i["attempted"]) > CAP
    assert _int(run.call(r, i["field"], block=r["block"])) == _int(run.call(r, i["field"], block=r["block"] - 1))
    assert _int(run.call(r, i["field"], block=r["block"])) == _int(i["old"])


def test_multisig_paths(run: Run) -> None:
    (r,) = run.of("setter_inner_reverted")
    i, ms = r["intent"], run.dep.get("bsc_multisig").address.lower()
    assert r["status"] == 1 and i["inner_reverted"] is True and _int(i["attempted"]) > CAP
    executed = [lg for lg in run.logs(r) if lg["address"].lower() == ms and lg["topics"][0] == EXECUTED]
    assert len(executed) == 1 and int(executed[0]["topics"][1], 16) == i["multisig_id"]
    assert _words(executed[0]["data"]) == [0]  # success = false
    assert _int(run.call(r, i["field"], block=r["block"])) == _int(i["old"])
    assert _int(run.call(r, i["field"], block=r["block"] - 1)) == _int(i["old"])
    assert not [lg for lg in _market_logs(run, r) if lg["topics"][0] in SET_EVENTS.values()]
    ok = [r for r in run.of("fee_set") if r["intent"]["path"] == "multisig"]
    assert len(ok) == 1 and {s["intent"]["multisig_id"] for s in run.of("multisig_submit")} == {0, 1}
    done = [lg for lg in run.logs(ok[0]) if lg["address"].lower() == ms and lg["topics"][0] == EXECUTED]
    assert len(done) == 1 and _words(done[0]["data"]) == [1] and ok[0]["intent"]["via"].lower() == ms


def test_upgrade_removes_the_cap(run: Run) -> None:
    (r,) = run.of("upgrade")
    i, ch = r["intent"], run.chains[r["chain"]]
    uncapped, capped = run.dep.get("bsc_impl_uncapped").address, run.dep.get("bsc_impl_capped").address
    assert i["new_implementation"] == uncapped and i["old_implementation"] == capped
    for block, want in ((r["block"], uncapped), (r["block"] - 1, capped)):
        word = ch.rpc("eth_getStorageAt", i["market"], IMPLEMENTATION_SLOT, hex(block))
        assert int(word, 16) == int(want, 16)
    upgraded = [lg for lg in _market_logs(run, r) if lg["topics"][0] == UPGRADED]
    assert len(upgraded) == 1 and int(upgraded[0]["topics"][1], 16) == int(uncapped, 16)
    hikes = [f for f in run.of("fee_set") if f["intent"]["market"] == i["market"] and f["intent"]["beyond_cap"]]
    assert hikes and all(f["block"] > r["block"] and _int(f["intent"]["new"]) > CAP for f in hikes)
    (reverted,) = run.of("setter_reverted")
    assert reverted["block"] < r["block"] and reverted["intent"]["market"] == i["market"]


def test_timelock_schedule_cancel_execute(run: Run) -> None:
    tl = run.dep.get("bsc_timelock").address
    scheduled = [r for r in run.of("timelock_schedule") if r["intent"]["market_name"] == "twin_timelock"]
    (cancel,) = run.of("timelock_cancel")
    executed = [r for r in run.of("fee_set") if r["intent"]["path"] == "timelock"]
    assert len(scheduled) == 2 and len(executed) == 1
    ch = run.chains["bsc"]

    def events(r: dict[str, Any], t0: str) -> list[dict[str, Any]]:
        return [lg for lg in run.logs(r) if lg["address"].lower() == tl.lower() and lg["topics"][0] == t0]

    for s in scheduled:
        i = s["intent"]
        assert [lg["topics"][1] for lg in events(s, CALL_SCHEDULED)] == [i["id"]]
        ts = int(ch.rpc("eth_getBlockByNumber", hex(s["block"]), False)["timestamp"], 16)
        assert i["eta"] == ts + i["delay"] == ts + deploy.TIMELOCK_DELAY_S
        assert ch.call(tl, "DevTimelock", "getTimestamp", bytes.fromhex(i["id"][2:]), block=s["block"]) == i["eta"]
    assert [lg["topics"][1] for lg in events(cancel, CANCELLED)] == [cancel["intent"]["id"]]
    assert ch.call(tl, "DevTimelock", "getTimestamp", bytes.fromhex(cancel["intent"]["id"][2:])) == 0
    (ex,) = executed
    (kept,) = [s for s in scheduled if s["intent"]["id"] == ex["intent"]["timelock_id"]]
    assert kept["intent"]["id"] != cancel["intent"]["id"]
    assert [lg["topics"][1] for lg in events(ex, CALL_EXECUTED)] == [kept["intent"]["id"]]
    assert int(ch.rpc("eth_getBlockByNumber", hex(ex["block"]), False)["timestamp"], 16) >= kept["intent"]["eta"]
    dropped, head = cancel["intent"], int(ch.rpc("eth_blockNumber"), 16)
    assert not [r for r in run.records if r["kind"] in SETTER_KINDS and r["intent"]["market"] == dropped["market"]
                and r["intent"]["field"] == dropped["field"]]
    before = [s for s in scheduled if s["intent"]["id"] == dropped["id"]][0]["intent"]["old"]
    assert _int(run.call(cancel, dropped["field"], block=head)) == _int(before) != _int(dropped["new"])


def test_locked_market_ends_with_a_pending_change_and_cannot_be_upgraded(run: Run) -> None:
    """twin_locked: capped at 5 % (its own view), upgrades revert even from its owner, one change still queued."""
    ch, tl, m = run.chains["bsc"], run.dep.get("bsc_timelock").address, run.dep.get("twin_locked")
    impl = run.dep.get("bsc_impl_locked").address
    (pending,) = [r for r in run.of("timelock_schedule") if r["intent"]["market_name"] == "twin_locked"]
    i, op = pending["intent"], bytes.fromhex(pending["intent"]["id"][2:])
    assert m.owner == tl == Web3.to_checksum_address(ch.call(m.address, "DigitalTwinSharesV1", "owner"))
    assert i["timelock"] == tl
    assert ch.call(m.address, "DigitalTwinSharesV1Locked", "maxFeePercent") == CAP == _int(i["new"])
    assert int(ch.rpc("eth_getStorageAt", m.address, IMPLEMENTATION_SLOT, "latest"), 16) == int(impl, 16)
    assert ch.call(tl, "DevTimelock", "isOperationPending", op) is True
    assert ch.call(tl, "DevTimelock", "isOperationDone", op) is False
    assert ch.call(tl, "DevTimelock", "getTimestamp", op) == i["eta"]
    assert _int(ch.call(m.address, "DigitalTwinSharesV1", "protocolFeePercent")) == _int(i["old"]) != CAP
    upgrade = calldata("DigitalTwinSharesV1", "upgradeToAndCall", run.dep.get("bsc_impl_uncapped").address, b"")
    with pytest.raises(Exception, match="Upgrades disabled"):
        ch.rpc("eth_call", {"from": tl, "to": m.address, "data": upgrade}, "latest")
    too_high = calldata("DigitalTwinSharesV1", "setProtocolFeePercent", CAP + 1)
    with pytest.raises(Exception, match="Fee percent too high"):
        ch.rpc("eth_call", {"from": tl, "to": m.address, "data": too_high}, "latest")
    assert not [r for r in run.records if r["kind"] in SETTER_KINDS and r["intent"]["market_name"] == "twin_locked"]


def _check_trade_log(run: Run, r: dict[str, Any], lg: dict[str, Any]) -> None:
    i = r["intent"]
    ft = run.artifact(r) == "FriendtechSharesV1"
    assert lg["topics"][0] == (FT_TRADE if ft else TWIN_TRADE)
    trader, key, is_buy, amount, eth, protocol, subject, _supply = _words(lg["data"])
    assert trader == int(i["trader"], 16) and is_buy == int(i["is_buy"]) and amount == i["amount"]
    assert key == (int(i["subject"], 16) if ft else int(i["twin"], 16) << 128)
    assert protocol == eth * _int(i["protocol_fee_percent"]) // E18
    assert subject == eth * _int(i["subject_fee_percent"]) // E18
    if is_buy:
        assert _int(i["value"]) >= eth + protocol + subject


def test_each_trade_has_one_trade_log_at_the_intended_fees(run: Run) -> None:
    for r in (r for r in run.records if r["kind"] in TRADE_KINDS):
        trades = [lg for lg in run.logs(r) if lg["topics"] and lg["topics"][0] in (TWIN_TRADE, FT_TRADE)]
        assert len(trades) == 1 and trades[0]["address"].lower() == r["intent"]["market"].lower(), r
        _check_trade_log(run, r, trades[0])
    trades = [r for r in run.records if r["kind"] == "trade"]
    for name in ("twin_eoa", "twin_timelock", "twin_multisig", "twin_batcher", "twin_docs", "friendtech"):
        sides = {r["intent"]["is_buy"] for r in trades if r["intent"]["market_name"] == name}
        assert sides == {True, False}, name
    scripted = run.records[next(n for n, r in enumerate(run.records) if r["kind"] == "trade"):]  # setup has none
    for change in (r for r in scripted if r["kind"] in SETTER_KINDS | {"upgrade"} and r["intent"]["path"] != "batcher"):
        around = [r["block"] for r in trades if r["intent"]["market"] == change["intent"]["market"]
                  and r["chain"] == change["chain"]]
        assert min(around) < change["block"] < max(around), change


def test_batch_trades_and_fee_change_share_one_tx(run: Run) -> None:
    batch = run.of("batch_trade")
    (fee,) = [r for r in run.of("fee_set") if r["intent"]["path"] == "batcher"]
    assert len(batch) == 2 and {r["tx"] for r in batch} == {fee["tx"]}
    logs = run.logs(fee)
    trades = [lg for lg in logs if lg["topics"][0] == TWIN_TRADE]
    (fee_log,) = [lg for lg in logs if lg["topics"][0] == SET_EVENTS["protocolFeePercent"]]
    assert len(trades) == 2
    assert int(trades[0]["logIndex"], 16) < int(fee_log["logIndex"], 16) < int(trades[1]["logIndex"], 16)
    for r in batch:
        _check_trade_log(run, r, trades[r["intent"]["trade_index"]])
    assert _int(batch[0]["intent"]["protocol_fee_percent"]) == _int(fee["intent"]["old"])
    assert _int(batch[1]["intent"]["protocol_fee_percent"]) == _int(fee["intent"]["new"])


def test_bulk_trades_many_per_block(run: Run) -> None:
    bulk = [r for r in run.of("trade") if r["intent"]["path"] == "bulk"]
    assert run.bulk == 300 == len(bulk)
    per_block = Counter((r["chain"], r["block"]) for r in bulk)
    assert max(per_block.values()) > 10
    assert all(ch.rpc("anvil_getAutomine") is True for ch in run.chains.values())


def _comparable(r: dict[str, Any]) -> tuple[Any, ...]:
    intent = {k: v for k, v in r["intent"].items() if k != "eta"}  # eta = block time + delay: wall clock
    return r["kind"], r["chain"], r["block"], r["status"], intent, [lg["topic0"] for lg in r["logs"]]


def test_same_seed_same_intents(run: Run, tmp_path: Path) -> None:
    dn, _chains, _dep, truth, sc = _scenario(tmp_path, "again")
    try:
        sc.setup()
        sc.scripted()
        truth.close()
    finally:
        dn.stop()
    again = list(read(truth.path))
    assert [_comparable(r) for r in again] == [_comparable(r) for r in run.records[:run.scripted_count]]
