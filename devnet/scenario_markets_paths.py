"""The market scenario's own model of the markets, and the steps it repeats (devnet/scenario_markets.py).

`Market` is the simulator's bookkeeping for one market: its fee fields, twins (or friend.tech subjects),
supplies and balances, plus the curve arithmetic to price a trade. It is kept apart from the chain and
checked against it (`SimulatorError` when they disagree). `MarketsBase` holds the steps the scenario
repeats: read a getter, send and record a trade, change a field directly as the owner, describe a setter
change, and build the calls the owner contracts need (timelock operation ids, batcher calls).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from eth_abi import encode
from web3 import Web3

from devnet.chain import Chain, Receipt, calldata
from devnet.deploy import Deployment
from devnet.scenario_markets_expect import expected_change
from devnet.truth import Truth

E18 = 10**18
FEE_CAP = 5 * 10**16  # DigitalTwinSharesV1: each fee-percent setter reverts above 5 %
IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc"
ZERO32 = b"\x00" * 32
MARKETS = ("twin_eoa", "twin_timelock", "twin_multisig", "twin_batcher", "twin_docs", "friendtech",
           "twin_locked")
TWINFUN = "DigitalTwinSharesV1"
DIVISORS = {TWINFUN: 50_000_000, "TwinSharesDocs": 1_600_000, "FriendtechSharesV1": 16_000}
#: getter -> (setter, truth kind, the event DigitalTwinSharesV1 emits; the other variants emit none)
FIELDS: dict[str, tuple[str, str, str]] = {
    "protocolFeePercent": ("setProtocolFeePercent", "fee_set", "ProtocolFeePercentSet(uint256)"),
    "subjectFeePercent": ("setSubjectFeePercent", "fee_set", "SubjectFeePercentSet(uint256)"),
    "protocolFeeDestination": ("setFeeDestination", "fee_destination_set", "ProtocolFeeDestinationSet(address)"),
    "minSharesToCreate": ("setMinSharesToCreate", "min_shares_set", "MinSharesToCreateSet(uint256)"),
}
PERCENT_FIELDS = ("protocolFeePercent", "subjectFeePercent")
BULK_CHUNK = 100  # transactions per mined block in bulk mode (each ~100k gas, far below the block gas limit)
BULK_GAS = 400_000


class SimulatorError(RuntimeError):
    """The chain disagrees with what the scenario intended: a bug in the simulator, not in ogwatch."""


def _sum_of_squares(s: int) -> int:
    return 0 if s == 0 else (s - 1) * s * (2 * (s - 1) + 1) // 6


def curve_price(supply: int, amount: int, divisor: int) -> int:
    """BondingCurve.price: what `amount` shares bought at `supply` cost before fees."""
    return (_sum_of_squares(supply + amount) - _sum_of_squares(supply)) * E18 // divisor


def timelock_op_id(target: str, value: int, data: str, predecessor: bytes, salt: bytes) -> str:
    """TimelockController.hashOperation, computed locally."""
    raw = encode(["address", "uint256", "bytes", "bytes32", "bytes32"],
                 [target, value, bytes.fromhex(data[2:]), predecessor, salt])
    return "0x" + Web3.keccak(raw).hex().removeprefix("0x")


@dataclass
class Market:
    """The simulator's bookkeeping for one market (independent of the chain, checked against it)."""

    name: str
    chain: str
    address: str
    artifact: str
    owner: str        # an EOA or the owner contract
    owner_kind: str   # eoa | timelock | multisig | batcher
    capped: bool      # the implementation in place enforces the 5 % ceiling
    fields: dict[str, Any] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)          # twin ids (0x + 32 hex) or subject addresses
    supply: dict[str, int] = field(default_factory=dict)
    balance: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def emits_events(self) -> bool:
        """Whether the setters emit *Set events (only the BSC Twin.fun contract does)."""
        return self.artifact == TWINFUN

    @property
    def by_subject(self) -> bool:
        """friend.tech keys shares by subject address, Twin.fun by bytes16 twin id."""
        return self.artifact == "FriendtechSharesV1"

    def arg(self, key: str) -> Any:
        """The key as the contract's ABI takes it."""
        return key if self.by_subject else bytes.fromhex(key[2:])

    def cost(self, key: str, amount: int, supply: int | None = None) -> int:
        """What a buyer pays at the bookkept fees (price + protocol fee + subject fee)."""
        price = curve_price(self.supply.get(key, 0) if supply is None else supply, amount, DIVISORS[self.artifact])
        return price + sum(price * self.fields[f] // E18 for f in PERCENT_FIELDS)

    def payout(self, key: str, amount: int) -> int:
        """What a seller receives at the bookkept fees."""
        price = curve_price(self.supply[key] - amount, amount, DIVISORS[self.artifact])
        return price - sum(price * self.fields[f] // E18 for f in PERCENT_FIELDS)

    def trade_data(self, key: str, is_buy: bool, amount: int, min_payout: int = 0) -> str:
        """Call data of a buy or sell (the BSC sell takes a minimum payout)."""
        if is_buy:
            return calldata(self.artifact, "buyShares", self.arg(key), amount)
        extra = [min_payout] if self.artifact == TWINFUN else []
        return calldata(self.artifact, "sellShares", self.arg(key), amount, *extra)

    def apply(self, key: str, trader: str, is_buy: bool, amount: int) -> None:
        """Book a trade."""
        sign = 1 if is_buy else -1
        self.supply[key] = self.supply.get(key, 0) + sign * amount
        self.balance[(key, trader)] = self.balance.get((key, trader), 0) + sign * amount


Chunk = list[tuple[Market, dict[str, Any], dict[str, Any]]]  # bulk: one block's (market, raw tx, intent)


class MarketsBase:
    """Shared steps of the market scenario: reads, trades, direct setter calls, intents."""

    def __init__(self, chains: dict[str, Chain], dep: Deployment, truth: Truth, rng: random.Random):
        self.chains, self.dep, self.truth, self.rng = chains, dep, truth, rng
        self.acct = dep.accounts
        self.owner = dep.accounts["market_owner"]
        self.traders = [dep.accounts[k] for k in sorted(dep.accounts, key=_trader_index) if k.startswith("trader_")]
        self.markets: dict[str, Market] = {}
        for name in MARKETS:
            d = dep.get(name)
            if d.chain not in chains:
                raise SimulatorError(f"market {name} is on {d.chain}, which is not among the given chains")
            m = Market(name, d.chain, d.address, d.artifact, d.owner, d.owner_kind, capped=d.artifact == TWINFUN)
            m.fields = {f: self.read(m, f) for f in FIELDS if f != "minSharesToCreate" or m.emits_events}
            self.markets[name] = m

    # ----- chain reads -----

    def read(self, m: Market, getter: str, *args: Any, block: int | str = "latest") -> Any:
        """eth_call a market view (addresses come back checksummed)."""
        value = self.chains[m.chain].call(m.address, m.artifact, getter, *args, block=block)
        is_address = isinstance(value, str) and value.startswith("0x") and len(value) == 42
        return Web3.to_checksum_address(value) if is_address else value

    def expect(self, m: Market, getter: str, want: Any, *args: Any) -> None:
        """Raise SimulatorError unless the chain's view equals what the scenario intended."""
        got = self.read(m, getter, *args)
        if got != want:
            raise SimulatorError(f"{m.name}.{getter}{args or ''} is {got!r} on chain, the scenario expected {want!r}")

    def block_time(self, m: Market, block: int) -> int:
        """Timestamp of a block on the market's chain."""
        return int(self.chains[m.chain].rpc("eth_getBlockByNumber", hex(block), False)["timestamp"], 16)

    def record(self, m: Market, kind: str, intent: dict[str, Any], rec: Receipt, ok: bool = True) -> Receipt:
        """Write one ground-truth record for an action on market m."""
        return self.truth.record(self.chains[m.chain], kind, intent, rec, expect_success=ok)

    # ----- trades -----

    def pick(self, m: Market, sell_room: Callable[[str], int]) -> tuple[str, str, bool, int]:
        """A random (key, trader, is_buy, amount); a sell only when the trader holds shares and supply allows."""
        key, trader = self.rng.choice(m.keys), self.rng.choice(self.traders)
        room = min(m.balance.get((key, trader), 0), sell_room(key), 3)
        is_buy = room <= 0 or self.rng.random() < 0.6
        return key, trader, is_buy, self.rng.randint(1, 3) if is_buy else self.rng.randint(1, room)

    def trade_intent(self, m: Market, key: str, trader: str, is_buy: bool, amount: int, value: int,
                     path: str, **extra: Any) -> dict[str, Any]:
        """What a trade is meant to be, with the fee rates the contract should charge right then."""
        return {"market": m.address, "market_name": m.name, ("subject" if m.by_subject else "twin"): key,
                "trader": trader, "is_buy": is_buy, "amount": amount, "value": value,
                "protocol_fee_percent": m.fields["protocolFeePercent"],
                "subject_fee_percent": m.fields["subjectFeePercent"], "path": path, **extra}

    def trade(self, m: Market, path: str = "direct") -> Receipt:
        """One random buy or sell on m, priced with getBuyPriceAfterFee (checked against the bookkeeping)."""
        key, trader, is_buy, amount = self.pick(m, lambda k: m.supply[k] - 1)
        value, extra = 0, {}
        if is_buy:
            value = self.read(m, "getBuyPriceAfterFee", m.arg(key), amount)
            if value != m.cost(key, amount):
                raise SimulatorError(f"{m.name}: buy costs {value} on chain, bookkeeping says {m.cost(key, amount)}")
        elif m.artifact == TWINFUN:
            extra["min_payout"] = self.read(m, "getSellPriceAfterFee", m.arg(key), amount)
            if extra["min_payout"] != m.payout(key, amount):
                raise SimulatorError(f"{m.name}: sell pays {extra['min_payout']}, bookkeeping {m.payout(key, amount)}")
        data = m.trade_data(key, is_buy, amount, extra.get("min_payout", 0))
        rec = self.chains[m.chain].send(trader, m.address, data, value)
        self.record(m, "trade", self.trade_intent(m, key, trader, is_buy, amount, value, path, **extra), rec)
        m.apply(key, trader, is_buy, amount)  # only once the receipt is a success (record raises otherwise)
        return rec

    def trades(self, m: Market, n: int) -> None:
        """n random trades on m, one transaction (and block) each."""
        for _ in range(n):
            self.trade(m)

    def create(self, m: Market, key: str, creator: str) -> Receipt:
        """Create a twin (BSC), make the first buy (docs variant) or buy a subject's first share (friend.tech)."""
        ch, extra = self.chains[m.chain], {}
        if m.artifact == TWINFUN:
            amount = m.fields["minSharesToCreate"]
            value = self.read(m, "getBuyPriceAfterFee", m.arg(key), amount)
            extra["url"] = f"https://twin.fun/devnet/{key[2:10]}"
            data = calldata(m.artifact, "createDigitalTwin", m.arg(key), extra["url"])
        else:
            amount, value, data = 1, 0, m.trade_data(key, True, 1)
        if value != m.cost(key, amount):
            raise SimulatorError(f"{m.name}: creating {key} costs {value} on chain, bookkeeping {m.cost(key, amount)}")
        rec = ch.send(creator, m.address, data, value)
        self.record(m, "twin_create", self.trade_intent(m, key, creator, True, amount, value, "direct", **extra), rec)
        m.keys.append(key)
        m.apply(key, creator, True, amount)
        return rec

    # ----- setters -----

    def setter_intent(self, m: Market, fld: str, old: Any, new: Any, path: str, actor: str,
                      **extra: Any) -> dict[str, Any]:
        """What a setter change is meant to be: market, field, old (read before), new, path, actor."""
        setter, _kind, event = FIELDS[fld]
        percent = fld in PERCENT_FIELDS
        return {"market": m.address, "market_name": m.name, "field": fld, "setter": setter, "old": old, "new": new,
                "path": path, "actor": actor, "via": None if path == "direct" else m.owner,
                "emits_event": m.emits_events, "event": event if m.emits_events else None,
                "capped": m.capped and percent, "beyond_cap": percent and new > FEE_CAP,
                "expected": expected_change(m.emits_events), "undo": None, **extra}

    def read_old(self, m: Market, fld: str) -> Any:
        """The field's current value on chain, which must equal the bookkeeping (read before a change)."""
        old = self.read(m, fld)
        if old != m.fields[fld]:
            raise SimulatorError(f"{m.name}.{fld} is {old!r} on chain, the scenario booked {m.fields[fld]!r}")
        return old

    def applied(self, m: Market, fld: str, new: Any) -> None:
        """Book a change and check that the chain holds it."""
        m.fields[fld] = new
        self.expect(m, fld, new)

    def set_direct(self, m: Market, fld: str, new: Any, **extra: Any) -> Receipt:
        """The owner EOA calls a setter on the market itself (extra intent keys, e.g. undo, go to the record)."""
        if m.owner_kind != "eoa":
            raise SimulatorError(f"{m.name} is owned by a {m.owner_kind}, not an EOA")
        old = self.read_old(m, fld)
        rec = self.chains[m.chain].send(self.owner, m.address, calldata(m.artifact, FIELDS[fld][0], new))
        self.record(m, FIELDS[fld][1], self.setter_intent(m, fld, old, new, "direct", self.owner, **extra), rec)
        self.applied(m, fld, new)
        return rec

    def set_and_undo(self, m: Market, fld: str, there: Any) -> tuple[Receipt, Receipt]:
        """A->B->A: set a field, then at once set it back (two transactions, intent undo "there" then "back")."""
        back = self.read_old(m, fld)
        first = self.set_direct(m, fld, there, undo="there")
        return first, self.set_direct(m, fld, back, undo="back", undoes=first.tx_hash)

    def plan_bulk(self, n: int) -> dict[str, list[Chunk]]:
        """Choose n trades now (rng, bookkeeping), grouped per chain into blocks of at most BULK_CHUNK."""
        plans: dict[str, list[Chunk]] = {}
        start: dict[str, dict[tuple[str, str], int]] = {}   # per chain: supply at the start of its open chunk
        sold: dict[str, dict[tuple[str, str], int]] = {}
        bought: dict[str, dict[tuple[str, str], int]] = {}
        for _ in range(n):
            m = self.markets[self.rng.choice(MARKETS)]
            chunks = plans.setdefault(m.chain, [[]])
            if len(chunks[-1]) >= BULK_CHUNK:
                price_chunk(chunks[-1], start[m.chain], bought[m.chain])
                chunks.append([])
            if not chunks[-1]:
                start[m.chain], sold[m.chain], bought[m.chain] = {}, {}, {}
            for k in m.keys:
                start[m.chain].setdefault((m.name, k), m.supply[k])
            key, trader, is_buy, amount = self.pick(m, partial(_block_sell_room, start[m.chain], sold[m.chain], m.name))
            counter = bought[m.chain] if is_buy else sold[m.chain]
            counter[(m.name, key)] = counter.get((m.name, key), 0) + amount
            tx = {"from": trader, "to": m.address, "data": m.trade_data(key, is_buy, amount), "value": hex(0),
                  "gas": hex(BULK_GAS)}
            chunks[-1].append((m, tx, self.trade_intent(m, key, trader, is_buy, amount, 0, "bulk")))
            m.apply(key, trader, is_buy, amount)
        for chain, chunks in plans.items():
            price_chunk(chunks[-1], start[chain], bought[chain])
        return plans

    def new_twin_id(self) -> str:
        """A fresh non-zero bytes16 twin id from the scenario's rng."""
        return "0x" + f"{self.rng.getrandbits(128) | 1:032x}"


def price_chunk(chunk: Chunk, start: dict[tuple[str, str], int], bought: dict[tuple[str, str], int]) -> None:
    """Each buy sends the price at the highest supply its block can reach (the excess is refunded)."""
    for m, tx, intent in chunk:
        if intent["is_buy"]:
            key = intent["subject" if m.by_subject else "twin"]
            top = start[(m.name, key)] + bought.get((m.name, key), 0) - intent["amount"]
            intent["value"] = m.cost(key, intent["amount"], supply=top)
            tx["value"] = hex(intent["value"])


def _block_sell_room(start: dict[tuple[str, str], int], sold: dict[tuple[str, str], int], market: str, key: str) -> int:
    """Shares still sellable in a block whatever the order of its transactions (all its sells may run first)."""
    return start[(market, key)] - sold.get((market, key), 0) - 1


def _trader_index(role: str) -> int:
    return int(role.split("_")[1]) if role.startswith("trader_") else -1
