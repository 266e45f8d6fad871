"""A seeded Twin.fun / friend.tech market scenario: trades and fee changes by every path, with ground truth.

Every action is a Truth record (intent + receipt; nothing decoded by ogwatch); the one Batcher.batch tx carries
three (its two trades and the fee change between them). Integers above 2**53 are JSON strings (Truth). Kinds:

- ``twin_create``: a twin's creation / a subject's first share (one Trade log), trade intent keys + ``url`` (BSC).
- ``trade``: one buy or sell (one Trade log): market, market_name, twin (hex) or subject, trader, is_buy, amount,
  value, protocol_fee_percent, subject_fee_percent (what the contract should charge), path, min_payout (BSC sells).
  In bulk (path "bulk") a buy's value is the price at the highest supply its block can reach; the excess is refunded.
- ``batch_trade``: a trade inside a Batcher.batch tx (trade keys + batch_index, trade_index; trader = Batcher).
- ``fee_set`` / ``fee_destination_set`` / ``min_shares_set``: a setter change: market, market_name, field, setter,
  old (read before), new, path (direct | timelock | multisig | batcher), actor, via, emits_event, event, capped,
  beyond_cap, expected (what a monitor should find per node capability: devnet/scenario_markets_expect.py), undo
  (None; "there" / "back" + undoes on an A->B->A pair from set_and_undo) (+ timelock_id, multisig_id or batch_index).
- ``timelock_schedule`` / ``timelock_cancel``: a queued change (id, predecessor, salt, delay, eta, target call) and
  its cancellation (never executed).
- ``multisig_submit``: a proposal (multisig_id, target, data, field, new, confirmations, threshold).
- ``setter_inner_reverted``: the threshold-reaching multisig confirm whose inner setter call reverted (outer tx
  succeeds, inner_reverted true, no state change); ``setter_reverted``: a direct setter call that reverts (status 0).
  Both carry expected: "never" under every capability (never a change).
- ``upgrade``: upgradeToAndCall to the uncapped implementation (old_implementation, new_implementation).

``twin_locked`` (capped, its implementation refuses upgrades, timelock-owned) ends the scripted run with one
``timelock_schedule`` (protocolFeePercent to the 5 % cap) that is never executed nor cancelled: still pending.

The scenario keeps its own bookkeeping (`Market`) and raises `SimulatorError` whenever the chain disagrees.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from web3 import Web3

from devnet.chain import calldata
from devnet.deploy import TIMELOCK_DELAY_S
from devnet.scenario_markets_expect import expected_reverted
from devnet.scenario_markets_paths import (
    FEE_CAP,
    FIELDS,
    IMPLEMENTATION_SLOT,
    MARKETS,
    ZERO32,
    Chunk,
    Market,
    MarketsBase,
    SimulatorError,
    timelock_op_id,
)

PCT = 10**16  # 1 % in the contracts' 1e18 precision
TWINS_PER_MARKET = 3


class MarketScenario(MarketsBase):
    """Drives trades and fee changes of every kind on the devnet markets and records the ground truth."""

    def setup(self) -> None:
        """Initial fees on the event-less markets, then several twins (or subjects) per market."""
        initial = {"twin_docs": (2 * PCT, 3 * PCT), "friendtech": (5 * PCT, 5 * PCT)}
        for name, (protocol_fee, subject_fee) in initial.items():
            m = self.markets[name]
            self.set_direct(m, "protocolFeeDestination", self.owner)
            self.set_direct(m, "protocolFeePercent", protocol_fee)
            self.set_direct(m, "subjectFeePercent", subject_fee)
        for name in MARKETS:
            m = self.markets[name]
            if m.by_subject:  # friend.tech: a subject buys its own first share
                for subject in self.rng.sample(self.traders, TWINS_PER_MARKET):
                    self.create(m, subject, subject)
            else:
                for _ in range(TWINS_PER_MARKET):
                    self.create(m, self.new_twin_id(), self.rng.choice(self.traders))

    def scripted(self) -> None:
        """The catalogue: every path of fee change, with trades on every market around each change."""
        self._require_setup()
        for m in self.markets.values():
            self.trades(m, 2)
        self._direct_changes()
        self._timelock_changes()
        self._multisig_changes()
        self._batched_change()
        self._cap_and_upgrade()
        self._uncapped_changes()
        self._queued_change()
        for m in self.markets.values():
            self.trades(m, 1)

    def random_trade(self) -> None:
        """One random buy or sell by a random trader on a random market and twin (live mode)."""
        self._require_setup()
        self.trade(self.markets[self.rng.choice(MARKETS)])

    def bulk_trades(self, n: int) -> int:
        """n trades as fast as the nodes take them: per chain, blocks of raw sends with automine off."""
        self._require_setup()
        plans = self.plan_bulk(n)
        with ThreadPoolExecutor(max(1, len(plans)), thread_name_prefix="bulk-trades") as pool:
            done = [pool.submit(self._send_bulk, key, chunks) for key, chunks in plans.items()]
            recorded = sum(f.result() for f in done)
        for m in self.markets.values():
            for key in m.keys:
                self.expect(m, "sharesSupply", m.supply[key], m.arg(key))
        return recorded

    def _require_setup(self) -> None:
        if not all(m.keys for m in self.markets.values()):
            raise SimulatorError("the markets have no twins yet: run setup() first")

    # ----- 1. direct changes by the EOA owner -----

    def _direct_changes(self) -> None:
        m = self.markets["twin_eoa"]
        for fld, new in (("protocolFeePercent", 4 * PCT), ("subjectFeePercent", 35 * PCT // 10),
                         ("protocolFeeDestination", self.acct["operator_d"]), ("minSharesToCreate", 2)):
            self.set_direct(m, fld, new)
            self.trades(m, 2)

    # ----- 2. through the timelock -----

    def _timelock_changes(self) -> None:
        m = self.markets["twin_timelock"]
        if self.chains[m.chain].call(m.owner, "DevTimelock", "getMinDelay") != TIMELOCK_DELAY_S:
            raise SimulatorError("the timelock's delay is not deploy.TIMELOCK_DELAY_S")
        kept = self._schedule(m, "protocolFeePercent", 45 * PCT // 10)
        dropped = self._schedule(m, "subjectFeePercent", 5 * PCT)
        self.trades(m, 2)
        rec = self.chains[m.chain].transact(self.owner, m.owner, "DevTimelock", "cancel", _b(dropped["id"]))
        self.record(m, "timelock_cancel", {k: dropped[k] for k in ("market", "market_name", "timelock", "id", "field",
                                                                   "setter", "new", "target", "data")}
                    | {"actor": self.owner, "path": "timelock"}, rec)
        if self.chains[m.chain].call(m.owner, "DevTimelock", "isOperation", _b(dropped["id"])):
            raise SimulatorError(f"timelock operation {dropped['id']} still exists after cancel")
        self.trades(m, 1)
        self.chains[m.chain].advance_time(TIMELOCK_DELAY_S + 1)
        fld, new = kept["field"], kept["new"]
        old = self.read_old(m, fld)
        rec = self.chains[m.chain].transact(self.owner, m.owner, "DevTimelock", "execute", m.address, 0,
                                            _b(kept["data"]), ZERO32, _b(kept["salt"]))
        self.record(m, "fee_set", self.setter_intent(m, fld, old, new, "timelock", self.owner, timelock_id=kept["id"]),
                    rec)
        self.applied(m, fld, new)
        self.trades(m, 2)

    def _schedule(self, m: Market, fld: str, new: int) -> dict[str, Any]:
        ch, setter = self.chains[m.chain], FIELDS[fld][0]
        data, salt = calldata(m.artifact, setter, new), self.rng.getrandbits(256).to_bytes(32, "big")
        op_id = timelock_op_id(m.address, 0, data, ZERO32, salt)
        if "0x" + ch.call(m.owner, "DevTimelock", "hashOperation", m.address, 0, _b(data), ZERO32, salt).hex() != op_id:
            raise SimulatorError("the timelock's hashOperation differs from the local operation id")
        old = self.read_old(m, fld)
        rec = ch.transact(self.owner, m.owner, "DevTimelock", "schedule", m.address, 0, _b(data), ZERO32, salt,
                          TIMELOCK_DELAY_S)
        eta = self.block_time(m, rec.block_number) + TIMELOCK_DELAY_S
        intent = {"market": m.address, "market_name": m.name, "timelock": m.owner, "id": op_id, "field": fld,
                  "setter": setter, "old": old, "new": new, "target": m.address, "value": 0, "data": data,
                  "predecessor": "0x" + ZERO32.hex(), "salt": "0x" + salt.hex(), "delay": TIMELOCK_DELAY_S,
                  "eta": eta, "actor": self.owner, "path": "timelock"}
        self.record(m, "timelock_schedule", intent, rec)
        if ch.call(m.owner, "DevTimelock", "getTimestamp", _b(op_id)) != eta:
            raise SimulatorError(f"timelock operation {op_id} is not ready at {eta}")
        return intent

    # ----- 3. through the multisig -----

    def _multisig_changes(self) -> None:
        m = self.markets["twin_multisig"]
        first = self._submit(m, "protocolFeePercent", 2 * PCT, self.acct["signer_a"])
        self.trades(m, 1)
        self._confirm(m, first, self.acct["signer_b"])
        self.trades(m, 2)
        failing = self._submit(m, "subjectFeePercent", 8 * PCT, self.acct["signer_b"])  # above the 5 % cap
        self._confirm(m, failing, self.acct["signer_c"])
        self.trades(m, 1)

    def _submit(self, m: Market, fld: str, new: int, signer: str) -> dict[str, Any]:
        ch, setter = self.chains[m.chain], FIELDS[fld][0]
        data, ms_id = calldata(m.artifact, setter, new), ch.call(m.owner, "SimpleMultisig", "transactionCount")
        rec = ch.transact(signer, m.owner, "SimpleMultisig", "submit", m.address, 0, _b(data))
        intent = {"market": m.address, "market_name": m.name, "multisig": m.owner, "multisig_id": ms_id,
                  "field": fld, "setter": setter, "new": new, "target": m.address, "data": data, "actor": signer,
                  "confirmations": 1, "threshold": ch.call(m.owner, "SimpleMultisig", "getThreshold"),
                  "path": "multisig"}
        self.record(m, "multisig_submit", intent, rec)
        to, _value, _data, executed, _ok, confirmations = ch.call(m.owner, "SimpleMultisig", "getTransaction", ms_id)
        if Web3.to_checksum_address(to) != m.address or executed or confirmations != 1:
            raise SimulatorError(f"multisig proposal {ms_id} is not pending with one confirmation")
        return intent

    def _confirm(self, m: Market, proposal: dict[str, Any], signer: str) -> None:
        ch, fld, new, ms_id = self.chains[m.chain], proposal["field"], proposal["new"], proposal["multisig_id"]
        inner_ok = not (m.capped and new > FEE_CAP)
        old = self.read_old(m, fld)
        rec = ch.transact(signer, m.owner, "SimpleMultisig", "confirm", ms_id)
        if inner_ok:
            self.record(m, "fee_set", self.setter_intent(m, fld, old, new, "multisig", signer, multisig_id=ms_id), rec)
            self.applied(m, fld, new)
        else:
            intent = {"market": m.address, "market_name": m.name, "field": fld, "setter": proposal["setter"],
                      "old": old, "attempted": new, "cap": FEE_CAP, "path": "multisig", "actor": signer,
                      "via": m.owner, "multisig_id": ms_id, "inner_reverted": True, "expected": expected_reverted()}
            self.record(m, "setter_inner_reverted", intent, rec)
            self.expect(m, fld, old)
        *_, executed, ok, _confirmations = ch.call(m.owner, "SimpleMultisig", "getTransaction", ms_id)
        if not executed or ok != inner_ok:
            raise SimulatorError(f"multisig proposal {ms_id}: executed={executed} success={ok}, expected {inner_ok}")

    # ----- 4. inside one Batcher.batch transaction -----

    def _batched_change(self) -> None:
        m = self.markets["twin_batcher"]
        ch, batcher, fld, new = self.chains[m.chain], m.owner, "protocolFeePercent", 5 * PCT
        key, first, second = self.rng.choice(m.keys), self.rng.randint(1, 3), self.rng.randint(1, 3)
        old = self.read_old(m, fld)
        value1 = self.read(m, "getBuyPriceAfterFee", m.arg(key), first)
        if value1 != m.cost(key, first):
            raise SimulatorError(f"{m.name}: batch buy costs {value1} on chain, bookkeeping {m.cost(key, first)}")
        trade1 = self.trade_intent(m, key, batcher, True, first, value1, "batcher", batch_index=0, trade_index=0)
        m.apply(key, batcher, True, first)
        m.fields[fld] = new
        value2 = m.cost(key, second)
        trade2 = self.trade_intent(m, key, batcher, True, second, value2, "batcher", batch_index=2, trade_index=1)
        m.apply(key, batcher, True, second)
        calls = [m.trade_data(key, True, first), calldata(m.artifact, FIELDS[fld][0], new),
                 m.trade_data(key, True, second)]
        rec = ch.transact(self.owner, batcher, "Batcher", "batch", [m.address] * 3, [value1, 0, value2],
                          [_b(c) for c in calls], value=value1 + value2)
        self.record(m, "batch_trade", trade1, rec)
        self.record(m, "fee_set", self.setter_intent(m, fld, old, new, "batcher", self.owner, batch_index=1), rec)
        self.record(m, "batch_trade", trade2, rec)
        self.applied(m, fld, new)
        self.expect(m, "sharesSupply", m.supply[key], m.arg(key))
        self.trades(m, 2)

    # ----- 5. + 6. the cap: a reverted setter, then the upgrade that removes it -----

    def _cap_and_upgrade(self) -> None:
        m = self.markets["twin_eoa"]
        ch, fld, attempted = self.chains[m.chain], "protocolFeePercent", 6 * PCT
        old = self.read_old(m, fld)
        rec = ch.send(self.owner, m.address, calldata(m.artifact, FIELDS[fld][0], attempted))
        self.record(m, "setter_reverted", {"market": m.address, "market_name": m.name, "field": fld,
                                           "setter": FIELDS[fld][0], "old": old, "attempted": attempted,
                                           "cap": FEE_CAP, "path": "direct", "actor": self.owner,
                                           "expected": expected_reverted()}, rec, ok=False)
        self.expect(m, fld, old)
        self.trades(m, 1)
        old_impl, new_impl = self._implementation(m), self.dep.get("bsc_impl_uncapped").address
        rec = ch.transact(self.owner, m.address, m.artifact, "upgradeToAndCall", new_impl, b"")
        self.record(m, "upgrade", {"market": m.address, "market_name": m.name, "old_implementation": old_impl,
                                   "new_implementation": new_impl, "event": "Upgraded(address)",
                                   "path": "direct", "actor": self.owner}, rec)
        if self._implementation(m) != new_impl:
            raise SimulatorError(f"{m.name}: the ERC-1967 slot does not hold {new_impl} after the upgrade")
        m.capped = False
        self.trades(m, 1)
        self.set_direct(m, fld, 12 * PCT)  # beyond the old cap
        self.trades(m, 2)

    def _implementation(self, m: Market) -> str:
        word = self.chains[m.chain].rpc("eth_getStorageAt", m.address, IMPLEMENTATION_SLOT, "latest")
        return Web3.to_checksum_address("0x" + str(word)[-40:])

    # ----- 7. the markets without events or cap -----

    def _uncapped_changes(self) -> None:
        for name, steps in (("twin_docs", (("protocolFeePercent", 5 * PCT), ("protocolFeePercent", 20 * PCT),
                                           ("subjectFeePercent", 4 * PCT))),
                            ("friendtech", (("subjectFeePercent", 10 * PCT), ("protocolFeePercent", 20 * PCT)))):
            m = self.markets[name]
            for fld, new in steps:
                self.set_direct(m, fld, new)
                self.trades(m, 2)

    # ----- 8. a change queued on the capped market without upgrade path, left pending -----

    def _queued_change(self) -> None:
        m = self.markets["twin_locked"]
        self.trades(m, 1)
        pending = self._schedule(m, "protocolFeePercent", FEE_CAP)
        if not self.chains[m.chain].call(m.owner, "DevTimelock", "isOperationPending", _b(pending["id"])):
            raise SimulatorError(f"timelock operation {pending['id']} is not pending after schedule")
        self.trades(m, 1)

    # ----- bulk -----

    def _send_bulk(self, key: str, chunks: list[Chunk]) -> int:
        ch, recorded = self.chains[key], 0
        automine = bool(ch.rpc("anvil_getAutomine"))
        ch.set_automine(False)
        try:
            for chunk in chunks:
                receipts = ch.send_many([tx for _m, tx, _i in chunk])
                for (m, _tx, intent), rec in zip(chunk, receipts, strict=True):
                    self.record(m, "trade", intent, rec)
                    recorded += 1
        finally:
            ch.set_automine(automine)
        return recorded


def _b(hex_str: str) -> bytes:
    return bytes.fromhex(hex_str.removeprefix("0x"))


__all__ = ["MarketScenario", "SimulatorError"]
