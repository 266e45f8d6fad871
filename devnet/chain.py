"""Sending transactions to a devnet node and reading what the receipts say.

Transactions go out as raw JSON-RPC `eth_sendTransaction` from anvil's unlocked accounts (web3 8's
batch API refuses sends). One at a time with automine for scripted steps; in bulk, automine is off,
nonces are explicit and a batch of sends is followed by one `evm_mine`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from eth_abi import encode
from web3 import Web3

from devnet import nodes
from devnet.contracts_info import load_artifact


@dataclass(frozen=True)
class Receipt:
    """What the node says happened to one transaction (never decoded by ogwatch)."""

    tx_hash: str
    block_number: int
    block_hash: str
    status: int
    logs: tuple[dict[str, Any], ...]
    contract_address: str | None = None

    @classmethod
    def from_rpc(cls, r: dict[str, Any]) -> Receipt:
        """Build from an `eth_getTransactionReceipt` answer."""
        logs = tuple({"log_index": int(lg["logIndex"], 16), "address": Web3.to_checksum_address(lg["address"]),
                      "topic0": lg["topics"][0] if lg["topics"] else None} for lg in r["logs"])
        created = r.get("contractAddress")
        return cls(r["transactionHash"], int(r["blockNumber"], 16), r["blockHash"], int(r["status"], 16), logs,
                   Web3.to_checksum_address(created) if created else None)

    def log_refs(self) -> list[dict[str, Any]]:
        """(log index, emitter, topic0) of every log, for the ground truth."""
        return [dict(lg) for lg in self.logs]


@cache
def _iface(name: str) -> Any:
    return Web3().eth.contract(abi=load_artifact(name)["abi"])


def calldata(artifact: str, fn: str, *args: Any) -> str:
    """ABI-encode a function call of a devnet contract."""
    return str(_iface(artifact).encode_abi(fn, args=list(args)))


def decode_output(artifact: str, fn: str, data: str) -> Any:
    """Decode a call's return data."""
    f = _iface(artifact).get_function_by_name(fn)
    types = [_abi_type(o) for o in f.abi["outputs"]]
    from eth_abi import decode

    out = decode(types, bytes.fromhex(data[2:]))
    return out[0] if len(out) == 1 else out


def _abi_type(o: dict[str, Any]) -> str:
    """The canonical type of an ABI parameter, tuples (and arrays of them) expanded."""
    if not o["type"].startswith("tuple"):
        return str(o["type"])
    inner = ",".join(_abi_type(c) for c in o["components"])
    return f"({inner})" + o["type"][len("tuple"):]


def constructor_data(artifact: str, *args: Any) -> str:
    """Creation bytecode with ABI-encoded constructor arguments."""
    art = load_artifact(artifact)
    ctor = next((e for e in art["abi"] if e["type"] == "constructor"), None)
    tail = b""
    if ctor and ctor["inputs"]:
        tail = encode([_abi_type(i) for i in ctor["inputs"]], list(args))
    return str(art["bytecode"]) + tail.hex()


@dataclass
class Chain:
    """One devnet node as the simulator uses it: accounts, sends, calls, time."""

    key: str
    chain_id: int
    url: str
    accounts: list[str] = field(default_factory=list)
    # Called with every receipt `send` returns while set (deployment records itself in the ground truth).
    recorder: Callable[[Chain, Receipt, dict[str, Any]], object] | None = None

    def __post_init__(self) -> None:
        if not self.accounts:
            self.accounts = [Web3.to_checksum_address(a) for a in self.rpc("eth_accounts")]

    def rpc(self, method: str, *params: Any) -> Any:
        """One JSON-RPC call to the node."""
        return nodes.rpc(self.url, method, list(params))

    def send(self, sender: str, to: str | None, data: str = "0x", value: int = 0, gas: int = 6_000_000) -> Receipt:
        """Send one transaction and return its receipt (automine); reverts come back with status 0.

        Gas is fixed (not estimated) so that a transaction meant to revert is still mined.
        """
        tx: dict[str, Any] = {"from": sender, "data": data, "value": hex(value), "gas": hex(gas)}
        if to:
            tx["to"] = to
        rec = self.receipt(self.rpc("eth_sendTransaction", tx))
        if self.recorder is not None:
            self.recorder(self, rec, {"to": to, "selector": data[:10]})
        return rec

    def receipt(self, tx_hash: str, wait_s: float = 10.0) -> Receipt:
        """The receipt of a transaction, waiting briefly (anvil answers the send before it has mined)."""
        deadline = time.monotonic() + wait_s
        while (r := self.rpc("eth_getTransactionReceipt", tx_hash)) is None:
            if time.monotonic() > deadline:
                raise nodes.DevnetError(f"{self.key}: no receipt for {tx_hash} after {wait_s:g} s (not mined)")
            time.sleep(0.005)
        return Receipt.from_rpc(r)

    def deploy(self, sender: str, artifact: str, *args: Any) -> str:
        """Deploy a devnet contract; returns its checksummed address."""
        rec = self.send(sender, None, constructor_data(artifact, *args), gas=15_000_000)
        if rec.status != 1 or not rec.contract_address:
            raise nodes.DevnetError(f"{self.key}: deploying {artifact} failed in {rec.tx_hash}")
        return rec.contract_address

    def transact(self, sender: str, to: str, artifact: str, fn: str, *args: Any, value: int = 0) -> Receipt:
        """Call a contract function in a transaction."""
        return self.send(sender, to, calldata(artifact, fn, *args), value)

    def call(self, to: str, artifact: str, fn: str, *args: Any, block: int | str = "latest",
             sender: str | None = None) -> Any:
        """eth_call a view and decode its output."""
        tx = {"to": to, "data": calldata(artifact, fn, *args)} | ({"from": sender} if sender else {})
        return decode_output(artifact, fn, self.rpc("eth_call", tx, block if isinstance(block, str) else hex(block)))

    def head(self) -> dict[str, Any]:
        """The latest block header."""
        return dict(self.rpc("eth_getBlockByNumber", "latest", False))

    def timestamp(self) -> int:
        """The latest block's timestamp."""
        return int(self.head()["timestamp"], 16)

    def advance_time(self, seconds: int) -> None:
        """Move the chain clock forward and mine a block there."""
        self.rpc("evm_increaseTime", hex(seconds))
        self.rpc("evm_mine")

    def set_next_timestamp(self, ts: int) -> None:
        """Fix the timestamp of the next block."""
        self.rpc("evm_setNextBlockTimestamp", hex(ts))

    def set_automine(self, on: bool) -> None:
        """Mine on every transaction (scripted steps) or only on `mine_pending` (bulk)."""
        self.rpc("evm_setAutomine", on)

    def send_many(self, txs: list[dict[str, Any]]) -> list[Receipt]:
        """Bulk: send transactions with explicit nonces in one HTTP batch, mine once, read receipts."""
        nonces: dict[str, int] = {}
        for tx in txs:
            s = tx["from"]
            if s not in nonces:
                nonces[s] = int(self.rpc("eth_getTransactionCount", s, "pending"), 16)
            tx.setdefault("gas", hex(3_000_000))
            tx["nonce"] = hex(nonces[s])
            nonces[s] += 1
        hashes = [str(h) for h in nodes.rpc_batch(self.url, [("eth_sendTransaction", [tx]) for tx in txs])]
        self.rpc("evm_mine")
        receipts = nodes.rpc_batch(self.url, [("eth_getTransactionReceipt", [h]) for h in hashes])
        return [Receipt.from_rpc(r) for r in receipts]
